"""Morse-code audio to text: a float-feature (speech-like) source end to end.

    python examples/morse_stt.py                 # ~25 min on a 2-core CPU (BENCHMARKS.md)
    python examples/morse_stt.py --smoke         # seconds

Data: `keras_s2s.datasets.morse_audio()` keys CMUdict words as tones (12-25
wpm, 500-900 Hz, timing jitter) in white noise and computes log-mel frames
with `tf.signal`; test words are unseen in training. Model: a pyramidal
bidirectional `FeatureEncoder` (Listen, Attend and Spell's time halving) with
feature normalization, and an attention decoder over letters: the registered
task `morse` (`keras_s2s.runs.TASKS["morse"]`, what `keras-s2s train morse`
runs), trained by the one `keras_s2s.runs.train` every task uses. Metrics: CER
and WER (`tf.edit_distance`) on held-out words at 10 and 20 dB SNR; an
attention heatmap from audio frames to letters; a SavedModel whose
`serving_default` takes `source_features` + `lengths` and returns text.
"""

import argparse
import pathlib

import keras_s2s
from keras_s2s import runs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--out", default="runs/morse", help="the run directory")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    options = dict(max_train_examples=args.examples, epochs=args.epochs, units=args.units)
    if args.smoke:
        options = dict(max_train_examples=128, epochs=1, units=16, max_eval_examples=16)
    config = runs.task_config("morse", **options)  # beam search (4 beams) in the final evaluation
    metrics = runs.train(config, args.out, verbose=0 if args.smoke else 2)
    run = runs.Run.load(args.out)
    splits = runs.load_splits(config, names=run.task.test_splits)
    results = {}
    for name, split in splits.items():
        greedy, _ = run.evaluate(split, num_beams=1)
        results[name] = {"greedy": greedy, "beam4": metrics[name]}
        print(f"{name}: greedy CER {greedy['cer']:.2%} WER {greedy['wer']:.2%}; "
              f"beam 4 CER {metrics[name]['cer']:.2%} WER {metrics[name]['wer']:.2%}")

    # Serve it: frames + lengths in, text out.
    path = keras_s2s.export_saved_model(run.generator, pathlib.Path(args.out) / "saved_model",
                                        max_length=run.max_length, target_tokenizer=run.target_tokenizer)
    print(f"SavedModel: {path}")
    return {**metrics, "examples": config.max_train_examples, "epochs": config.epochs, "results": results}


if __name__ == "__main__":
    main()
