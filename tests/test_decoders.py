import keras
import numpy as np
import pytest
from conftest import numpy

from keras_s2s.layers import (
    AttentionLSTMDecoder,
    BahdanauAttention,
    Encoder,
    LSTMDecoder,
    LuongAttention,
    PeekyLSTMDecoder,
)

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix


def make(kind, cell="lstm", num_layers=1, encoder_units=8):
    args = dict(cell=cell, num_layers=num_layers, dropout=0.2)
    if kind == "plain":
        return LSTMDecoder(15, 6, 8, **args)
    if kind == "peeky":
        return PeekyLSTMDecoder(15, 6, 8, **args)
    if kind == "bahdanau":
        return AttentionLSTMDecoder(BahdanauAttention(5), 15, 6, 8, **args)
    if kind == "bahdanau_normalized":
        return AttentionLSTMDecoder(BahdanauAttention(5, normalize=True), 15, 6, 8, **args)
    if kind == "luong_general":
        return AttentionLSTMDecoder("luong_general", 15, 6, 8, **args)
    if kind == "luong_concat":
        return AttentionLSTMDecoder(LuongAttention("concat"), 15, 6, 8, **args)
    if kind == "input_feeding":
        return AttentionLSTMDecoder("luong_general", 15, 6, 8, input_feeding=True, **args)
    raise KeyError(kind)


KINDS = ["plain", "peeky", "bahdanau", "bahdanau_normalized", "luong_general", "luong_concat",
         "input_feeding"]
CASES = [(k, "lstm", 1, False) for k in KINDS] + [
    (k, "gru", 2, True) for k in KINDS
]


def encode(cell, bidirectional, seed=0):
    encoder = Encoder(12, 5, 4 if bidirectional else 8, cell=cell, bidirectional=bidirectional)
    rng = np.random.default_rng(seed)
    source = rng.integers(1, 12, size=(3, 6)).astype("int32")
    source[0, 4:] = 0
    source[2, 2:] = 0
    return encoder(source)


@pytest.mark.parametrize("kind,cell,num_layers,bidirectional", CASES)
def test_step_reproduces_teacher_forced_logits(kind, cell, num_layers, bidirectional):
    outputs, states, mask = encode(cell, bidirectional)
    decoder = make(kind, cell, num_layers)
    target = np.array([[2, 5, 6, 7, 0], [2, 9, 0, 0, 0], [2, 4, 4, 4, 4]], "int32")
    logits = numpy(decoder(target, outputs, states, mask))
    assert logits.shape == (3, 5, 15)
    memory = decoder.prepare_memory(outputs, states, mask)
    state = decoder.get_initial_state(states)
    for t in range(target.shape[1]):
        step_logits, state, weights = decoder.step(target[:, t], state, memory)
        np.testing.assert_allclose(numpy(step_logits), logits[:, t], atol=1e-5)
        if decoder.attention is None:
            assert weights is None
        else:
            w = numpy(weights)
            assert np.all(w[~numpy(mask)] == 0)
            np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)


def test_bridge_only_when_sizes_differ():
    outputs, states, mask = encode("lstm", True)  # 2 x 4 = 8 = decoder units
    decoder = make("plain")
    decoder(np.ones((3, 2), "int32"), outputs, states, mask)
    assert decoder.bridges == []
    encoder = Encoder(12, 5, 8, bidirectional=True)  # 16 != 8
    outputs, states, mask = encoder(np.ones((3, 4), "int32"))
    decoder = make("bahdanau")
    decoder(np.ones((3, 2), "int32"), outputs, states, mask)
    assert len(decoder.bridges) == 2


def test_dropout_only_in_training():
    outputs, states, mask = encode("lstm", False)
    decoder = make("peeky")
    target = np.array([[2, 5, 6]] * 3, "int32")
    a = numpy(decoder(target, outputs, states, mask))
    np.testing.assert_allclose(a, numpy(decoder(target, outputs, states, mask)))
    assert not np.allclose(a, numpy(decoder(target, outputs, states, mask, training=True)))


@pytest.mark.parametrize("kind", KINDS)
def test_config_round_trip(kind):
    decoder = make(kind, "gru", 2)
    outputs, states, mask = encode("gru", False)
    decoder(np.ones((3, 2), "int32"), outputs, states, mask)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(decoder))
    assert type(restored) is type(decoder)
    assert restored.get_config() == decoder.get_config()


