"""Generation and export accept any encoder and decoder that honour the
protocols of `keras_s2s.inference.generator` (no type checks)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import BACKEND

import keras_s2s
from keras_s2s import export

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

SOURCE_VOCAB, TARGET_VOCAB, MAX_LENGTH = 14, 11, 7


class GRUEncoder(keras.layers.Layer):
    """A user's encoder: plain Keras layers, not a keras_s2s class."""

    def __init__(self, vocab_size, units, **kwargs):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding = keras.layers.Embedding(vocab_size, 8)
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def call(self, source_ids):
        mask = keras.ops.not_equal(source_ids, 0)
        outputs, state = self.gru(self.embedding(source_ids), mask=mask)
        return outputs, [state], mask


def hand_made_model(encoder_name="my_encoder", decoder_name="my_decoder"):
    encoder = GRUEncoder(SOURCE_VOCAB, 16, name=encoder_name)
    decoder = keras_s2s.AttentionLSTMDecoder("bahdanau", TARGET_VOCAB, 8, 16, cell="gru",
                                             name=decoder_name)
    source = keras.Input((None,), dtype="int32", name="source_ids")
    target = keras.Input((None,), dtype="int32", name="target_ids")
    outputs, states, mask = encoder(source)
    logits = decoder(target, outputs, states, mask)
    model = keras.Model({"source_ids": source, "target_ids": target}, logits)
    decoder.output_dense.kernel.assign(decoder.output_dense.kernel * 20.0)  # no near-ties
    return model, encoder, decoder


def sources(n=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = np.zeros((n, 6), "int32")
    for i in range(n):
        length = rng.integers(1, 7)
        ids[i, :length] = rng.integers(4, SOURCE_VOCAB, size=length)
    return ids


@pytest.mark.slow
def test_user_encoder_generates_and_exports_token_exact(tmp_path):
    model, encoder, decoder = hand_made_model()
    generator = keras_s2s.build_inference_model(encoder=encoder, decoder=decoder)
    ids = sources()
    greedy = generator.generate(ids, max_length=MAX_LENGTH)
    # step-wise greedy = argmax of the teacher-forced training model
    target_in = np.concatenate([np.full((len(ids), 1), keras_s2s.BOS_ID, "int32"),
                                greedy["ids"][:, 0, :-1]], axis=1)
    logits = model.predict({"source_ids": ids, "target_ids": target_in}, verbose=0)
    logits[..., [keras_s2s.PAD_ID, keras_s2s.BOS_ID]] = -np.inf
    for row, n in enumerate(greedy["lengths"][:, 0]):
        np.testing.assert_array_equal(greedy["ids"][row, 0, :n], logits[row, :n].argmax(-1))
    assert greedy["attention"].shape == (len(ids), 1, MAX_LENGTH, ids.shape[1])
    beam1 = generator.generate(ids, max_length=MAX_LENGTH, strategy="beam", num_beams=1)
    np.testing.assert_array_equal(beam1["ids"], greedy["ids"])
    beam = generator.generate(ids, max_length=MAX_LENGTH, strategy="beam", num_beams=3)
    if BACKEND != "tensorflow":  # exports are TensorFlow; the rest holds on every backend
        return

    saved = tf.saved_model.load(export.export_saved_model(generator, tmp_path / "sm",
                                                          max_length=MAX_LENGTH, strategy="beam",
                                                          num_beams=3))
    out = saved.signatures["generate_ids"](source_ids=tf.constant(ids))
    np.testing.assert_array_equal(out["ids"].numpy(), beam["ids"][:, 0])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Received the id"):
        saved.signatures["generate_ids"](source_ids=tf.constant([[-1, 4]]))

    tflite = export.TFLiteGreedyDecoder(export.export_tflite(generator, tmp_path / "m.tflite",
                                                             max_length=MAX_LENGTH))
    for row in range(len(ids)):
        n = int((ids[row] != 0).sum())
        np.testing.assert_array_equal(tflite(ids[row, :n])["ids"], greedy["ids"][row, 0])


def test_parts_are_found_by_name_and_by_attribute():
    model, encoder, decoder = hand_made_model("encoder", "decoder")
    by_name = keras_s2s.build_inference_model(model)
    assert by_name.encoder_layer is encoder and by_name.decoder_layer is decoder

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.encoder = GRUEncoder(SOURCE_VOCAB, 16)
            self.decoder = keras_s2s.LSTMDecoder(TARGET_VOCAB, 8, 16, cell="gru")

        def call(self, inputs):
            outputs, states, mask = self.encoder(inputs["source_ids"])
            return self.decoder(inputs["target_ids"], outputs, states, mask)

    subclassed = Subclassed()
    subclassed({"source_ids": sources(2), "target_ids": sources(2)})
    generator = keras_s2s.build_inference_model(subclassed)
    assert generator.generate(sources(3), max_length=4)["ids"].shape == (3, 1, 4)
    assert "attention" not in generator.generate(sources(3), max_length=4)


def test_a_decoder_without_the_protocol_is_a_type_error():
    _, encoder, _ = hand_made_model()

    class NotADecoder(keras.layers.Layer):
        vocab_size = 5

        def prepare_memory(self, outputs, states, mask):
            return {"mask": mask}

    with pytest.raises(TypeError, match="NotADecoder does not honour the decoder protocol: it lacks "
                                        "get_initial_state, step"):
        keras_s2s.build_inference_model(encoder=encoder, decoder=NotADecoder())
    with pytest.raises(TypeError, match="lacks prepare_memory, get_initial_state, step, vocab_size"):
        keras_s2s.build_inference_model(encoder=encoder, decoder=keras.layers.Dense(3))
    with pytest.raises(TypeError, match="expects a keras.Model.*Received: str"):
        keras_s2s.build_inference_model("model.keras")


@pytest.mark.tensorflow_only
def test_an_encoder_without_vocab_size_exports_to_tflite(tmp_path):
    model, encoder, decoder = hand_made_model()
    del encoder.vocab_size  # the protocol makes it optional
    generator = keras_s2s.build_inference_model(encoder=encoder, decoder=decoder)
    assert generator.source_vocab_size is None
    ids = sources(4)
    greedy = generator.generate(ids, max_length=MAX_LENGTH)
    tflite = export.TFLiteGreedyDecoder(export.export_tflite(generator, tmp_path / "m.tflite",
                                                             max_length=MAX_LENGTH))
    for row in range(len(ids)):
        n = int((ids[row] != 0).sum())
        np.testing.assert_array_equal(tflite(ids[row, :n])["ids"], greedy["ids"][row, 0])
