"""Why does our attention start slower than the book's on English dates? One change per variant, 3 epochs.

The book's setup (DLFS2 ch. 8): hidden 256, word vectors 16, batch 128, Adam 1e-3, global-norm clip 5,
reversed source, dot attention whose output layer is a plain affine map of [c; h]. Our default
attentional layer is Luong's tanh(W_c [c; h]) (eq. 5).

    python benchmarks/dlfs2_ablation.py            # 11 variants, 2-4 min each on a quiet 2-core CPU
    python benchmarks/dlfs2_ablation.py --smoke    # seconds (CI)

Variants (each row one change from the row it names):
- luong_tanh: our default (dot attention, tanh attentional layer, masked padding, h and c from the encoder);
- luong_linear: the book's plain affine attentional layer (`attention_activation=None`);
- luong_linear_forward: the same without source reversal;
- luong_tanh_forward: our tanh layer without source reversal;
- luong_linear_book_init: luong_linear with the book's initialization (embeddings N(0, 0.01^2), matrices
  N(0, 1/fan_in), zero biases) instead of Keras' (uniform embeddings, Glorot kernels, orthogonal recurrent
  kernels, forget bias 1);
- luong_linear_h_only: luong_linear, the decoder started from the encoder's h with c = 0 (the book's);
- luong_linear_spaces: luong_linear, sources padded with spaces to one length and nothing masked (the book's);
- book: luong_linear with all three, the book's set-up as far as it differs from ours;
- book_keras_init, book_h_and_c, book_masked: book with one of the three taken back to ours.
The three set-ups that are not library options are applied by `_curves.accuracy_curves`.
"""

import argparse

from _curves import accuracy_curves, save

from keras_s2s import datasets
from keras_s2s.text import CharTokenizer

LINEAR = dict(reverse_source=True, attention="luong", attention_activation=None)
VARIANTS = {
    "luong_tanh": dict(reverse_source=True, attention="luong"),
    "luong_linear": LINEAR,
    "luong_linear_forward": dict(reverse_source=False, attention="luong", attention_activation=None),
    "luong_tanh_forward": dict(reverse_source=False, attention="luong"),
    "luong_linear_book_init": dict(LINEAR, initialization="book"),
    "luong_linear_h_only": dict(LINEAR, decoder_state="h"),
    "luong_linear_spaces": dict(LINEAR, source_padding="spaces"),
    "book": dict(LINEAR, initialization="book", decoder_state="h", source_padding="spaces"),
    "book_keras_init": dict(LINEAR, decoder_state="h", source_padding="spaces"),
    "book_h_and_c": dict(LINEAR, initialization="book", source_padding="spaces"),
    "book_masked": dict(LINEAR, initialization="book", decoder_state="h"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=None,
                        help="default: all; with --smoke, luong_tanh and book (every code path)")
    args = parser.parse_args(argv)
    args.variants = args.variants or (["luong_tanh", "book"] if args.smoke else list(VARIANTS))
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
