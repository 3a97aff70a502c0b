"""The RNN encoder: embedding, stacked (bidirectional, residual) LSTM/GRU."""

import keras
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.layers.embedding import Embedding
from keras_s2s.specs import TokenIds

CELLS = ("lstm", "gru")


def make_rnn(cell, units, name, dtype_policy):
    """A fused Keras RNN layer (`keras.layers.LSTM` or `GRU`, cuDNN-eligible)
    returning sequences and states."""
    layer_class = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
    return layer_class(
        units,
        return_sequences=True,
        return_state=True,
        dtype=dtype_policy,
        name=name,
    )


class _Untracked:
    """Holds a value out of Keras' tracking (not a layer, list, dict or tuple:
    no sublayers, weights or saved entries come from it)."""

    def __init__(self, value):
        self.value = value


def reverse_padded(x, mask):
    """Reverses the real steps of right-padded sequences; padding stays last.

    Args:
        x: tensor `[B, S, ...]` (ids, or attention weights over S), padding
            at the end of each row.
        mask: bool tensor `[B, S]`, `True` at real steps.

    Returns:
        `x` with its real steps reversed along axis 1:
        `[a, b, c, 0, 0] -> [c, b, a, 0, 0]`. Applying it twice gives the
        input back. `keras.ops` only (every backend; builtin TFLite ops).
    """
    lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)  # [B, 1]
    positions = ops.expand_dims(ops.arange(ops.shape(x)[1], dtype="int32"), 0)  # [1, S]
    index = ops.where(positions < lengths, lengths - 1 - positions, positions)  # [B, S]
    for _ in range(len(x.shape) - 2):
        index = ops.expand_dims(index, -1)
    index = ops.broadcast_to(index, ops.shape(x))
    return ops.take_along_axis(x, index, axis=1)


def join_frames(x, mask):
    """Halves the time axis by joining consecutive pairs of frames (Chan et
    al. 2016, LAS, eq. 5): `[B, S, H] -> [B, ceil(S / 2), 2H]`; a pair is real
    when its first frame is; an odd length gets one zero frame.

    Args:
        x: float `[B, S, H]`, zeros at padding.
        mask: bool `[B, S]`.

    Returns:
        `(x, mask)`: float `[B, ceil(S / 2), 2H]` and bool `[B, ceil(S / 2)]`.
    """
    length = ops.shape(x)[1]
    odd = length % 2
    x = ops.pad(x, [[0, 0], [0, odd], [0, 0]])
    mask = ops.pad(mask, [[0, 0], [0, odd]], constant_values=False)
    half = (length + odd) // 2
    x = ops.reshape(x, (ops.shape(x)[0], half, 2 * x.shape[-1]))
    return x, mask[:, ::2]


class RNNStack(keras.layers.Layer):
    """The RNN stack shared by `Encoder` and `FeatureEncoder` (not a layer to
    use on its own): `num_layers` fused LSTM/GRU layers, optionally
    bidirectional and residual, dropout on every input, the padding mask
    passed explicitly; with `pyramid_layers=P`, the inputs of layers 1..P
    have pairs of frames joined (`join_frames`).

    Args:
        units, cell, num_layers, bidirectional, residual, dropout: see
            `Encoder`.
    """

    def __init__(self, units, cell="lstm", num_layers=1, bidirectional=False, residual=False,
                 dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = _checks.positive_int("units", units, limits.MAX_UNITS)
        self.cell = _checks.one_of("cell", cell, CELLS)
        self.num_layers = _checks.positive_int("num_layers", num_layers, limits.MAX_LAYERS)
        self.bidirectional = bool(bidirectional)
        self.residual = bool(residual)
        self.dropout = _checks.probability("dropout", dropout)

    @property
    def output_size(self):
        """Size H of the outputs and of each final state."""
        return self.units * (2 if self.bidirectional else 1)

    @property
    def num_states(self):
        """Number of state tensors: 2 for LSTM (h, c), 1 for GRU (h)."""
        return 2 if self.cell == "lstm" else 1

    def _build_stack(self, input_size, pyramid_layers=0):
        """Builds `dropout_layer` and `rnn_layers` (the attribute names saved
        in `.keras` files)."""
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        self.rnn_layers = []
        # `Bidirectional` copies the layer it is given twice (serialize, then
        # deserialize), and inside `load_model` Keras' object-sharing scope
        # looks a copy up by the `id()` of the layer it came from. Freed, that
        # layer's address was reused for the next layer's, whose forward copy
        # was then the previous backward one: a load failing at random ("both
        # go_backwards"). The layers copied stay alive as long as the stack.
        self._copied_layers = _Untracked([])
        for i in range(self.num_layers):
            if 0 < i <= pyramid_layers:
                input_size *= 2
            rnn = make_rnn(self.cell, self.units, f"{self.cell}_{i}", self.dtype_policy)
            if self.bidirectional:
                self._copied_layers.value.append(rnn)
                rnn = keras.layers.Bidirectional(
                    rnn, dtype=self.dtype_policy, name=f"bidirectional_{i}"
                )
            rnn.build((None, None, input_size))
            self.rnn_layers.append(rnn)
            input_size = self.output_size

    def _run_stack(self, x, mask, training, pyramid_layers=0):
        """Runs the stack over `x` `[B, S, E]` with its `mask`: returns
        `(outputs zeroed at padding, final states, mask)`."""
        states = None
        for i, rnn in enumerate(self.rnn_layers):
            joined = 0 < i <= pyramid_layers
            if joined:
                x, mask = join_frames(x * ops.expand_dims(ops.cast(mask, x.dtype), -1), mask)
            result = rnn(self.dropout_layer(x, training=training), mask=mask, training=training)
            outputs, layer_states = result[0], list(result[1:])
            x = outputs + x if (self.residual and i > 0 and not joined) else outputs
            states = layer_states
        if self.bidirectional:
            n = self.num_states
            states = [ops.concatenate([f, b], axis=-1) for f, b in zip(states[:n], states[n:])]
        x = x * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        return x, states, mask

    def _memory_length(self, length):
        """Memory steps for `length` source steps (`None` when unknown)."""
        return length

    def compute_output_shape(self, source_shape):
        batch, length = source_shape[0], self._memory_length(source_shape[1])
        return (
            (batch, length, self.output_size),
            [(batch, self.output_size)] * self.num_states,
            (batch, length),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "cell": self.cell, "num_layers": self.num_layers,
                       "bidirectional": self.bidirectional, "residual": self.residual,
                       "dropout": self.dropout})
        return config


