"""Morse-code audio to text: a float-feature (speech-like) source end to end.

    python examples/morse_stt.py                 # ~25 min on a 2-core CPU (BENCHMARKS.md)
    python examples/morse_stt.py --smoke         # seconds

Data: `keras_s2s.datasets.morse_audio()` keys CMUdict words as tones (12-25
wpm, 500-900 Hz, timing jitter) in white noise and computes log-mel frames
with `tf.signal`; test words are unseen in training. Model: a pyramidal
bidirectional `FeatureEncoder` (Listen, Attend and Spell's time halving) with
feature normalization, and an attention decoder over letters
(`keras_s2s.feature_runs.train_morse`, which `keras-s2s train morse` runs
too). Metrics: CER and WER (`tf.edit_distance`) on held-out words at 10 and
20 dB SNR; an attention heatmap from audio frames to letters; a SavedModel
whose `serving_default` takes `source_features` + `lengths` and returns text.
"""

import argparse
import pathlib

import keras_s2s
from keras_s2s import feature_runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--out", default="runs/morse", help="the run directory")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    options = dict(examples=args.examples, epochs=args.epochs, units=args.units)
    if args.smoke:
        options = dict(examples=128, epochs=1, units=16, num_test=16)
    metrics = feature_runs.train_morse(args.out, verbose=0 if args.smoke else 2, **options)
    for name, result in metrics["results"].items():
        print(f"{name}: greedy CER {result['greedy']['cer']:.2%} WER {result['greedy']['wer']:.2%}; "
              f"beam 4 CER {result['beam4']['cer']:.2%} WER {result['beam4']['wer']:.2%}")

    # Serve it: frames + lengths in, text out.
    model, letters, stored = feature_runs.load_morse_run(args.out)
    generator = keras_s2s.build_inference_model(model)
    path = keras_s2s.export_saved_model(generator, pathlib.Path(args.out) / "saved_model",
                                        max_length=stored["max_length"], target_tokenizer=letters)
    print(f"SavedModel: {path}")
    return metrics


if __name__ == "__main__":
    main()
