import keras
import numpy as np
import pytest
from conftest import numpy, reversal_data

import keras_s2s
from keras_s2s.layers import BaseAttention
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy, SequenceAccuracy

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix


@keras.saving.register_keras_serializable(package="keras_s2s_tests")
class ScaledDotAttention(BaseAttention):
    """A user attention: only the score function."""

    def score(self, query, key):
        scale = keras.ops.cast(keras.ops.shape(key)[-1], query.dtype) ** -0.5
        return keras.ops.einsum("bqh,bsh->bqs", query, key) * scale


class StopAt(keras.callbacks.Callback):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def on_epoch_end(self, epoch, logs=None):
        if logs["val_sequence_accuracy"] >= self.threshold:
            self.model.stop_training = True


VARIANTS = {
    "plain": dict(),
    "plain_gru": dict(cell="gru"),
    "peeky": dict(peeky=True),
    "bahdanau": dict(attention="bahdanau"),
    "luong": dict(attention="luong"),
    "luong_general": dict(attention="luong_general", bidirectional=True),
    "luong_concat": dict(attention="luong_concat"),
    "input_feeding": dict(attention="luong", input_feeding=True),
    "user_attention": dict(attention=ScaledDotAttention()),
}
OPTIONS = {**VARIANTS, "scheduled_sampling": dict(attention="luong", input_feeding=True, scheduled_sampling=True)}


def compile_model(model, learning_rate=0.01):
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=5.0),
        MaskedSparseCategoricalCrossentropy(),
        metrics=[MaskedAccuracy(), SequenceAccuracy()],
    )
    return model


# The variants without attention need up to 15 epochs (minutes on PyTorch's eager LSTM); the
# backend matrix trains one fused attention decoder (luong) and the scanned one (input_feeding),
# and the numerical parity test (test_backends.py) covers every decoder's numbers (CI budget:
# 20-35 s per variant on JAX and PyTorch).
SLOW_TO_LEARN = ("plain", "plain_gru", "peeky", "user_attention", "bahdanau", "luong_general", "luong_concat")


@pytest.mark.parametrize("variant", [
    pytest.param(v, marks=pytest.mark.long_training) if v in SLOW_TO_LEARN else v for v in VARIANTS])
def test_learns_reversal(variant):
    x, y = reversal_data(4000, 0)
    xv, yv = reversal_data(500, 1)
    model = compile_model(keras_s2s.build_seq2seq(12, 12, embedding_dim=16, units=64, **VARIANTS[variant]))
    # up to 15 epochs (plain_gru ends near 0.99 at 12, by the order of the data); StopAt ends the rest sooner
    model.fit(x, y, batch_size=64, epochs=15, verbose=0, validation_data=(xv, yv),
              callbacks=[StopAt(0.995)])
    results = model.evaluate(xv, yv, verbose=0, return_dict=True)
    assert results["sequence_accuracy"] >= 0.99, results


# Saving is backend-independent code; on JAX and PyTorch (30-44 s per variant there, mostly compiling) the
# scanned decoder's variant checks that the restored weights and compiled state work on that backend.
@pytest.mark.parametrize("variant", [
    pytest.param(v, marks=pytest.mark.matrix_extra) if v != "input_feeding" else v
    for v in ("bahdanau", "input_feeding", "user_attention", "peeky")])
def test_save_and_load_in_safe_mode(variant, tmp_path):
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, dropout=0.1,
                                    **VARIANTS[variant])
    compile_model(model)
    x, y = reversal_data(64, 0)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    restored = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(model.predict(x, verbose=0), restored.predict(x, verbose=0))
    restored.fit(x, y, epochs=1, verbose=0)  # compiled state restored


# JAX and PyTorch see concrete shapes only; there the step-wise (scanned) variants stay, whose dropout masks
# are scanned over time.
@pytest.mark.parametrize("variant", ["input_feeding", pytest.param("peeky", marks=pytest.mark.matrix_extra),
                                     pytest.param("bahdanau", marks=pytest.mark.matrix_extra),
                                     "scheduled_sampling"])
def test_fit_on_batches_of_unknown_length_with_dropout(variant):
    """Length-bucketed `tf.data` batches have no static time size; the step-wise
    training path (input feeding) scans dropout masks over it."""
    import tensorflow as tf

    x, y = reversal_data(64, 0)
    lengths = (x["source_ids"] != 0).sum(1)

    def examples():
        for i, n in enumerate(lengths):
            yield ({"source_ids": x["source_ids"][i, :n], "target_ids": x["target_ids"][i, : n + 1]},
                   y[i, : n + 1])

    spec = tf.TensorSpec([None], tf.int32)
    dataset = tf.data.Dataset.from_generator(
        examples, output_signature=({"source_ids": spec, "target_ids": spec}, spec)).padded_batch(16)
    assert dataset.element_spec[1].shape.as_list() == [None, None]
    model = compile_model(keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, dropout=0.3,
                                                  num_layers=2, **OPTIONS[variant]))
    callbacks = [keras_s2s.callbacks.ScheduledSampling(lambda e: 0.5)] if variant == "scheduled_sampling" else []
    history = model.fit(dataset, epochs=2, verbose=0, callbacks=callbacks)
    assert all(np.isfinite(history.history["loss"])), history.history


