"""Morse-code audio to text: a float-feature (speech-like) source end to end.

    python examples/morse_stt.py                 # see BENCHMARKS.md for time and figures
    python examples/morse_stt.py --smoke         # seconds

Data: `keras_s2s.datasets.morse_audio()` keys CMUdict words as tones (12-25
wpm, 500-900 Hz, timing jitter) in white noise and computes log-mel frames
with `tf.signal`; test words are unseen in training. Model: a pyramidal
bidirectional `FeatureEncoder` (Listen, Attend and Spell's time halving) with
feature normalization, and an attention decoder over letters. Metrics: CER
and WER (`tf.edit_distance`) on held-out words at 10 and 20 dB SNR, an
attention heatmap from audio frames to letters, and a SavedModel whose
`serving_default` takes `source_features` + `lengths` and returns text.
"""

import argparse
import json
import pathlib
import time

import keras
import numpy as np

import keras_s2s
from keras_s2s.data import make_feature_dataset
from keras_s2s.datasets import morse
from keras_s2s.evaluation import g2p_error_rates
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy
from keras_s2s.text import CharTokenizer

LETTERS = CharTokenizer(sorted(morse.MORSE))


def error_rates(predictions, references):
    """CER and WER: the G2P definitions over letters (`g2p_error_rates` on
    letters joined by spaces: its PER is the character error rate)."""
    rates = g2p_error_rates([" ".join(p) for p in predictions], [[" ".join(r)] for r in references])
    return {"cer": rates["per"], "wer": rates["wer"], "words": rates["words"]}


def transcribe(generator, split, batch_size=256, **options):
    texts = []
    for start in range(0, len(split), batch_size):
        features, _ = morse.pad_frames(split.features[start : start + batch_size])
        ids = generator.generate(features, max_length=10, **options)["ids"][:, 0]
        texts.extend(t.decode() for t in LETTERS.decode(ids).numpy())
    return texts


def plot_alignment(generator, split, path, count=3):
    """Attention heatmaps (memory steps x letters) over the log-mel frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features, lengths = split.head(count).padded()
    out = generator.generate(features, max_length=10)
    fig, axes = plt.subplots(2, count, figsize=(5 * count, 5), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1.4]})
    reduction = generator.encoder_layer.time_reduction
    for i in range(count):
        n_letters = int(out["lengths"][i, 0]) - 1  # without EOS
        steps = -(-int(lengths[i]) // reduction)
        letters = LETTERS.decode(out["ids"][i : i + 1, 0]).numpy()[0].decode()
        axes[0, i].imshow(features[i, : lengths[i]].T, aspect="auto", origin="lower")
        axes[0, i].set_title(f"{split.texts[i]!r} at {split.snr_db[i]:g} dB: log-mel")
        axes[1, i].imshow(out["attention"][i, 0, :n_letters, :steps], aspect="auto",
                          cmap="viridis", interpolation="nearest")
        axes[1, i].set_yticks(range(n_letters), list(letters[:n_letters]))
        axes[1, i].set_xlabel(f"memory step ({reduction} frames = {20 * reduction} ms each)")
        axes[1, i].set_title(f"attention, decoded {letters!r}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--out", default="morse_run", help="folder for the report, plot and SavedModel")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    examples, epochs, units, num_test = args.examples, args.epochs, args.units, 500
    if args.smoke:
        examples, epochs, units, num_test = 128, 1, 16, 16

    start = time.perf_counter()
    splits = morse.morse_audio(examples, num_test, seed=0)
    data_seconds = time.perf_counter() - start
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_seq2seq(
        None, LETTERS.vocabulary_size, num_features=morse.NUM_MEL_BINS, embedding_dim=32,
        units=units, bidirectional=True, num_layers=2, pyramid_layers=1,
        normalize_features=True, attention="luong_general", dropout=0.1)
    model.get_layer("encoder").adapt(splits["train"].features)
    steps_per_epoch = -(-examples // 64)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, steps_per_epoch * epochs, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule, clipnorm=5.0),
                  MaskedSparseCategoricalCrossentropy(), metrics=[MaskedAccuracy()])
    train = make_feature_dataset(splits["train"].features, splits["train"].texts, LETTERS,
                                 batch_size=64)
    dev = make_feature_dataset(splits["dev"].features, splits["dev"].texts, LETTERS,
                               batch_size=256, shuffle=False)
    start = time.perf_counter()
    history = model.fit(train, validation_data=dev, epochs=epochs, verbose=0 if args.smoke else 2)
    train_seconds = time.perf_counter() - start

    generator = keras_s2s.build_inference_model(model)
    results = {}
    for name, split in splits.items():
        if name.startswith("test_"):
            results[name] = {
                "greedy": error_rates(transcribe(generator, split), split.texts),
                "beam4": error_rates(transcribe(generator, split, strategy="beam", num_beams=4),
                                     split.texts),
            }
            print(f"{name}: greedy CER {results[name]['greedy']['cer']:.2%} "
                  f"WER {results[name]['greedy']['wer']:.2%}; beam 4 CER "
                  f"{results[name]['beam4']['cer']:.2%} WER {results[name]['beam4']['wer']:.2%}")
    plot_alignment(generator, splits["test_10db"], out / "morse_attention.png")
    saved = keras_s2s.export_saved_model(generator, out / "saved_model", max_length=10,
                                         target_tokenizer=LETTERS)
    report = {
        "command": "python examples/morse_stt.py" + (" --smoke" if args.smoke else
                                                      f" --examples {examples} --epochs {epochs}"),
        "train_examples": examples, "epochs": epochs, "units": units,
        "parameters": model.count_params(),
        "data_seconds": round(data_seconds, 1), "train_seconds": round(train_seconds, 1),
        "mean_frames": float(np.mean([len(f) for f in splits["train"].features])),
        "final_loss": history.history["loss"][-1], "final_val_loss": history.history["val_loss"][-1],
        "results": results, "saved_model": saved,
    }
    (out / "morse.json").write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
