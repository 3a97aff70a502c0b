"""DLFS2 ch. 8 dates: attention (Bahdanau, Luong) vs baseline vs peeky, the book's setup.

Hidden 256, word vectors 16, batch 128, 10 epochs, Adam 1e-3, gradient clipping 5.0 (global norm), reversed
input; greedy test exact match after each epoch. The data are `keras_s2s.datasets.dates()`:
dates in 10 languages' CLDR formats (the book's file is mostly English), 45,000 / 5,000.

    python benchmarks/dlfs2_dates.py             # ~45 min on a 2-core CPU
    python benchmarks/dlfs2_dates.py --locales en_US --variants luong bahdanau   # English only, as the book
    python benchmarks/dlfs2_dates.py --smoke     # seconds (CI)

Reruns of the official code (attention): 99.90% at epoch 3, 99.96% at epoch 10.
"""

import argparse

from _curves import accuracy_curves, save

from keras_s2s import datasets
from keras_s2s.text import CharTokenizer

VARIANTS = {
    "baseline": dict(bidirectional=False, reverse_source=True),
    "peeky": dict(bidirectional=False, reverse_source=True, peeky=True),
    "bahdanau": dict(bidirectional=False, reverse_source=True, attention="bahdanau"),
    "luong": dict(bidirectional=False, reverse_source=True, attention="luong"),
    # What the ablation (benchmarks/dlfs2_ablation.py) found: the book's plain affine attentional layer,
    # and no source reversal (attention aligns the dates in reading order).
    "bahdanau_linear": dict(bidirectional=False, attention="bahdanau", attention_activation=None),
    "luong_linear": dict(bidirectional=False, attention="luong", attention_activation=None),
}
DEFAULT_VARIANTS = ["baseline", "peeky", "bahdanau", "luong"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=DEFAULT_VARIANTS)
    parser.add_argument("--locales", nargs="+", choices=datasets.DATE_LOCALES, default=list(datasets.DATE_LOCALES))
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args(argv)
    data = datasets.dates(locales=tuple(args.locales))
    train, test = data["train"], data["test"]
    epochs, units = args.epochs, 256
    if args.smoke:  # two variants unless named: an attention decoder and one without
        train, test, epochs, units = train.head(256), test.head(32), 1, 32
        if args.variants == DEFAULT_VARIANTS:
            args.variants = ["peeky", "luong"]
    tokenizer = CharTokenizer.from_texts(train.sources + train.targets)
    variants = {name: VARIANTS[name] for name in args.variants}
    results = accuracy_curves(variants, train, test, tokenizer, embedding_dim=16, units=units, batch_size=128,
                              epochs=epochs, learning_rate=1e-3, global_clipnorm=5.0, max_length=11)
    command = "python benchmarks/dlfs2_dates.py" + (" --smoke" if args.smoke else "")
    if args.variants != DEFAULT_VARIANTS:
        command += " --variants " + " ".join(args.variants)
    name, title = "dlfs2_dates", "DLFS2 ch. 8: dates (10 languages)"
    if args.locales != list(datasets.DATE_LOCALES):
        command += " --locales " + " ".join(args.locales)
        name, title = "dlfs2_dates_" + "_".join(args.locales), "DLFS2 ch. 8: dates (" + ", ".join(args.locales) + ")"
    if args.epochs != 10:
        command += f" --epochs {args.epochs}"
    report = {"command": command, "locales": args.locales,
              "book_attention": {"epoch_3": 0.999, "epoch_10": 0.9996}, "results": results}
    return save(name, report, title, smoke=args.smoke, merge=True)


if __name__ == "__main__":
    main()