@keras.saving.register_keras_serializable(package="keras_s2s")
class Encoder(RNNStack):
    """Embedding plus a stack of LSTM or GRU layers over right-padded ids.

    Layers are `keras.layers.LSTM`/`GRU` (the fused, cuDNN-eligible kernels),
    given the padding mask explicitly, so a right-padded sequence yields the
    same outputs and final states at its real tokens as the unpadded one.
    With `residual=True`, layers after the first add their input to their
    output (Wu et al. 2016, GNMT, sec. 3.1). Dropout applies to the input of
    every RNN layer.

    Args:
        vocab_size: positive int, source vocabulary size V (id 0 is padding).
        embedding_dim: positive int, size of the source embeddings.
        units: positive int, units of each RNN layer per direction.
        cell: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        num_layers: positive int, stacked RNN layers. Defaults to 1.
        bidirectional: bool, every layer reads both directions and
            concatenates them, so outputs and states have size `2 * units`.
            Defaults to `False`.
        residual: bool, residual connections between stacked layers.
            Defaults to `False`.
        dropout: float in [0, 1), dropout rate on RNN inputs during training.
            Defaults to 0.
        reverse_source: bool, reverse the real tokens of each source before
            encoding (Sutskever et al. 2014); padding stays at the end, and
            outputs are in reversed order. Defaults to `False`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        source_ids: int32/int64 tensor `[B, S]`, right-padded with 0.
        training: bool, enables dropout.

    Returns:
        A tuple `(outputs, states, mask)`: `outputs` float `[B, S, H]` with
        `H = units * (2 if bidirectional else 1)`, zeros at padding; `states`
        a list with the top layer's final state, `[h, c]` for LSTM and `[h]`
        for GRU, each `[B, H]` (both directions concatenated); `mask` bool
        `[B, S]`, `True` at real tokens.

    Raises:
        ValueError: for non-positive sizes or sizes above `keras_s2s.limits`,
            an unknown `cell`, a dropout rate outside [0, 1), or
            `source_ids` of rank other than 2.
        TypeError: for `source_ids` that are not integers.
        tf.errors.InvalidArgumentError (TensorFlow) or ValueError (PyTorch,
            JAX; a `JaxRuntimeError` carrying it inside `jax.jit`): at call
            time, an id outside `[0, vocab_size)` (a negative id is never
            wrapped around); the message names the first such id.
    """

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        residual=False,
        dropout=0.0,
        reverse_source=False,
        **kwargs,
    ):
        super().__init__(units, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                         residual=residual, dropout=dropout, **kwargs)
        self.vocab_size = _checks.positive_int("vocab_size", vocab_size, limits.MAX_VOCAB_SIZE)
        self.embedding_dim = _checks.positive_int("embedding_dim", embedding_dim, limits.MAX_UNITS)
        self.reverse_source = bool(reverse_source)
        self.source_spec = TokenIds(self.vocab_size)

    def build(self, source_ids_shape):
        self.embedding = Embedding(
            self.vocab_size, self.embedding_dim, dtype=self.dtype_policy, name="embedding"
        )
        self.embedding.build(source_ids_shape)
        self._build_stack(self.embedding_dim)

    def call(self, source_ids, training=None):
        self.source_spec.check_batch(source_ids)
        source_ids = self.source_spec.check_in_graph(source_ids)
        mask = ops.not_equal(source_ids, 0)
        if self.reverse_source:
            source_ids = reverse_padded(source_ids, mask)
        x = self.embedding(source_ids)
        return self._run_stack(x, mask, training)

    def get_config(self):
        config = super().get_config()
        config.update({"vocab_size": self.vocab_size, "embedding_dim": self.embedding_dim,
                       "reverse_source": self.reverse_source})
        return config