@pytest.mark.long_training  # JAX and PyTorch: the decoder tests and the fit below cover the mechanism
def test_scheduled_sampling_learns_and_round_trips(tmp_path):
    """Bengio et al. 2015's set-up: the probability of feeding the model's own
    token rises by epoch (set by the callback); the model still learns the
    task, and a saved model keeps the option and the last probability."""
    x, y = reversal_data(4000, 0)
    xv, yv = reversal_data(500, 1)
    model = compile_model(keras_s2s.build_seq2seq(12, 12, embedding_dim=16, units=64, attention="luong",
                                                  dropout=0.1, scheduled_sampling=True))
    ramp = keras_s2s.callbacks.ScheduledSampling(lambda epoch: min(0.5, 0.25 * epoch))
    # 6 epochs: after 4, one machine's CPU kernels left the fixed seed at 92.8% (other seeds 100%); after 6,
    # 100% for four seeds there
    model.fit(x, y, batch_size=64, epochs=6, verbose=0, callbacks=[ramp])
    assert ramp.history == [0.0, 0.25, 0.5, 0.5, 0.5, 0.5]
    decoder = model.get_layer("decoder")
    assert float(decoder.sampling_probability.numpy()) == pytest.approx(ramp.history[-1])
    assert model.evaluate(xv, yv, verbose=0, return_dict=True)["sequence_accuracy"] >= 0.99
    generator = keras_s2s.build_inference_model(model)
    ids = generator.generate(xv["source_ids"][:64], max_length=12)["ids"][:, 0]
    expected = yv[:64]
    same = [np.array_equal(r[: (e != 0).sum()], e[e != 0]) for r, e in zip(ids, expected)]
    assert np.mean(same) >= 0.95
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert restored.get_layer("decoder").scheduled_sampling is True
    assert float(restored.get_layer("decoder").sampling_probability.numpy()) == pytest.approx(ramp.history[-1])
    np.testing.assert_allclose(model.predict(xv, verbose=0), restored.predict(xv, verbose=0), atol=1e-6)


def test_scheduled_sampling_errors():
    x, y = reversal_data(64, 0)
    with pytest.raises(TypeError, match="scheduled_sampling='yes'"):
        keras_s2s.build_seq2seq(12, 12, scheduled_sampling="yes")
    with pytest.raises(TypeError, match="`schedule` must be a callable"):
        keras_s2s.callbacks.ScheduledSampling(0.25)
    plain = compile_model(keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16))
    with pytest.raises(ValueError, match="scheduled_sampling=True"):
        plain.fit(x, y, epochs=1, verbose=0, callbacks=[keras_s2s.callbacks.ScheduledSampling(lambda e: 0.1)])
    model = compile_model(keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, scheduled_sampling=True))
    for bad in (1.5, -0.1, float("nan"), "high"):
        with pytest.raises(ValueError, match=r"schedule\(0\)` must return a probability in \[0, 1\]"):
            model.fit(x, y, epochs=1, verbose=0,
                      callbacks=[keras_s2s.callbacks.ScheduledSampling(lambda e, bad=bad: bad)])
    assert float(model.get_layer("decoder").sampling_probability.numpy()) == 0.0  # nothing was set


def test_reverse_source_model_sees_reversed_tokens():
    x, _ = reversal_data(8, 0)
    forward = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16)
    backward = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, reverse_source=True)
    backward.set_weights(forward.get_weights())
    lengths = (x["source_ids"] != 0).sum(1)
    reversed_src = x["source_ids"].copy()
    for i, n in enumerate(lengths):
        reversed_src[i, :n] = reversed_src[i, :n][::-1]
    np.testing.assert_allclose(
        numpy(backward(x)), numpy(forward({"source_ids": reversed_src, "target_ids": x["target_ids"]})),
        atol=1e-6,
    )


def test_bidirectional_sizes_and_residual_stack():
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, bidirectional=True,
                                    num_layers=2, residual=True, attention="luong")
    assert model.get_layer("encoder").output_size == 16
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, bidirectional=True,
                                    encoder_units=16, attention="bahdanau")
    assert len(model.get_layer("decoder").bridges) == 2


def test_bad_arguments():
    build = keras_s2s.build_seq2seq
    with pytest.raises(ValueError, match="attention='bahdanu'.*'bahdanau'"):
        build(10, 10, attention="bahdanu")
    with pytest.raises(ValueError, match="units=0"):
        build(10, 10, units=0)
    with pytest.raises(ValueError, match="target_vocab_size=-1"):
        build(10, -1)
    with pytest.raises(TypeError, match="source_vocab_size='10'"):
        build("10", 10)
    with pytest.raises(ValueError, match="input_feeding=True with attention=None"):
        build(10, 10, input_feeding=True)
    with pytest.raises(ValueError, match="peeky=True with attention='luong'"):
        build(10, 10, peeky=True, attention="luong")
    with pytest.raises(ValueError, match="units.*must be even.*units=15"):
        build(10, 10, units=15, bidirectional=True)
    with pytest.raises(ValueError, match="query size 16, key size 32"):
        build(10, 10, units=16, bidirectional=True, encoder_units=16, attention="luong")
    with pytest.raises(TypeError, match="attention=3"):
        build(10, 10, attention=3)
    model = build(10, 10, embedding_dim=4, units=8)
    ids = np.ones((2, 3), "int32")
    with pytest.raises(TypeError, match="source_ids.*float"):
        model({"source_ids": ids.astype("float32"), "target_ids": ids})
    with pytest.raises(ValueError, match="rank"):
        model({"source_ids": ids[:, :, None], "target_ids": ids})


@pytest.mark.parametrize("variant", ["plain", "peeky", "bahdanau", "input_feeding", "luong_general"])
def test_logits_invariant_to_source_and_target_padding(variant):
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=16, **VARIANTS[variant])
    x, _ = reversal_data(6, 3)
    logits = model.predict(x, verbose=0)
    padded = {k: np.pad(v, [(0, 0), (0, 3)]) for k, v in x.items()}
    padded_logits = model.predict(padded, verbose=0)
    real = x["target_ids"] != 0
    np.testing.assert_allclose(padded_logits[:, : logits.shape[1]][real], logits[real], atol=1e-5)
