"""Training runs over float-feature sources: Morse-code audio to text.

`keras-s2s train morse` and `examples/morse_stt.py` call `train_morse`, which
writes a run directory:

    config.json            the settings (task "morse") and max_length
    model.keras            the trained model
    target_tokenizer.json  letters (sources are frames: no source tokenizer)
    target_vocab.txt
    history.csv            per-epoch losses (keras CSVLogger)
    metrics.json           CER / WER per test noise level, greedy and beam 4
    attention.png          log-mel frames and attention of three test words

`keras-s2s evaluate` and `keras-s2s export` read it back (`load_morse_run`).
"""

import json
import pathlib
import time

import keras
import numpy as np

from keras_s2s import _checks
from keras_s2s.data import compile_padding, make_feature_dataset
from keras_s2s.datasets import morse
from keras_s2s.evaluation import g2p_error_rates
from keras_s2s.inference import build_inference_model
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy
from keras_s2s.models import build_seq2seq, load_model
from keras_s2s.text import CharTokenizer, load_tokenizer

MAX_LETTERS = 6
MAX_LENGTH = MAX_LETTERS + 4  # letters + EOS, with room to spare


def error_rates(predictions, references):
    """Character and word error rates (`tf.edit_distance`, through
    `g2p_error_rates` on letters joined by spaces: its PER is the CER).

    Returns:
        A dict: `cer`, `wer` (floats in [0, ...)), `words` (int).
    """
    rates = g2p_error_rates([" ".join(p) for p in predictions], [[" ".join(r)] for r in references])
    return {"cer": rates["per"], "wer": rates["wer"], "words": rates["words"]}


def transcribe(generator, letters, features, *, batch_size=256, **options):
    """Texts for a list of `[S_i, F]` frame arrays (options go to `generate`)."""
    texts = []
    for start in range(0, len(features), batch_size):
        batch, _ = morse.pad_frames(features[start : start + batch_size])
        ids = generator.generate(batch, max_length=MAX_LENGTH, **options)["ids"][:, 0]
        texts.extend(t.decode() for t in letters.decode(ids).numpy())
    return texts


def evaluate(generator, letters, splits):
    """CER/WER of every `test_*` split, greedy and beam 4."""
    results = {}
    for name, split in splits.items():
        if name.startswith("test_"):
            results[name] = {
                "greedy": error_rates(transcribe(generator, letters, split.features), split.texts),
                "beam4": error_rates(transcribe(generator, letters, split.features,
                                                strategy="beam", num_beams=4), split.texts),
            }
    return results