def test_bad_arguments():
    outputs, states, mask = encode("lstm", False)
    with pytest.raises(ValueError, match="cell='gru' needs 1 encoder state"):
        make("plain", cell="gru")(np.ones((3, 2), "int32"), outputs, states, mask)
    with pytest.raises(TypeError, match="target_ids.*float32"):
        make("plain")(np.ones((3, 2), "float32"), outputs, states, mask)
    with pytest.raises(ValueError, match="attention='luong_dot'"):
        AttentionLSTMDecoder("luong_dot", 10, 4, 4)
    with pytest.raises(ValueError, match="units=-3"):
        LSTMDecoder(10, 4, -3)
    with pytest.raises(ValueError, match="query size 8, key size 16"):
        encoder = Encoder(12, 5, 8, bidirectional=True)
        o, s, m = encoder(np.ones((3, 4), "int32"))
        AttentionLSTMDecoder("luong", 15, 6, 8)(np.ones((3, 2), "int32"), o, s, m)


# ----------------------------------------------------- extending by overriding
class MeanContextDecoder(LSTMDecoder):
    """A user variant in hooks only: the masked mean of the encoder outputs
    joins the output projection's input."""

    def prepare_memory(self, encoder_outputs, encoder_states, source_mask):
        memory = super().prepare_memory(encoder_outputs, encoder_states, source_mask)
        weights = keras.ops.cast(source_mask, encoder_outputs.dtype)[..., None]
        total = keras.ops.sum(encoder_outputs * weights, axis=1)
        memory["mean"] = total / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)
        return memory

    def combine_output(self, h, memory):
        mean = memory["mean"] if len(h.shape) == 2 else keras.ops.broadcast_to(
            memory["mean"][:, None], keras.ops.shape(h)[:2] + (memory["mean"].shape[-1],))
        return keras.ops.concatenate([h, mean], axis=-1), None


class OutputFeedingDecoder(LSTMDecoder):
    """A user variant whose next input depends on its previous output: it sets
    `steps_in_training`, so teacher forcing steps (`keras.ops.scan`)."""

    steps_in_training = True

    def get_initial_state(self, encoder_states):
        state = super().get_initial_state(encoder_states)
        return state + [keras.ops.zeros_like(state[0])]

    def rnn_input(self, x, state, memory):
        return keras.ops.concatenate([x, state[-1]], axis=-1)

    def next_state(self, rnn_state, output):
        return rnn_state + [output]


@pytest.mark.parametrize("cls", [MeanContextDecoder, OutputFeedingDecoder])
def test_user_decoder_overrides_hooks_and_step_equals_call(cls):
    outputs, states, mask = encode("lstm", False)
    decoder = cls(15, 6, 8, num_layers=2)
    target = np.array([[2, 5, 6, 7, 0], [2, 9, 0, 0, 0], [2, 4, 4, 4, 4]], "int32")
    logits = numpy(decoder(target, outputs, states, mask))
    memory = decoder.prepare_memory(outputs, states, mask)
    state = decoder.get_initial_state(states)
    for t in range(target.shape[1]):
        step_logits, state, _ = decoder.step(target[:, t], state, memory)
        np.testing.assert_allclose(numpy(step_logits), logits[:, t], atol=1e-5)
    if cls is MeanContextDecoder:  # the hook is used: the outputs now matter, not only the state
        moved = numpy(decoder(target, outputs + 1.0, states, mask))
        assert np.abs(moved - logits).max() > 1e-3


@pytest.mark.parametrize("activation, fn", [("tanh", np.tanh), (None, lambda x: x)])
def test_attentional_layer_activation(activation, fn):
    outputs, states, mask = encode("lstm", False)
    decoder = AttentionLSTMDecoder("luong_general", 15, 6, 8, attention_activation=activation)
    decoder(np.ones((3, 2), "int32"), outputs, states, mask)
    memory = decoder.prepare_memory(outputs, states, mask)
    h = np.random.default_rng(0).normal(size=(3, 8)).astype("float32")
    combined, weights = decoder.combine_output(h, memory)
    context = np.einsum("bs,bsh->bh", numpy(weights), numpy(outputs))
    kernel = np.asarray(decoder.attention_dense.kernel)
    expected = fn(np.concatenate([context, h], axis=-1) @ kernel)  # h~ = act(W_c [c; h]), no bias
    np.testing.assert_allclose(numpy(combined), expected, atol=1e-5)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(decoder))
    assert again.attention_activation == activation
    with pytest.raises(ValueError, match="attention_activation='tanhh'"):
        AttentionLSTMDecoder("luong", 15, 6, 8, attention_activation="tanhh")


