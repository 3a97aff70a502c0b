"""RNN decoders with two entry points on one set of weights.

`call` runs teacher-forced over a whole target (training); `step` advances
one token (inference). Both compute the same function: a test holds the
logits of `step`, fed the target token by token, equal to those of `call`.

Axis letters: B batch, S source time, T target time, H units, He encoder
output size, V target vocabulary.

The inference protocol, shared by every decoder:

    memory = decoder.prepare_memory(encoder_outputs, encoder_states, source_mask)
    state = decoder.get_initial_state(encoder_states)
    logits, state, weights = decoder.step(token_ids, state, memory)

`memory` is a dict of per-source tensors (constant across steps) and `state`
a flat list of tensors (changed at every step), both with batch first, so a
search can tile or reorder them without knowing the decoder.
"""

import itertools

import keras
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.layers import attention as attention_lib
from keras_s2s.layers.embedding import Embedding
from keras_s2s.layers.encoder import CELLS, make_rnn
from keras_s2s.sampling import sample_ids
from keras_s2s.specs import TokenIds


def repeat_rows(memory_tensor, like):
    """`memory_tensor` `[B, ...]` with each row repeated for the rows of
    `like` `[B * K, ...]` (row `b * K + k` reads row `b`: a step of a search
    over shared memory, `keras_s2s.inference.search`); the same tensor when
    the rows agree (training, greedy). Builtin ops only (TFLite)."""
    batch = ops.shape(memory_tensor)[0]
    rest = tuple(ops.shape(memory_tensor)[1:])
    tiled = ops.broadcast_to(ops.expand_dims(memory_tensor, 1), (batch, ops.shape(like)[0] // batch) + rest)
    return ops.reshape(tiled, (-1,) + rest)


def _broadcast_time(context, like):
    """`context` `[B, C]` as `[B, T, C]` when `like` is `[B, T, ...]` (the
    teacher-forced path), or as `like`'s rows when it is `[B * K, ...]` (a
    step, `repeat_rows`)."""
    if len(like.shape) == 2:
        return repeat_rows(context, like)
    context = ops.expand_dims(context, 1)
    return ops.broadcast_to(context, ops.shape(like)[:2] + (context.shape[-1],))


class InputFeeding:
    """The feedback policy of input feeding (Luong et al. 2015, sec. 3.3):
    the previous output (the attentional vector `h~_{t-1}`, `units`
    features, zeros before the first token) joins the next step's RNN input.
    It is carried in the state right after the RNN layers' tensors, before
    any a variant appends, and makes teacher forcing step (`keras.ops.scan`).
    `NO_FEEDBACK` is the policy without feedback."""

    steps_in_training = True

    def initial_state(self, rnn_state):
        return rnn_state + [ops.zeros_like(rnn_state[0])]

    def rnn_input(self, x, state, index):
        """`x` `[B, E]` with the fed-back output (state tensor `index`) appended."""
        return ops.concatenate([x, state[index]], axis=-1)

    def next_state(self, rnn_state, output):
        return rnn_state + [output]


class _NoFeedback:
    """No feedback: the state is the RNN layers' alone (`InputFeeding`'s null policy)."""

    steps_in_training = False

    def initial_state(self, rnn_state):
        return rnn_state

    def rnn_input(self, x, state, index):
        return x

    def next_state(self, rnn_state, output):
        return rnn_state


NO_FEEDBACK = _NoFeedback()


class ScheduledSampling:
    """The input policy of scheduled sampling (Bengio et al. 2015, "Scheduled
    Sampling for Sequence Prediction with Recurrent Neural Networks", sec.
    2.4): in training, each step after the first reads, with probability
    `decoder.sampling_probability`, the model's own token drawn from its
    previous output distribution instead of the target token. Its random
    draws are made before the scan, for every step (`draws`; a random op
    inside the scan body would advance a seed state there, which JAX's scan
    forbids). `TEACHER_FORCING` is the policy that always reads the target."""

    steps_in_training = True

    def draws(self, decoder, steps, batch):
        """float32 `[T, B, 2]`: per step a coin and a uniform for the token;
        step 0 reads BOS (its coin is 1, never below a probability <= 1)."""
        draws = keras.random.uniform((steps, batch, 2), dtype="float32", seed=decoder._sampling_seed)
        first = ops.expand_dims(ops.arange(steps) == 0, -1)[..., None]
        return ops.where(first & ops.array([True, False]), 1.0, draws)

    def next_input(self, decoder, x_t, previous_output, draws_t):
        """The step's input embedding: the target's `x_t`, or the embedding of
        the token drawn from the previous output (projected as at inference,
        no dropout) where the coin falls below the probability."""
        ids = sample_ids(decoder.output_dense(previous_output), draws_t[:, 1])
        own = ops.expand_dims(draws_t[:, 0] < decoder.sampling_probability, -1)
        return ops.where(own, ops.cast(decoder.embedding(ids), x_t.dtype), x_t)


class _TeacherForcing:
    """Always the target token (`ScheduledSampling`'s null policy)."""

    steps_in_training = False

    def draws(self, decoder, steps, batch):
        return None

    def next_input(self, decoder, x_t, previous_output, draws_t):
        return x_t


TEACHER_FORCING = _TeacherForcing()


class RNNDecoder(keras.layers.Layer):
    """The decoder family's base: embedding -> RNN layers -> projection.

    Variants override small hooks, each written once for the teacher-forced
    path (tensors `[B, T, ...]`) and the step path (`[B, ...]`):

    - `rnn_input(x, state, memory)`: the first RNN layer's input from the
      target embeddings `x`;
    - `combine_output(h, memory)`: the top RNN output combined with the
      memory before the projection; returns `(output, attention weights or
      None)`;
    - `prepare_memory`, `get_initial_state`, `next_state(rnn_state, output)`:
      what a variant keeps per source and per step (call `super()` first);
    - `build_memory_layers(encoder_outputs_shape, encoder_state_size)`: the
      sublayers the hooks use, built before the RNN layers. The RNN layers'
      input size and the projection's are read from the hooks themselves
      (`rnn_input` and `combine_output` run once on zeros in `build`), never declared beside them;
    - `steps_in_training`: `True` when the teacher-forced path must step
      (the next input depends on the previous output); otherwise it runs
      the fused `keras.layers.LSTM`/`GRU`;
    - `shares_memory`: class attribute, `True` when `step` accepts memory of
      one row per source beside tokens and state of K rows per source (beam
      search then never copies the memory; `repeat_rows` helps a hook that
      mixes a memory tensor with the state). Every class declares its own:
      a subclass that does not is `False` (its hooks may read the memory
      row by row), so a new hook never breaks beam search silently.

    Two policies the base composes, set by constructor arguments:
    `input_feeding` (the `InputFeeding` feedback of the previous output;
    the output must then have `units` features) and `scheduled_sampling`
    (the model's own previous token as the next input in training, Bengio et
    al. 2015). Both make teacher forcing step.
    """

    shares_memory = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "shares_memory" not in cls.__dict__:
            cls.shares_memory = False

    def __init__(
        self,
        vocab_size,
        embedding_dim,
        units,
        cell="lstm",
        num_layers=1,
        dropout=0.0,
        scheduled_sampling=False,
        input_feeding=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.input_feeding = bool(input_feeding)
        self.feedback = InputFeeding() if self.input_feeding else NO_FEEDBACK
        if not isinstance(scheduled_sampling, bool):
            raise TypeError("`scheduled_sampling` must be a bool. Received: "
                            f"scheduled_sampling={scheduled_sampling!r}.")
        self.scheduled_sampling = scheduled_sampling
        self.sampling = ScheduledSampling() if scheduled_sampling else TEACHER_FORCING
        if scheduled_sampling:
            self._sampling_seed = keras.random.SeedGenerator(name="sampling_seed")
        self.vocab_size = _checks.positive_int("vocab_size", vocab_size, limits.MAX_VOCAB_SIZE)
        self.target_spec = TokenIds(self.vocab_size, name="target_ids")
        self.embedding_dim = _checks.positive_int("embedding_dim", embedding_dim, limits.MAX_UNITS)
        self.units = _checks.positive_int("units", units, limits.MAX_UNITS)
        self.cell = _checks.one_of("cell", cell, CELLS)
        self.num_layers = _checks.positive_int("num_layers", num_layers, limits.MAX_LAYERS)
        self.dropout = _checks.probability("dropout", dropout)
        self.attention = None

    # ------------------------------------------------------------ hooks
    @property
    def steps_in_training(self):
        """Whether teacher forcing must run step by step: `True` with
        `scheduled_sampling` (the next input may be the model's own token);
        and with input feeding; subclasses add their own reasons (`or
        super().steps_in_training`)."""
        return self.sampling.steps_in_training or self.feedback.steps_in_training

    def build_memory_layers(self, encoder_outputs_shape, encoder_state_size):
        """Builds the sublayers the hooks use (none here)."""

    def rnn_input(self, x, state, memory):
        """The first RNN layer's input: the target embeddings `x` (`[B, E]`
        or `[B, T, E]`), here unchanged."""
        return x

    def combine_output(self, h, memory):
        """`(output, weights)` from the top RNN output `h` (`[B, H]` or
        `[B, T, H]`): here `h` itself and no attention weights."""
        return h, None

    def next_state(self, rnn_state, output):
        """The step state after one token: here the RNN layers' states."""
        return rnn_state

    # ------------------------------------------------------------------ build
    @property
    def num_states(self):
        """State tensors per RNN layer: 2 for LSTM (h, c), 1 for GRU (h)."""
        return 2 if self.cell == "lstm" else 1

    def build(self, target_ids_shape, encoder_outputs_shape, encoder_states_shape):
        encoder_states_shape = list(encoder_states_shape)
        if len(encoder_states_shape) != self.num_states:
            raise ValueError(
                f"A decoder with cell={self.cell!r} needs {self.num_states} "
                f"encoder state tensor(s). Received: {len(encoder_states_shape)} "
                "(use the same `cell` in encoder and decoder)."
            )
        output_size = encoder_outputs_shape[-1]
        state_size = encoder_states_shape[0][-1]
        self.embedding = Embedding(
            self.vocab_size, self.embedding_dim, dtype=self.dtype_policy, name="embedding"
        )
        self.embedding.build(target_ids_shape)
        self.dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout"
        )
        # Bridge (tanh projection) when the encoder state size differs, e.g.
        # a bidirectional encoder of the same units.
        self.bridges = []
        if state_size != self.units:
            for j in range(self.num_states):
                bridge = keras.layers.Dense(
                    self.units, activation="tanh", dtype=self.dtype_policy, name=f"bridge_{j}"
                )
                bridge.build((None, state_size))
                self.bridges.append(bridge)
        # Sublayers are made in this order (their initializers draw their seeds when made), and the RNN
        # layers and the projection are built once the hooks' sizes are known.
        self.rnn_layers = [make_rnn(self.cell, self.units, f"{self.cell}_{i}", self.dtype_policy)
                           for i in range(self.num_layers)]
        self.build_memory_layers(tuple(encoder_outputs_shape), state_size)
        # Logits in float32 under mixed precision (Keras' guidance: keep the
        # output layer float32 so the softmax and the loss stay stable).
        self.output_dense = keras.layers.Dense(
            self.vocab_size, dtype=self.dtype_policy.variable_dtype, name="output_dense"
        )
        input_size, projection_size = self._hook_sizes(output_size, state_size)
        if self.input_feeding and projection_size != self.units:
            raise ValueError(
                "`input_feeding=True` feeds the output back as `units` features, but this decoder's "
                f"combine_output gives {projection_size} (units={self.units}).")
        for rnn in self.rnn_layers:
            rnn.build((None, None, input_size))
            input_size = self.units
        self.output_dense.build((None, projection_size))
        if self.scheduled_sampling:
            # Set between epochs by `keras_s2s.callbacks.ScheduledSampling`.
            self.sampling_probability = self.add_weight(
                shape=(), initializer="zeros", trainable=False, dtype="float32",
                name="sampling_probability")

    def _hook_sizes(self, encoder_output_size, encoder_state_size):
        """`(RNN input size, projection input size)`: the last axes of
        `rnn_input` (with the feedback) and `combine_output`, run once on
        zeros of one source (two steps) and one target step. Concrete
        tensors, not symbolic ones: a hook may call backend functions
        (`tf.*`, `jax.numpy`) that refuse `KerasTensor`s."""
        dtype = self.compute_dtype
        outputs = ops.zeros((1, 2, encoder_output_size), dtype)
        states = [ops.zeros((1, encoder_state_size), dtype) for _ in range(self.num_states)]
        memory = self.prepare_memory(outputs, states, ops.ones((1, 2), "bool"))
        state = self.get_initial_state(states)
        x = self._rnn_input(ops.zeros((1, self.embedding_dim), dtype), state, memory)
        output, _ = self.combine_output(ops.zeros((1, self.units), dtype), memory)
        return x.shape[-1], output.shape[-1]

    def _rnn_input(self, x, state, memory):
        """The first RNN layer's input: the variant's `rnn_input`, then the feedback policy's."""
        return self.feedback.rnn_input(self.rnn_input(x, state, memory), state,
                                       self.num_layers * self.num_states)

    # ------------------------------------------------------- inference API
    def prepare_memory(self, encoder_outputs, encoder_states, source_mask):
        """Per-source tensors that every `step` reads.

        Args:
            encoder_outputs: float `[B, S, He]`.
            encoder_states: list of float `[B, Hs]`, the encoder's final state.
            source_mask: bool `[B, S]`, `True` at real source tokens.

        Returns:
            A dict of batch-first tensors: always `mask` `[B, S]`; attention
            decoders add `values` `[B, S, He]` and `keys` (projected once by
            the attention layer); peeky decoders add `context` `[B, Hs]`.
        """
        del encoder_outputs, encoder_states
        return {"mask": ops.cast(source_mask, "bool")}

    def get_initial_state(self, encoder_states):
        """The decoder state before the first token.

        Args:
            encoder_states: list of float `[B, Hs]` (`[h, c]` or `[h]`).

        Returns:
            A flat list of float `[B, H]` tensors: the state of every RNN layer
            (each starts from the bridged encoder state), then, with input
            feeding, the previous output (zeros), then what a variant adds.
        """
        encoder_states = [ops.cast(s, self.compute_dtype) for s in encoder_states]
        if len(encoder_states) != self.num_states:
            raise ValueError(
                f"A decoder with cell={self.cell!r} needs {self.num_states} "
                f"encoder state tensor(s). Received: {len(encoder_states)}."
            )
        if self.bridges:
            encoder_states = [b(s) for b, s in zip(self.bridges, encoder_states)]
        return self.feedback.initial_state(list(encoder_states) * self.num_layers)

    def step(self, token_ids, state, memory):
        """Advances the decoder by one token.

        Args:
            token_ids: int tensor `[B]`, the previous token (BOS first).
            state: flat list from `get_initial_state` or a previous `step`.
            memory: dict from `prepare_memory`.

        Returns:
            A tuple `(logits, state, weights)`: `logits` float `[B, V]`, the
            new state (same structure), and the attention `weights` float
            `[B, S]` for attention decoders, else `None`.
        """
        x = self.embedding(token_ids)
        output, state, weights = self._step_core(x, state, memory)
        return self.output_dense(output), state, weights

    def _step_core(self, x, state, memory, dropout_masks=None):
        """One step; `dropout_masks` (scaled, one per RNN layer's input) in training."""
        n = self.num_states
        h = self._rnn_input(x, state, memory)
        rnn_state = []
        for i, rnn in enumerate(self.rnn_layers):
            if dropout_masks is not None:
                h = h * dropout_masks[i]
            h, layer_state = rnn.cell(h, list(state[i * n : (i + 1) * n]))
            rnn_state.extend(layer_state)
        output, weights = self.combine_output(h, memory)
        return output, self.next_state(self.feedback.next_state(rnn_state, output), output), weights

    # ------------------------------------------------------- training API
    def call(
        self,
        target_ids,
        encoder_outputs,
        encoder_states,
        source_mask=None,
        training=None,
    ):
        self.target_spec.check_batch(target_ids)
        target_ids = self.target_spec.check_in_graph(target_ids)
        if source_mask is None:
            source_mask = ops.ones(ops.shape(encoder_outputs)[:2], dtype="bool")
        memory = self.prepare_memory(encoder_outputs, encoder_states, source_mask)
        state = self.get_initial_state(encoder_states)
        x = self.embedding(target_ids)
        if self.steps_in_training:
            outputs = self._scan(x, state, memory, training)
        else:
            outputs = self._fused(x, state, memory, training)
        return self.output_dense(self.dropout_layer(outputs, training=training))

    def _fused(self, x, state, memory, training):
        """Teacher forcing through the fused `keras.layers.LSTM`/`GRU`."""
        n = self.num_states
        h = self.rnn_input(x, state, memory)  # no feedback here: feedback steps (`steps_in_training`)
        for i, rnn in enumerate(self.rnn_layers):
            h = self.dropout_layer(h, training=training)
            h = rnn(h, initial_state=list(state[i * n : (i + 1) * n]), training=training)[0]
        return self.combine_output(h, memory)[0]

    def _scan(self, x, state, memory, training):
        """Teacher forcing step by step (`steps_in_training`)."""

        x = ops.transpose(x, [1, 0, 2])  # [T, B, E]
        steps, batch = ops.shape(x)[0], ops.shape(x)[1]
        # Random draws (dropout masks, the input policy's) happen before the scan, for every step: a
        # random op inside the scan body would advance a seed state there, which JAX's scan forbids
        # (a traced value escaping the body). They travel in the scanned tensor itself: Keras'
        # TensorFlow `ops.scan` fails on several scanned tensors whose length is unknown (padded
        # batches of any length).
        sizes = [x.shape[-1]]
        extra = []
        dropout = bool(training) and self.dropout > 0
        if dropout:  # one mask per step and RNN layer input
            sizes += [rnn.cell.kernel.shape[0] for rnn in self.rnn_layers]
            extra += [self.dropout_layer(ops.ones((steps, batch, size), x.dtype), training=True)
                      for size in sizes[1:]]
        draws = self.sampling.draws(self, steps, batch) if training else None
        if draws is not None:
            sizes.append(draws.shape[-1])
            extra.append(ops.cast(draws, x.dtype))
        if extra:
            x = ops.concatenate([x] + extra, axis=-1)

        def fn(carry, x_t):
            parts = [x_t]
            if len(sizes) > 1:
                parts = ops.split(x_t, list(itertools.accumulate(sizes[:-1])), axis=-1)
            x_t = parts[0]
            masks_t = parts[1 : 1 + self.num_layers] if dropout else None
            if draws is not None:
                x_t = self.sampling.next_input(self, x_t, carry[1], ops.cast(parts[-1], "float32"))
            output, new_state, _ = self._step_core(x_t, carry[0], memory, masks_t)
            return (new_state, output), (new_state, output)

        # Keras' TensorFlow `ops.scan` stacks outputs of the carry's own
        # structure, so the carry holds the last output too.
        output_size = self.output_dense.kernel.shape[0]
        initial_output = ops.zeros((batch, output_size), dtype=self.compute_dtype)
        _, (_, outputs) = ops.scan(fn, (state, initial_output), x)
        return ops.transpose(outputs, [1, 0, 2])

    def compute_output_shape(
        self, target_ids_shape, encoder_outputs_shape, encoder_states_shape, source_mask_shape=None
    ):
        return tuple(target_ids_shape) + (self.vocab_size,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocab_size": self.vocab_size,
                "embedding_dim": self.embedding_dim,
                "units": self.units,
                "cell": self.cell,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
                "scheduled_sampling": self.scheduled_sampling,
                "input_feeding": self.input_feeding,
            }
        )
        return config


_DECODER_ARGS_DOC = """
    Args:
        vocab_size: positive int, target vocabulary size V (id 0 is padding).
        embedding_dim: positive int, size of the target embeddings.
        units: positive int, units H of each RNN layer.
        cell: `"lstm"` or `"gru"`; must match the encoder's. Defaults to
            `"lstm"`.
        num_layers: positive int, stacked RNN layers; each starts from the
            encoder's final state. Defaults to 1.
        dropout: float in [0, 1), dropout on RNN inputs and on the input of
            the output projection during training. Defaults to 0.
        input_feeding: bool. `True` feeds the previous output back into the
            next step's RNN input (`InputFeeding`; Luong et al. 2015, sec.
            3.3), and teacher forcing steps. Defaults to `False`.
        scheduled_sampling: bool. `True` trains step by step and, at each
            step after the first, feeds the model's own token, drawn from
            its previous output distribution, instead of the target token
            with probability `sampling_probability` (a non-trainable float32
            weight, 0 until a `keras_s2s.callbacks.ScheduledSampling`
            callback sets it; Bengio et al. 2015, "Scheduled Sampling for
            Sequence Prediction with Recurrent Neural Networks", sec. 2.4).
            Inference is unchanged. Defaults to `False` (teacher forcing;
            the fused RNN kernels where the decoder allows them).
        **kwargs: base `keras.layers.Layer` arguments."""

_DECODER_CALL_DOC = """
    Call arguments:
        target_ids: int tensor `[B, T]`, decoder inputs starting with BOS,
            right-padded with 0.
        encoder_outputs: float `[B, S, He]`.
        encoder_states: list of float `[B, Hs]`, `[h, c]` for LSTM, `[h]` for
            GRU. When `Hs != units`, a learned `tanh` bridge maps it to `H`.
        source_mask: optional bool `[B, S]`, `True` at real source tokens.
            Defaults to all `True`.
        training: bool, enables dropout.

    Returns:
        Logits, float32 `[B, T, V]` (float32 also under mixed precision).

    Step-wise inference: `prepare_memory`, `get_initial_state` and `step`
    (see the module docstring)."""


@keras.saving.register_keras_serializable(package="keras_s2s")
class LSTMDecoder(RNNDecoder):
    __doc__ = (
        """Basic RNN decoder (Sutskever et al. 2014; Cho et al. 2014).

    The decoder RNN starts from the encoder's final state and reads the
    previous target token; logits are `W_o h_t + b_o`. Training runs through
    the fused `keras.layers.LSTM`/`GRU` kernels (cuDNN-eligible on GPU).
"""
        + _DECODER_ARGS_DOC
        + _DECODER_CALL_DOC
        + """

    Raises:
        ValueError: for non-positive sizes or sizes above `keras_s2s.limits`,
            unknown `cell`, dropout outside [0, 1), target ids of rank other
            than 2, or an encoder state with the wrong number of tensors.
        TypeError: for non-integer target ids.
        tf.errors.InvalidArgumentError (TensorFlow) or ValueError (PyTorch,
            JAX; a `JaxRuntimeError` carrying it inside `jax.jit`): at call
            time, a target id outside `[0, vocab_size)`, named in the message.
"""
    )

    shares_memory = True  # its hooks read no memory


@keras.saving.register_keras_serializable(package="keras_s2s")
class PeekyLSTMDecoder(RNNDecoder):
    __doc__ = (
        """Decoder that "peeks" at the encoder's summary at every step.

    The encoder's final hidden state `c` (the context vector of Cho et al.
    2014, eq. 4-5; the "peeky" decoder of Saito, Deep Learning from Scratch
    2, ch. 7) is concatenated to the decoder's input `[y_{t-1}; c]` at every
    step and to the input of the output projection `W_o [h_t; c]`. Training
    uses the fused RNN kernels.
"""
        + _DECODER_ARGS_DOC
        + _DECODER_CALL_DOC
        + """

    Raises:
        ValueError, TypeError: as `LSTMDecoder`.

    References:
        Cho et al. Learning Phrase Representations using RNN Encoder-Decoder
        for Statistical Machine Translation. EMNLP 2014.
"""
    )

    shares_memory = True  # the context joins each row through `_broadcast_time`

    def prepare_memory(self, encoder_outputs, encoder_states, source_mask):
        memory = super().prepare_memory(encoder_outputs, encoder_states, source_mask)
        memory["context"] = ops.cast(encoder_states[0], self.compute_dtype)
        return memory

    def rnn_input(self, x, state, memory):
        return ops.concatenate([x, _broadcast_time(memory["context"], x)], axis=-1)

    def combine_output(self, h, memory):
        return ops.concatenate([h, _broadcast_time(memory["context"], h)], axis=-1), None


@keras.saving.register_keras_serializable(package="keras_s2s")
class AttentionLSTMDecoder(RNNDecoder):
    __doc__ = (
        """Decoder with attention over the encoder outputs (Luong et al. 2015).

    At step t the top RNN output `h_t` queries the encoder outputs; the
    context `c_t` and `h_t` form the attentional state
    `h~_t = tanh(W_c [c_t; h_t])` (Luong et al. 2015, eq. 5) that feeds the
    output projection. With `input_feeding=True`, `h~_{t-1}` is concatenated
    to the next input (sec. 3.3); training then steps with `keras.ops.scan`,
    otherwise it runs the fused RNN kernels and attends over all `T` at once.

    Args:
        attention: a `BaseAttention` instance, or one of `"bahdanau"`,
            `"luong"`, `"luong_general"`, `"luong_concat"` (built with `units`).
        attention_activation: activation of the attentional layer
            `W_c [c_t; h_t]`: `"tanh"` (Luong et al. 2015, eq. 5) or `None`
            (linear, as tfa's `AttentionWrapper(attention_layer_size=...)`),
            or any Keras activation name. Defaults to `"tanh"`.
"""
        + _DECODER_ARGS_DOC.replace("    Args:\n", "")
        + _DECODER_CALL_DOC
        + """

    Raises:
        ValueError, TypeError: as `LSTMDecoder`, plus an unknown attention
            name or an attention object that is not a `BaseAttention`.

    References:
        Luong, Pham, Manning. Effective Approaches to Attention-based Neural
        Machine Translation. EMNLP 2015.
"""
    )

    shares_memory = True  # K beams of a source are K queries of its memory (`combine_output`)

    def __init__(
        self,
        attention,
        vocab_size,
        embedding_dim,
        units,
        cell="lstm",
        num_layers=1,
        dropout=0.0,
        input_feeding=False,
        attention_activation="tanh",
        **kwargs,
    ):
        super().__init__(
            vocab_size, embedding_dim, units, cell=cell, num_layers=num_layers,
            dropout=dropout, input_feeding=input_feeding, **kwargs,
        )
        if isinstance(attention, dict):
            attention = keras.saving.deserialize_keras_object(attention)
        self.attention = attention_lib.get(attention, self.units, dtype=self.dtype_policy)
        if attention_activation is not None and not isinstance(attention_activation, str):
            raise TypeError("`attention_activation` must be an activation name or None. Received: "
                            f"attention_activation={attention_activation!r}.")
        try:
            keras.activations.get(attention_activation)
        except ValueError:
            raise ValueError(f"Unknown activation. Received: attention_activation="
                             f"{attention_activation!r}. Expected 'tanh', None or a Keras "
                             "activation name.") from None
        self.attention_activation = attention_activation

    def build_memory_layers(self, encoder_outputs_shape, encoder_state_size):
        if not self.attention.built:  # a deserialized layer comes built
            self.attention.build((None, None, self.units), encoder_outputs_shape)
            self.attention.built = True
        self.attention_dense = keras.layers.Dense(
            self.units,
            activation=self.attention_activation,
            use_bias=False,
            dtype=self.dtype_policy,
            name="attention_dense",
        )
        self.attention_dense.build((None, self.units + encoder_outputs_shape[-1]))

    def prepare_memory(self, encoder_outputs, encoder_states, source_mask):
        memory = super().prepare_memory(encoder_outputs, encoder_states, source_mask)
        memory["values"] = ops.cast(encoder_outputs, self.compute_dtype)
        memory["keys"] = self.attention.project_key(memory["values"])
        return memory

    def combine_output(self, h, memory):
        values = memory["values"]
        if len(h.shape) == 3:  # teacher forcing: T queries per source
            context, weights = self.attention.attend(h, values, memory["keys"], memory["mask"])
        else:  # a step: rows b * K + k are K queries of source b (K = 1 unless memory is shared)
            queries = ops.reshape(h, (ops.shape(values)[0], -1, h.shape[-1]))
            context, weights = self.attention.attend(queries, values, memory["keys"], memory["mask"])
            context = ops.reshape(context, (-1, context.shape[-1]))
            weights = ops.reshape(weights, (-1, ops.shape(weights)[-1]))
        return self.attention_dense(ops.concatenate([context, h], axis=-1)), weights

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention": keras.saving.serialize_keras_object(self.attention),
                "attention_activation": self.attention_activation,
            }
        )
        return config
