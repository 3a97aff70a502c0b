"""Why does our attention start slower than the book's on English dates? One change per variant, 3 epochs.

The book's setup (DLFS2 ch. 8): hidden 256, word vectors 16, batch 128, Adam 1e-3, global-norm clip 5,
reversed source, dot attention whose output layer is a plain affine map of [c; h]. Our default
attentional layer is Luong's tanh(W_c [c; h]) (eq. 5).

    python benchmarks/dlfs2_ablation.py            # ~12 min on a 2-core CPU
    python benchmarks/dlfs2_ablation.py --smoke    # seconds (CI)

Variants:
- luong_tanh: our default (dot attention, tanh attentional layer, masked padding, h and c from the encoder);
- luong_linear: the book's plain affine attentional layer (`attention_activation=None`);
- luong_linear_forward: the same without source reversal;
- luong_tanh_forward: our tanh layer without source reversal.
Not yet expressible as options, so not in the table: the book's initialization (scaled normal, zero
bias, N(0, 0.01) embeddings), a decoder started from h only, and unmasked space padding.
"""

import argparse

from _curves import accuracy_curves, save

from keras_s2s import datasets
from keras_s2s.text import CharTokenizer

VARIANTS = {
    "luong_tanh": dict(reverse_source=True, attention="luong"),
    "luong_linear": dict(reverse_source=True, attention="luong", attention_activation=None),
    "luong_linear_forward": dict(reverse_source=False, attention="luong", attention_activation=None),
    "luong_tanh_forward": dict(reverse_source=False, attention="luong"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args = parser.parse_args(argv)
    data = datasets.dates(locales=("en_US",))
    train, test, epochs, units = data["train"], data["test"], args.epochs, 256
    if args.smoke:
        train, test, epochs, units = train.head(256), test.head(32), 1, 32
    tokenizer = CharTokenizer.from_texts(train.sources + train.targets)
    variants = {name: VARIANTS[name] for name in args.variants}
    results = accuracy_curves(variants, train, test, tokenizer, embedding_dim=16, units=units, batch_size=128,
                              epochs=epochs, learning_rate=1e-3, global_clipnorm=5.0, max_length=11)
    command = "python benchmarks/dlfs2_ablation.py" + (" --smoke" if args.smoke else "")
    if args.variants != list(VARIANTS):
        command += " --variants " + " ".join(args.variants)
    report = {"command": command, "book_attention": {"epoch_3": 0.999}, "results": results}
    return save("dlfs2_ablation", report, "DLFS2 ch. 8 dates (en_US): attention ablation", smoke=args.smoke,
                merge=True)


if __name__ == "__main__":
    main()
