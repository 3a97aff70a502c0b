"""Date normalization with attention (Deep Learning from Scratch 2, ch. 8), multilingual.

    python examples/dates.py               # ~5 min on CPU
    python examples/dates.py --smoke

Trains Luong attention on dates written in 10 languages' CLDR formats, prints
test exact match, and saves attention heatmaps to dates_attention.png.
"""

import argparse

from keras_s2s import runs


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--run-dir", default="runs/dates")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    overrides = dict(epochs=args.epochs)
    if args.smoke:
        overrides.update(epochs=1, units=16, embedding_dim=8, max_train_examples=300, max_eval_examples=30)
    config = runs.task_config("dates", **overrides)
    metrics = runs.train(config, args.run_dir, verbose=0 if args.smoke else 1)
    print(f"test exact match: {metrics['test']['exact_match']:.2%}")
    run = runs.Run.load(args.run_dir)
    examples = ["12. Dezember 2036", "vendredi 14 juin 1963", "Sep 3, 1999", "8 sierpnia 2029"]
    for text, out in zip(examples, run.translate(examples)):
        print(f"{text!r:28} -> {out}")
    runs.plot_attention(run, examples, f"{args.run_dir}/dates_attention.png")
    return metrics


if __name__ == "__main__":
    main()