# ------------------------------------------------------ scheduled sampling
def test_sample_ids_inverts_the_softmax_cdf():
    from keras_s2s.layers.decoders import sample_ids

    logits = np.log(np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.0, 0.0, 0.5], [0.0, 0.0, 1.0, 0.0]]) + 1e-30)
    # the smallest i with cdf[i] >= 1 - u: cdf rows [.1 .3 .6 1], [.5 .5 .5 1], [0 0 1 1]
    for u, expected in [(0.0, [3, 3, 2]), (0.3, [3, 3, 2]), (0.45, [2, 3, 2]), (0.5, [2, 0, 2]),
                        (0.75, [1, 0, 2]), (0.95, [0, 0, 2]), (0.999999, [0, 0, 2])]:
        ids = sample_ids(logits.astype("float32"), np.full(3, u, "float32"))
        np.testing.assert_array_equal(ids, expected, err_msg=f"u={u}")


def scheduled_pair(kind, cell="lstm"):
    """A decoder with scheduled sampling and the same decoder without it,
    sharing weights (the sampling probability aside)."""
    outputs, states, mask = encode(cell, False)
    sampled = make(kind, cell)
    sampled = type(sampled).from_config({**sampled.get_config(), "dropout": 0.0,
                                         "scheduled_sampling": True})
    plain = type(sampled).from_config({**sampled.get_config(), "scheduled_sampling": False})
    target = np.array([[2, 5, 6, 7, 0], [2, 9, 0, 0, 0], [2, 4, 4, 4, 4]], "int32")
    sampled(target, outputs, states, mask)
    plain(target, outputs, states, mask)
    shared = [w for w in sampled.weights if "sampling_probability" not in w.path]
    assert len(shared) == len(plain.weights) == len(sampled.weights) - 1
    for source, destination in zip(shared, plain.weights):
        destination.assign(source)
    return sampled, plain, (outputs, states, mask), target


@pytest.mark.parametrize("kind", ["plain", "peeky", "bahdanau", "input_feeding"])
def test_scheduled_sampling_at_zero_is_teacher_forcing(kind):
    sampled, plain, (outputs, states, mask), target = scheduled_pair(kind)
    assert sampled.steps_in_training and plain.steps_in_training == (kind == "input_feeding")
    np.testing.assert_allclose(numpy(sampled(target, outputs, states, mask, training=True)),
                               numpy(plain(target, outputs, states, mask, training=True)), atol=1e-5)


@pytest.mark.parametrize("kind", ["plain", "luong_general"])
def test_scheduled_sampling_at_one_feeds_the_models_own_tokens(kind):
    sampled, plain, (outputs, states, mask), target = scheduled_pair(kind, "gru")
    # Every output distribution puts (almost) all its mass on token 5
    # (|W h| < 8 against a bias of 50), so every token the model feeds itself
    # is 5; step 0 still reads BOS.
    kernel = np.random.default_rng(0).normal(size=sampled.output_dense.kernel.shape)
    for decoder in (sampled, plain):
        decoder.output_dense.kernel.assign(kernel.astype("float32"))
        decoder.output_dense.bias.assign(np.where(np.arange(15) == 5, 50.0, 0.0).astype("float32"))
    own = np.where(np.arange(5) == 0, 2, 5)[None].repeat(3, 0).astype("int32")
    sampled.sampling_probability.assign(1.0)
    np.testing.assert_allclose(numpy(sampled(target, outputs, states, mask, training=True)),
                               numpy(plain(own, outputs, states, mask, training=True)), atol=1e-4)
    assert not np.allclose(numpy(plain(own, outputs, states, mask)), numpy(plain(target, outputs, states, mask)))
    # Inference (training=False) never samples: it reads the targets.
    np.testing.assert_allclose(numpy(sampled(target, outputs, states, mask)),
                               numpy(plain(target, outputs, states, mask)), atol=1e-5)


def test_input_feeding_is_a_policy_every_decoder_composes():
    outputs, states, mask = encode("lstm", False)
    target = np.array([[2, 5, 6, 7], [2, 9, 0, 0], [2, 4, 4, 0]], "int32")
    decoder = LSTMDecoder(15, 6, 8, input_feeding=True)  # no attention: the RNN output is fed back
    logits = numpy(decoder(target, outputs, states, mask))
    assert decoder.steps_in_training and decoder.rnn_layers[0].cell.kernel.shape[0] == 6 + 8
    memory = decoder.prepare_memory(outputs, states, mask)
    state = decoder.get_initial_state(states)
    assert len(state) == 3 and np.all(numpy(state[2]) == 0)  # h, c, then the fed-back output (zeros)
    for t in range(target.shape[1]):
        step_logits, state, _ = decoder.step(target[:, t], state, memory)
        np.testing.assert_allclose(numpy(step_logits), logits[:, t], atol=1e-5)
    assert LSTMDecoder.from_config(decoder.get_config()).input_feeding
    with pytest.raises(ValueError, match="feeds the output back as `units` features"):
        PeekyLSTMDecoder(15, 6, 8, input_feeding=True)(target, outputs, states, mask)
