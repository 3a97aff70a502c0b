"""Float-feature sources (speech, time series): the FeatureEncoder, feature
models through training, generation and both exports, and a user-written
Conv1D + GRU encoder over frames, with token-exact parity everywhere."""

import json
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s import export
from keras_s2s.layers.feature_encoder import frame_mask
from keras_s2s.text import WordTokenizer

F, TARGET = 6, WordTokenizer(["a", "b", "c", "d", "e", "f", "g"])
V, MAX_LENGTH = TARGET.vocabulary_size, 7


def frames(n=10, seed=0, max_len=9):
    """Right-padded random frames; no real frame is all zero."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, max_len, F), "float32")
    lengths = rng.integers(1, max_len + 1, size=n)
    for i, length in enumerate(lengths):
        x[i, :length] = rng.normal(size=(length, F)) + 0.1
    return x, lengths.astype("int32")


# ------------------------------------------------------------------ encoder
def test_frame_mask_trailing_zero_frames_only():
    x = np.ones((2, 5, 3), "float32")
    x[0, 1] = 0  # an all-zero frame inside a sequence stays real
    x[0, 3:] = 0
    x[1, :] = 0
    np.testing.assert_array_equal(frame_mask(x), [[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])


@pytest.mark.parametrize("pyramid_layers", [0, 2])
def test_padding_changes_nothing_and_pyramid_halves_time(pyramid_layers):
    encoder = keras_s2s.FeatureEncoder(F, 8, num_layers=3, bidirectional=True,
                                       pyramid_layers=pyramid_layers, residual=True)
    x, lengths = frames(4, max_len=9)
    outputs, states, mask = encoder(x)
    steps = -(-9 // 2**pyramid_layers)
    assert outputs.shape == (4, steps, 16) and mask.shape == (4, steps)
    for i, length in enumerate(lengths):
        alone_out, alone_states, alone_mask = encoder(x[i : i + 1, :length])
        real = -(-length // 2**pyramid_layers)
        np.testing.assert_array_equal(np.asarray(mask)[i].sum(), real)
        np.testing.assert_allclose(alone_out[0, :real], outputs[i, :real], atol=1e-5)
        for a, b in zip(alone_states, states):
            np.testing.assert_allclose(a[0], b[i], atol=1e-5)
    assert np.all(np.asarray(outputs)[~np.asarray(mask)] == 0)


def test_normalization_adapts_on_real_frames_and_round_trips():
    encoder = keras_s2s.FeatureEncoder(F, 4, normalize=True)
    x, _ = frames(30)
    x[x != 0] = x[x != 0] * 3.0 + 5.0
    encoder.adapt(x)
    normalized = np.asarray(encoder.normalization(x[np.asarray(frame_mask(x))]))
    np.testing.assert_allclose(normalized.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalized.std(0), 1.0, atol=1e-3)
    config = keras.saving.serialize_keras_object(encoder)
    again = keras.saving.deserialize_keras_object(config)
    assert again.get_config() == encoder.get_config()


def test_bad_feature_inputs_and_arguments():
    encoder = keras_s2s.FeatureEncoder(F, 4)
    with pytest.raises(TypeError, match="float frames.*int32"):
        encoder(np.ones((2, 3, F), "int32"))
    with pytest.raises(ValueError, match=r"\[B, S, 6\].*\(2, 3, 5\)"):
        encoder(np.ones((2, 3, 5), "float32"))
    with pytest.raises(ValueError, match="pyramid_layers=2 with num_layers=2"):
        keras_s2s.FeatureEncoder(F, 4, num_layers=2, pyramid_layers=2)
    with pytest.raises(ValueError, match="normalize=True"):
        encoder.adapt(np.ones((1, 2, F)))
    with pytest.raises(ValueError, match="source_vocab_size=None.*num_features"):
        keras_s2s.build_seq2seq(10, V, num_features=F)
    with pytest.raises(ValueError, match="pyramid_layers.*token ids"):
        keras_s2s.build_seq2seq(10, V, pyramid_layers=1)


# -------------------------------------------------------------------- model
def assert_greedy_is_teacher_forced_argmax(model, generator, x):
    """Step-wise greedy tokens = argmax (over tokens but PAD/BOS) of the
    training model fed those tokens; returns the greedy output."""
    greedy = generator.generate(x, max_length=MAX_LENGTH)
    forced_in = np.concatenate([np.full((len(x), 1), keras_s2s.BOS_ID, "int32"),
                                greedy["ids"][:, 0, :-1]], axis=1)
    logits = np.array(model({"source_features": x, "target_ids": forced_in}))
    logits[..., [keras_s2s.PAD_ID, keras_s2s.BOS_ID]] = -np.inf
    for i in range(len(x)):
        n = greedy["lengths"][i, 0]
        np.testing.assert_array_equal(logits[i, :n].argmax(-1), greedy["ids"][i, 0, :n])
    return greedy


def feature_model(**kwargs):
    model = keras_s2s.build_seq2seq(None, V, num_features=F, embedding_dim=8, units=16,
                                    num_layers=2, **kwargs)
    dense = model.get_layer("decoder").output_dense
    dense.kernel.assign(dense.kernel * 20.0)  # no near-ties between tokens
    return model


def test_feature_model_fits_saves_and_step_equals_training():
    model = feature_model(attention="bahdanau", bidirectional=True, pyramid_layers=1,
                          normalize_features=True)
    x, _ = frames(16)
    model.get_layer("encoder").adapt(x)
    rng = np.random.default_rng(1)
    target = rng.integers(4, V, size=(16, 5)).astype("int32")
    target_in = np.concatenate([np.full((16, 1), keras_s2s.BOS_ID, "int32"), target[:, :-1]], 1)
    model.compile(keras.optimizers.Adam(1e-2), keras_s2s.losses.MaskedSparseCategoricalCrossentropy())
    history = model.fit({"source_features": x, "target_ids": target_in}, target, epochs=8,
                        batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    generator = keras_s2s.build_inference_model(model)
    greedy = assert_greedy_is_teacher_forced_argmax(model, generator, x)
    assert greedy["attention"].shape == (16, 1, MAX_LENGTH, 5)  # 9 frames -> 5 memory steps


def test_model_refuses_integer_frames():
    model = feature_model()
    with pytest.raises(TypeError, match="source_features.*float frames.*int32"):
        model({"source_features": np.ones((1, 3, F), "int32"), "target_ids": np.ones((1, 2), "int32")})


def test_generate_checks_frames():
    generator = keras_s2s.build_inference_model(feature_model())
    x, _ = frames(2)
    with pytest.raises(TypeError, match="float frames"):
        generator.generate(x.astype("int32"), max_length=3)
    with pytest.raises(ValueError, match=r"\[B, S, 6\]"):
        generator.generate(x[..., :4], max_length=3)
    bad = x.copy()
    bad[1, 0, 2] = np.nan
    with pytest.raises(ValueError, match=r"finite.*\(1, 0, 2\)"):
        generator.generate(bad, max_length=3)
    empty = generator.generate(np.zeros((2, 0, F), "float32"), max_length=3)
    assert np.all(empty["ids"] == 0) and np.all(empty["lengths"] == 0)


@pytest.mark.slow
@pytest.mark.parametrize("strategy", ["greedy", "beam"])
def test_feature_model_keras_saved_model_tflite_parity(strategy, tmp_path):
    model = feature_model(attention="luong_general", bidirectional=True, pyramid_layers=1,
                          normalize_features=True)
    x, lengths = frames(12)
    model.get_layer("encoder").adapt(x)
    generator = keras_s2s.build_inference_model(model)
    search = keras_s2s.BeamSearch(3) if strategy == "beam" else keras_s2s.GreedySearch()
    reference = generator.generate(x, max_length=MAX_LENGTH, strategy=search)
    path = export.export_saved_model(generator, tmp_path / "sm", max_length=MAX_LENGTH,
                                     strategy=search, target_tokenizer=TARGET)
    loaded = tf.saved_model.load(path)
    # the signature's lengths hide trailing frames: garbage past them changes nothing
    noisy = x.copy()
    for i, length in enumerate(lengths):
        noisy[i, length:] = 7.0
    out = loaded.signatures["generate_features"](source_features=tf.constant(noisy),
                                                 lengths=tf.constant(lengths))
    np.testing.assert_array_equal(out["ids"].numpy(), reference["ids"][:, 0])
    np.testing.assert_allclose(out["scores"].numpy(), reference["scores"][:, 0], rtol=1e-4)
    text = loaded.signatures["serving_default"](source_features=tf.constant(x),
                                                lengths=tf.constant(lengths))["target_text"]
    np.testing.assert_array_equal(text.numpy(), TARGET.decode(reference["ids"][:, 0]).numpy())
    info = json.loads((pathlib.Path(path) / "assets.extra" / "keras_s2s.json").read_text())
    assert info["signatures"] == ["generate_features", "serving_default"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="lengths"):
        loaded.signatures["generate_features"](source_features=tf.constant(x),
                                               lengths=tf.constant(lengths + 20))
    with pytest.raises(tf.errors.InvalidArgumentError, match="finite"):
        nan = x.copy()
        nan[0, 0, 0] = np.nan
        loaded.signatures["generate_features"](source_features=tf.constant(nan),
                                               lengths=tf.constant(lengths))

    tflite = export.export_tflite(generator, tmp_path / "m.tflite", max_length=MAX_LENGTH,
                                  strategy=search)
    assert not [op for op in export.tflite_ops(tflite) if "FLEX" in op or "CUSTOM" in op]
    decoder = export.TFLiteGreedyDecoder(tflite)
    for i, length in enumerate(lengths):
        got = decoder(x[i, :length])
        np.testing.assert_array_equal(got["ids"], reference["ids"][i, 0])
    nan = x[0, : lengths[0]].copy()
    nan[0, 0] = np.inf
    assert decoder(nan)["length"] == 0  # TFLite has no assertions: the empty result


@pytest.mark.slow
def test_a_real_trailing_zero_is_data_in_training_generate_saved_model_and_tflite(tmp_path):
    """A one-feature series whose last real step is 0.0: given its length,
    that step is attended (non-zero weight) and changes the answer in
    training, `generate`, the SavedModel and TFLite; only the fallback
    without lengths takes it for padding."""
    model = keras_s2s.build_seq2seq(None, V, num_features=1, embedding_dim=8, units=16,
                                    attention="luong_general")
    series = np.array([[[0.5], [-1.0], [2.0], [0.0]], [[1.0], [0.0], [0.3], [0.0]]], "float32")
    lengths = np.array([4, 4], "int32")
    target_in = np.array([[keras_s2s.BOS_ID, 5, 6], [keras_s2s.BOS_ID, 4, 4]], "int32")
    # training: the zero step is in the encoder's mask and in the logits
    with_lengths = model({"source_features": series, "source_lengths": lengths, "target_ids": target_in})
    fallback = model({"source_features": series, "target_ids": target_in})
    assert np.abs(np.asarray(with_lengths) - np.asarray(fallback)).max() > 1e-4
    mask = np.asarray(model.get_layer("encoder")(series, lengths=lengths)[2])
    assert mask.all() and not np.asarray(model.get_layer("encoder")(series)[2])[:, 3].any()

    generator = keras_s2s.build_inference_model(model)
    reference = generator.generate(series, max_length=MAX_LENGTH, source_lengths=lengths)
    dropped = generator.generate(series, max_length=MAX_LENGTH)  # the fallback
    assert np.all(reference["attention"][:, 0, 0, 3] > 0)
    assert np.all(dropped["attention"][..., 3] == 0)
    assert np.abs(reference["scores"] - dropped["scores"]).max() > 1e-4
    # step-wise generation equals the training model: its first token is training's argmax (PAD, BOS never)
    first = np.asarray(with_lengths)[:, 0].copy()
    first[:, [keras_s2s.PAD_ID, keras_s2s.BOS_ID]] = -np.inf
    np.testing.assert_array_equal(reference["ids"][:, 0, 0], np.argmax(first, -1))

    path = export.export_saved_model(generator, tmp_path / "sm", max_length=MAX_LENGTH)
    served = tf.saved_model.load(path).signatures["generate_features"](
        source_features=tf.constant(series), lengths=tf.constant(lengths))
    np.testing.assert_array_equal(served["ids"].numpy(), reference["ids"][:, 0])
    np.testing.assert_allclose(served["scores"].numpy(), reference["scores"][:, 0], rtol=1e-5, atol=1e-5)

    decoder = export.TFLiteGreedyDecoder(export.export_tflite(generator, tmp_path / "m.tflite",
                                                              max_length=MAX_LENGTH))
    for i in range(2):
        got = decoder(series[i], length=4)
        np.testing.assert_array_equal(got["ids"], reference["ids"][i, 0])
        np.testing.assert_allclose(got["score"], reference["scores"][i, 0], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(decoder(series[i])["score"], dropped["scores"][i, 0], rtol=1e-5, atol=1e-5)
        assert decoder(series[i], length=9)["length"] == 0  # past the frames: TFLite's empty result


def test_lengths_are_checked_where_they_enter():
    generator = keras_s2s.build_inference_model(feature_model())
    x, lengths = frames(2)
    for bad, error, match in ((lengths + 20, ValueError, r"source_lengths.*\[0, 9\].*Received: 2\d"),
                              (-lengths, ValueError, r"source_lengths.*Received: -"),
                              (lengths[:1], ValueError, r"source_lengths.*\[B\] = \[2\]"),
                              (lengths.astype("float32"), TypeError, "source_lengths.*integers")):
        with pytest.raises(error, match=match):
            generator.generate(x, max_length=3, source_lengths=bad)
    ids = keras_s2s.build_inference_model(keras_s2s.build_seq2seq(9, V, embedding_dim=4, units=8))
    with pytest.raises(ValueError, match="takes no lengths"):
        ids.generate(np.ones((2, 3), "int32"), max_length=3, source_lengths=[3, 3])
    # garbage past the lengths changes nothing
    noisy = x.copy()
    for i, length in enumerate(lengths):
        noisy[i, length:] = 7.0
    clean = generator.generate(x, max_length=MAX_LENGTH, source_lengths=lengths)
    got = generator.generate(noisy, max_length=MAX_LENGTH, source_lengths=lengths)
    np.testing.assert_array_equal(got["ids"], clean["ids"])
    np.testing.assert_allclose(got["scores"], clean["scores"], rtol=1e-5)


# ------------------------------------------------------------ user encoder
class ConvGRUEncoder(keras.layers.Layer):
    """A user's encoder over frames from plain Keras layers (no keras_s2s
    class): Conv1D over time, then a GRU. It declares its source spec."""

    def __init__(self, num_features, units, **kwargs):
        super().__init__(**kwargs)
        self.source_spec = keras_s2s.specs.FloatFrames(num_features)
        self.conv = keras.layers.Conv1D(units, 3, padding="same", activation="relu")
        self.gru = keras.layers.GRU(units, return_sequences=True, return_state=True)

    def call(self, features):
        mask = keras.ops.any(keras.ops.not_equal(features, 0), axis=-1)
        outputs, state = self.gru(self.conv(features), mask=mask)
        return outputs, [state], mask


@pytest.mark.slow
def test_user_conv_gru_encoder_over_frames_token_exact(tmp_path):
    encoder = ConvGRUEncoder(F, 16, name="my_encoder")
    decoder = keras_s2s.AttentionLSTMDecoder("bahdanau", V, 8, 16, cell="gru", name="my_decoder")
    source = keras.Input((None, F), name="source_features")
    target = keras.Input((None,), dtype="int32", name="target_ids")
    outputs, states, mask = encoder(source)
    model = keras.Model({"source_features": source, "target_ids": target},
                        decoder(target, outputs, states, mask))
    decoder.output_dense.kernel.assign(decoder.output_dense.kernel * 20.0)
    generator = keras_s2s.build_inference_model(encoder=encoder, decoder=decoder)
    x, lengths = frames(10, seed=3)
    greedy = assert_greedy_is_teacher_forced_argmax(model, generator, x)
    beam1 = generator.generate(x, max_length=MAX_LENGTH, strategy=keras_s2s.BeamSearch(1))
    np.testing.assert_array_equal(beam1["ids"], greedy["ids"])
    beam = generator.generate(x, max_length=MAX_LENGTH, strategy=keras_s2s.BeamSearch(3))
    path = export.export_saved_model(generator, tmp_path, max_length=MAX_LENGTH,
                                     strategy=keras_s2s.BeamSearch(3))
    out = tf.saved_model.load(path).signatures["generate_features"](
        source_features=tf.constant(x), lengths=tf.constant(lengths))
    np.testing.assert_array_equal(out["ids"].numpy(), beam["ids"][:, 0])
    tflite = export.TFLiteGreedyDecoder(export.export_tflite(generator, tmp_path / "u.tflite",
                                                             max_length=MAX_LENGTH))
    for i, length in enumerate(lengths):
        np.testing.assert_array_equal(tflite(x[i, :length])["ids"], greedy["ids"][i, 0])