def plot_alignment(generator, letters, split, path, count=3):
    """Saves log-mel frames (top) and attention over memory steps (bottom)
    of the first `count` examples of `split` to `path` (PNG, matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    features, lengths = split.head(count).padded()
    out = generator.generate(features, max_length=MAX_LENGTH)
    reduction = getattr(generator.encoder_layer, "time_reduction", 1)
    fig, axes = plt.subplots(2, count, figsize=(5 * count, 5), squeeze=False,
                             gridspec_kw={"height_ratios": [1, 1.4]})
    for i in range(count):
        n_letters = max(1, int(out["lengths"][i, 0]) - 1)  # without EOS
        steps = -(-int(lengths[i]) // reduction)
        decoded = letters.decode(out["ids"][i : i + 1, 0]).numpy()[0].decode()
        axes[0, i].imshow(features[i, : lengths[i]].T, aspect="auto", origin="lower")
        axes[0, i].set_title(f"{split.texts[i]!r} at {split.snr_db[i]:g} dB: log-mel")
        axes[1, i].imshow(out["attention"][i, 0, :n_letters, :steps], aspect="auto",
                          interpolation="nearest")
        axes[1, i].set_yticks(range(len(decoded[:n_letters])), list(decoded[:n_letters]))
        axes[1, i].set_xlabel(f"memory step ({reduction} frames = {20 * reduction} ms each)")
        axes[1, i].set_title(f"attention, decoded {decoded!r}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def train_morse(run_dir, *, examples=20000, epochs=12, units=128, num_test=500, seed=0,
                verbose=1):
    """Trains and evaluates Morse-audio-to-text and writes a run directory.

    Data: `keras_s2s.datasets.morse_audio(examples, num_test, seed=seed)`
    (train SNR 5-25 dB, test words unseen, test at 10 and 20 dB). Model:
    `build_seq2seq(None, V, num_features=20, units=units, bidirectional=True,
    num_layers=2, pyramid_layers=1, normalize_features=True,
    attention="luong_general", dropout=0.1)`, Adam with cosine decay from
    3e-3, batches of 64.

    Args:
        run_dir: str or path, created if needed.
        examples: positive int, training words. Defaults to 20000.
        epochs: positive int. Defaults to 12.
        units: positive int, decoder units (the encoder has `units // 2` per
            direction). Defaults to 128.
        num_test: positive int, dev and test words per noise level.
            Defaults to 500.
        seed: int >= 0. Defaults to 0.
        verbose: Keras `fit` verbosity. Defaults to 1.

    Returns:
        The metrics dict written to metrics.json.
    """
    examples = _checks.positive_int("examples", examples)
    epochs = _checks.positive_int("epochs", epochs)
    units = _checks.positive_int("units", units)
    seed = _checks.non_negative_int("seed", seed)
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    letters = CharTokenizer(sorted(morse.MORSE))
    start = time.perf_counter()
    splits = morse.morse_audio(examples, num_test, seed=seed, max_letters=MAX_LETTERS)
    data_seconds = time.perf_counter() - start

    keras.utils.set_random_seed(seed)
    model = build_seq2seq(
        None, letters.vocabulary_size, num_features=morse.NUM_MEL_BINS, embedding_dim=32,
        units=units, bidirectional=True, num_layers=2, pyramid_layers=1,
        normalize_features=True, attention="luong_general", dropout=0.1)
    model.get_layer("encoder").adapt(splits["train"].features)
    train = make_feature_dataset(splits["train"].features, splits["train"].texts, letters,
                                 batch_size=64, seed=seed, pad_to_multiple_of=compile_padding())
    dev = make_feature_dataset(splits["dev"].features, splits["dev"].texts, letters,
                               batch_size=256, shuffle=False, pad_to_multiple_of=compile_padding())
    decay_steps = -(-examples // 64) * epochs
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps, alpha=0.05)
    model.compile(keras.optimizers.Adam(schedule, clipnorm=5.0),
                  MaskedSparseCategoricalCrossentropy(), metrics=[MaskedAccuracy()])
    start = time.perf_counter()
    history = model.fit(train, validation_data=dev, epochs=epochs, verbose=verbose,
                        callbacks=[keras.callbacks.CSVLogger(str(run_dir / "history.csv"))])
    train_seconds = time.perf_counter() - start

    model.save(run_dir / "model.keras")
    letters.save(run_dir / "target_tokenizer.json")
    letters.save_vocabulary(run_dir / "target_vocab.txt")
    config = {"task": "morse", "examples": examples, "epochs": epochs, "units": units,
              "num_test": num_test, "seed": seed}
    (run_dir / "config.json").write_text(json.dumps({"train": config, "max_length": MAX_LENGTH},
                                                    indent=2))
    generator = build_inference_model(model)
    plot_alignment(generator, letters, splits["test_10db"], run_dir / "attention.png")
    metrics = {
        **config, "parameters": model.count_params(), "data_seconds": round(data_seconds, 1),
        "train_seconds": round(train_seconds, 1),
        "mean_frames": float(np.mean([len(f) for f in splits["train"].features])),
        "final_loss": history.history["loss"][-1],
        "final_val_loss": history.history["val_loss"][-1],
        "results": evaluate(generator, letters, splits),
    }
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def load_morse_run(run_dir):
    """`(model, target_tokenizer, stored config)` of a run written by
    `train_morse` (safe-mode model load, tokenizer size checked).

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: damaged files, or a tokenizer that does not match the model.
    """
    from keras_s2s.runs import read_json

    run_dir = pathlib.Path(run_dir)
    stored = read_json(run_dir / "config.json")
    letters = load_tokenizer(run_dir / "target_tokenizer.json")
    model = load_model(run_dir / "model.keras")
    build_inference_model(model).check_tokenizers(None, letters)
    return model, letters, stored


def evaluate_morse_run(run_dir):
    """Scores a run written by `train_morse` on its test splits, rendered
    again from the stored settings (deterministic; training audio is not
    rendered). Returns `evaluate`'s dict."""
    model, letters, stored = load_morse_run(run_dir)
    config = stored.get("train", {})
    names = [f"test_{level:g}db" for level in (10.0, 20.0)]
    splits = morse.morse_audio(config["examples"], config["num_test"], seed=config["seed"],
                               max_letters=MAX_LETTERS, splits=names)
    return evaluate(build_inference_model(model), letters, splits)


def is_morse_run(run_dir):
    """Whether `run_dir/config.json` names the task "morse" (False when it
    cannot be read: the text-run loader then reports why)."""
    from keras_s2s.runs import read_json

    try:
        stored = read_json(pathlib.Path(run_dir) / "config.json")
    except (OSError, ValueError):
        return False
    return (isinstance(stored, dict) and isinstance(stored.get("train"), dict)
            and stored["train"].get("task") == "morse")
