import keras
import numpy as np
import pytest
from conftest import numpy

from keras_s2s.layers import Encoder
from keras_s2s.layers.encoder import reverse_padded

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

CONFIGS = [
    dict(cell="lstm"),
    dict(cell="gru"),
    dict(cell="lstm", bidirectional=True),
    dict(cell="gru", bidirectional=True, num_layers=2),
    dict(cell="lstm", num_layers=3, residual=True),
    dict(cell="lstm", bidirectional=True, num_layers=2, residual=True, reverse_source=True),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_padding_invariance(config):
    encoder = Encoder(20, 8, 6, dropout=0.3, **config)
    rng = np.random.default_rng(0)
    for length in [1, 3, 5]:
        ids = rng.integers(1, 20, size=(2, length)).astype("int32")
        padded = np.concatenate([ids, np.zeros((2, 4), "int32")], axis=1)
        out, states, mask = numpy(encoder(ids))
        out_p, states_p, mask_p = numpy(encoder(padded))
        np.testing.assert_allclose(out_p[:, :length], out, atol=1e-5)
        assert np.all(out_p[:, length:] == 0)
        for s, s_p in zip(states, states_p):
            np.testing.assert_allclose(s_p, s, atol=1e-5)
        assert mask_p.sum() == 2 * length


def test_shapes_and_state_count():
    enc = Encoder(20, 8, 6, bidirectional=True)
    out, states, mask = enc(np.ones((3, 4), "int32"))
    assert out.shape == (3, 4, 12) and len(states) == 2 and states[0].shape == (3, 12)
    assert keras.backend.standardize_dtype(mask.dtype) == "bool"
    assert len(Encoder(20, 8, 6, cell="gru")(np.ones((3, 4), "int32"))[1]) == 1


def test_residual_adds_layer_input():
    ids = np.array([[3, 4, 5]], "int32")
    plain = Encoder(20, 8, 6, num_layers=2)
    plain(ids)
    res = Encoder(20, 8, 6, num_layers=2, residual=True)
    res(ids)
    res.set_weights(plain.get_weights())
    first = plain.rnn_layers[0](plain.embedding(ids))[0]
    second = plain.rnn_layers[1](first)[0]
    np.testing.assert_allclose(numpy(res(ids)[0]), numpy(first) + numpy(second), atol=1e-5)


def test_reverse_source_reverses_real_tokens_only():
    ids = np.array([[5, 6, 7, 0, 0], [8, 9, 0, 0, 0]], "int32")
    reversed_ids = numpy(reverse_padded(ids, ids != 0))
    np.testing.assert_array_equal(reversed_ids, [[7, 6, 5, 0, 0], [9, 8, 0, 0, 0]])
    np.testing.assert_array_equal(numpy(reverse_padded(reversed_ids, ids != 0)), ids)
    forward = Encoder(20, 4, 3)
    backward = Encoder(20, 4, 3, reverse_source=True)
    forward(ids)
    backward(ids)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(numpy(backward(ids)[0]), numpy(forward(reversed_ids)[0]), atol=1e-6)


def test_config_round_trip():
    enc = Encoder(20, 8, 6, cell="gru", num_layers=2, bidirectional=True, residual=True,
                  dropout=0.1, reverse_source=True)
    clone = Encoder.from_config(enc.get_config())
    assert clone.get_config() == enc.get_config()


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell='rnn'"):
        Encoder(10, 4, 4, cell="rnn")
    with pytest.raises(ValueError, match="vocab_size=0"):
        Encoder(0, 4, 4)
    with pytest.raises(ValueError, match=r"dropout.*\[0, 1\).*1.5"):
        Encoder(10, 4, 4, dropout=1.5)
    with pytest.raises(TypeError, match="source_ids.*float32"):
        Encoder(10, 4, 4)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="source_ids.*rank 2.*rank 3"):
        Encoder(10, 4, 4)(np.ones((2, 3, 1), "int32"))



def test_bidirectional_stack_loads_with_both_directions(tmp_path, monkeypatch):
    # Inside `load_model`, Keras' object-sharing scope looks the copies
    # `Bidirectional` makes up by the `id()` of the layer copied: once that
    # layer was freed, the next layer could get its id, and with it the
    # previous backward copy as its forward direction (a load failing at
    # random in CI). Every layer copied must outlive the load.
    import gc
    import weakref

    from keras_s2s.layers import encoder as encoder_module

    ids = keras.Input((None,), dtype="int32")
    model = keras.Model(ids, Encoder(20, 8, 6, num_layers=3, bidirectional=True)(ids)[0])
    model.save(tmp_path / "m.keras")
    tokens = np.array([[3, 4, 5, 0]], "int32")
    expected = numpy(model(tokens))
    make_rnn, made = encoder_module.make_rnn, []

    def make_rnn_watched(*args, **kwargs):
        layer = make_rnn(*args, **kwargs)
        made.append(weakref.ref(layer))
        return layer

    monkeypatch.setattr(encoder_module, "make_rnn", make_rnn_watched)
    restored = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    gc.collect()
    assert len(made) == 3 and all(ref() is not None for ref in made)  # no id can be reused
    stack = restored.layers[-1].rnn_layers
    assert [(b.forward_layer.go_backwards, b.backward_layer.go_backwards) for b in stack] == [(False, True)] * 3
    np.testing.assert_allclose(numpy(restored(tokens)), expected, atol=1e-6)
    assert len(restored.weights) == len(model.weights)  # the kept layers add no weights
