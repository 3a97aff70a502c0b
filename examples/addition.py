"""Addition, Deep Learning from Scratch 2 ch. 7: baseline vs reversed vs peeky + reversed.

    python examples/addition.py            # the book's setup: 25 epochs each (~10 min on CPU)
    python examples/addition.py --smoke    # seconds

Prints the test exact-match accuracy of greedy decoding after every epoch.
"""

import argparse

import keras

import keras_s2s
from keras_s2s.callbacks import GenerationAccuracy
from keras_s2s.data import make_dataset
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.text import CharTokenizer

VARIANTS = {
    "baseline": dict(),
    "reversed": dict(reverse_source=True),
    "peeky+reversed": dict(reverse_source=True, peeky=True),
}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    data = keras_s2s.datasets.addition()
    train, test = data["train"], data["test"]
    if args.smoke:
        train = train.head(512)
        test = test.head(64)
        args.epochs = 1
    # One character vocabulary for both sides, as in the book.
    tokenizer = CharTokenizer.from_texts(train.sources + train.targets)
    test_src = tokenizer.encode(test.sources).numpy()
    test_tgt = tokenizer.encode(test.targets).numpy()
    results = {}
    for name, options in VARIANTS.items():
        keras.utils.set_random_seed(1984)
        # The book: word vectors 16, hidden 128, Adam 1e-3, gradient clipping 5.0 (global norm), batch 128.
        model = keras_s2s.build_seq2seq(tokenizer.vocabulary_size, tokenizer.vocabulary_size,
                                        embedding_dim=16, units=128, bidirectional=False, **options)
        model.compile(keras.optimizers.Adam(1e-3, global_clipnorm=5.0), MaskedSparseCategoricalCrossentropy())
        dataset = make_dataset(train.sources, train.targets, tokenizer, tokenizer, batch_size=128,
                               bucket_by_length=False, seed=1984)
        accuracy = GenerationAccuracy(test_src, test_tgt, max_length=5)
        model.fit(dataset, epochs=args.epochs, callbacks=[accuracy], verbose=0)
        results[name] = accuracy.history
        print(f"{name:15s} " + " ".join(f"{a:.3f}" for a in accuracy.history))
    return results


if __name__ == "__main__":
    main()
