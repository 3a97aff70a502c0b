"""Bring your own attention: a user-defined scorer trained, generated and exported.

    python examples/custom_attention.py --smoke

Only the score function is written here; keras_s2s handles masking, softmax,
context, step-wise decoding, saving and export. Nothing in the package changes.
"""

import argparse
import pathlib
import tempfile

import keras
import numpy as np

import keras_s2s
from keras_s2s import export
from keras_s2s.data import make_dataset
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.text import CharTokenizer


@keras.saving.register_keras_serializable(package="my_project")
class ScaledCosineAttention(keras_s2s.layers.BaseAttention):
    """Cosine similarity between query and key, times a learned temperature."""

    def build(self, query_shape, value_shape, key_shape=None):
        self.temperature = self.add_weight(name="temperature", shape=(),
                                           initializer=keras.initializers.Constant(5.0))

    def score(self, query, key):  # query [B, Tq, H], key [B, S, H] -> [B, Tq, S]
        query = query / (keras.ops.norm(query, axis=-1, keepdims=True) + 1e-6)
        key = key / (keras.ops.norm(key, axis=-1, keepdims=True) + 1e-6)
        return self.temperature * keras.ops.einsum("bqh,bsh->bqs", query, key)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", default=None, help="export folder (default: a temporary one)")
    args = parser.parse_args(argv)
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    words = ["".join(rng.choice(list("abcdefgh"), size=rng.integers(2, 7))) for _ in range(3000)]
    targets = [w[::-1] for w in words]  # learn to reverse words
    tokenizer = CharTokenizer.from_texts(words)
    model = keras_s2s.build_seq2seq(tokenizer.vocabulary_size, tokenizer.vocabulary_size,
                                    embedding_dim=16, units=64, attention=ScaledCosineAttention())
    model.compile(keras.optimizers.Adam(5e-3), MaskedSparseCategoricalCrossentropy())
    model.fit(make_dataset(words, targets, tokenizer, tokenizer, batch_size=64),
              epochs=1 if args.smoke else 6, verbose=0)

    generator = keras_s2s.build_inference_model(model)
    tests = ["abc", "hgfedc", "dead"]
    out = generator.generate(tokenizer.encode(tests).numpy(), max_length=8)
    print("generated:", [s.decode() for s in tokenizer.decode(out["ids"][:, 0]).numpy()])

    folder = pathlib.Path(args.out or tempfile.mkdtemp())
    model.save(folder / "model.keras")
    keras.models.load_model(folder / "model.keras")  # reloads with the registered class
    saved = export.export_saved_model(generator, folder / "saved_model", max_length=8,
                                      source_tokenizer=tokenizer, target_tokenizer=tokenizer)
    tflite = export.export_tflite(generator, folder / "reverse.tflite", max_length=8)
    runner = export.TFLiteGreedyDecoder(tflite)
    same = all(np.array_equal(runner(tokenizer.encode([t]).numpy()[0])["ids"], out["ids"][i, 0])
               for i, t in enumerate(tests))
    print(f"exported to {saved} and {tflite}; TFLite tokens equal Keras: {same}")
    return same


if __name__ == "__main__":
    main()
