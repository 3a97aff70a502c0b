"""Attention layers for RNN encoder-decoders.

Axis letters used in shapes: B batch, Tq query time, S source (value) time,
Hq query size, Hk key size, Hv value size, A attention units.

All layers share one call contract (see `BaseAttention`):
`call(query, value, key=None, value_mask=None) -> (context, weights)`.
"""

import keras
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits

# Scores are masked and normalized in float32 whatever the compute dtype, so
# the fill value never overflows float16 or loses meaning in bfloat16.
_MASK_FILL = -1e9


@keras.saving.register_keras_serializable(package="keras_s2s")
class BaseAttention(keras.layers.Layer):
    """Base class of attention layers: masking, softmax and context.

    A subclass implements `score(query, key)`; optionally `project_key(key)`
    (work done once per source, e.g. `W_k h_s`, so that step-wise decoding
    does not repeat it) and `build(query_shape, value_shape, key_shape=None)`
    to create weights. Such a subclass plugs into every decoder of the package
    and into `keras_s2s.build_seq2seq(attention=...)`. Register it with
    `keras.saving.register_keras_serializable` to reload saved models.

    The scores are masked and normalized in float32, then cast back to the
    layer's compute dtype, so `mixed_float16` and `mixed_bfloat16` policies
    keep finite weights.

    Call arguments:
        query: float tensor `[B, Tq, Hq]`, or `[B, Hq]` for a single step.
        value: float tensor `[B, S, Hv]`, the encoder outputs.
        key: optional float tensor `[B, S, Hk]`. Defaults to `value`.
        value_mask: optional bool tensor `[B, S]`, `True` at real source
            tokens. Defaults to the Keras mask attached to `value`, if any,
            else no masking.

    Returns:
        A tuple `(context, weights)`: `context` float `[B, Tq, Hv]` (or
        `[B, Hv]`), the weighted sum of `value`; `weights` float `[B, Tq, S]`
        (or `[B, S]`), a softmax over real source positions. Masked positions
        get weight exactly 0; a row whose positions are all masked gives all
        zero weights and a zero context, never NaN.

    Example:

    ```python
    class ScaledDotAttention(keras_s2s.layers.BaseAttention):
        def score(self, query, key):
            # query [B, Tq, H], key [B, S, H] -> scores [B, Tq, S]
            scale = keras.ops.cast(keras.ops.shape(key)[-1], query.dtype) ** -0.5
            return keras.ops.einsum("bqh,bsh->bqs", query, key) * scale
    ```
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, query_shape, value_shape, key_shape=None):
        """Creates weights; the base class has none."""

    def project_key(self, key):
        """Transforms the keys once per source; identity unless overridden.

        Args:
            key: float tensor `[B, S, Hk]`.

        Returns:
            A tensor `[B, S, ...]` that `score` receives as its `key`.
        """
        return key

    def score(self, query, key):
        """Unnormalized alignment scores.

        Args:
            query: float tensor `[B, Tq, Hq]`.
            key: tensor `[B, S, ...]` as returned by `project_key`.

        Returns:
            Float tensor `[B, Tq, S]`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement score(query, key)."
        )

    def attend(self, query, value, projected_key, value_mask=None):
        """Attention with keys already passed through `project_key`.

        Decoders call this at every inference step so that the key
        projection runs once per source instead of once per token. Same
        arguments and returns as `call`, with `projected_key` in place of
        `key`. The layer must be built (call it once, or `build` it).
        """
        single_step = len(query.shape) == 2
        query = ops.cast(query, self.compute_dtype)
        value = ops.cast(value, self.compute_dtype)
        if single_step:
            query = ops.expand_dims(query, 1)
        scores = ops.cast(self.score(query, projected_key), "float32")
        if value_mask is not None:
            mask = ops.expand_dims(ops.cast(value_mask, "bool"), 1)
            scores = ops.where(mask, scores, _MASK_FILL)
            weights = ops.softmax(scores, axis=-1)
            weights = weights * ops.cast(mask, "float32")
        else:
            weights = ops.softmax(scores, axis=-1)
        weights = ops.cast(weights, self.compute_dtype)
        context = ops.matmul(weights, value)
        if single_step:
            context = ops.squeeze(context, 1)
            weights = ops.squeeze(weights, 1)
        return context, weights

    def call(self, query, value, key=None, value_mask=None):
        _checks.check_rank("query", query, (2, 3))
        _checks.check_rank("value", value, (3,))
        if key is None:
            key = value
        return self.attend(query, value, self.project_key(key), value_mask)

    def compute_mask(self, query, value, key=None, value_mask=None, mask=None):
        return None

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        context_shape = tuple(query_shape[:-1]) + (value_shape[-1],)
        weights_shape = tuple(query_shape[:-1]) + (value_shape[1],)
        return context_shape, weights_shape


@keras.saving.register_keras_serializable(package="keras_s2s")
class BahdanauAttention(BaseAttention):
    """Additive attention (Bahdanau et al. 2015).

    Score: `e_ij = v^T tanh(W_q q_i + W_k k_j)` (Bahdanau et al. 2015, eq. 6
    and appendix A.1.2). With `normalize=True`, `v` is weight-normalized
    (Salimans & Kingma 2016): `v <- g * v / ||v||` and a bias `b` is added
    inside the tanh, as `tfa.seq2seq.BahdanauAttention(normalize=True)` did.

    Args:
        units: positive int, size A of the hidden layer of the scoring MLP.
        normalize: bool, weight normalization of `v`. Defaults to `False`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`).

    Call arguments and returns: see `BaseAttention`.

    Raises:
        ValueError: if `units` is not a positive int.

    References:
        Bahdanau, Cho, Bengio. Neural Machine Translation by Jointly Learning
        to Align and Translate. ICLR 2015.
    """

    def __init__(self, units, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.units = _checks.positive_int("units", units, limits.MAX_UNITS)
        self.normalize = bool(normalize)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        self.query_dense = keras.layers.Dense(
            self.units, use_bias=False, dtype=self.dtype_policy, name="query_dense"
        )
        self.query_dense.build(tuple(query_shape))
        self.key_dense = keras.layers.Dense(
            self.units, use_bias=False, dtype=self.dtype_policy, name="key_dense"
        )
        self.key_dense.build(tuple(key_shape))
        self.v = self.add_weight(
            name="v", shape=(self.units,), initializer="glorot_uniform"
        )
        if self.normalize:
            self.g = self.add_weight(
                name="g",
                shape=(),
                initializer=keras.initializers.Constant((1.0 / self.units) ** 0.5),
            )
            self.b = self.add_weight(name="b", shape=(self.units,), initializer="zeros")

    def project_key(self, key):
        return self.key_dense(key)

    def score(self, query, key):
        processed_query = ops.expand_dims(self.query_dense(query), 2)  # [B,Tq,1,A]
        hidden = processed_query + ops.expand_dims(key, 1)  # [B,Tq,S,A]
        v = ops.cast(self.v, hidden.dtype)
        if self.normalize:
            hidden = hidden + ops.cast(self.b, hidden.dtype)
            v = ops.cast(self.g, hidden.dtype) * v / ops.sqrt(ops.sum(v * v))
        return ops.sum(v * ops.tanh(hidden), axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "normalize": self.normalize})
        return config


_LUONG_SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="keras_s2s")
class LuongAttention(BaseAttention):
    """Multiplicative and concat attention (Luong et al. 2015, eq. 8).

    Scores between a decoder state `h_t` (query) and a source state `h_s`
    (key):

    - `"dot"`: `h_t^T h_s`; query and key sizes must be equal;
    - `"general"`: `h_t^T W_a h_s`;
    - `"concat"`: `v_a^T tanh(W_a [h_t; h_s])`, computed as
      `v_a^T tanh(W_q h_t + W_k h_s)`.

    With `scale=True` the score is multiplied by a learned scalar `g`
    (initialized to 1), as `tfa.seq2seq.LuongAttention(scale=True)` did.

    Args:
        score: one of `"dot"`, `"general"`, `"concat"`. Defaults to `"dot"`.
        units: positive int, hidden size of the `"concat"` scorer. Defaults to
            the query size. Must be `None` for `"dot"` and `"general"`.
        scale: bool, learn a scalar multiplier of the score. Defaults to
            `False`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments and returns: see `BaseAttention`.

    Raises:
        ValueError: for an unknown `score`, `units` given with `"dot"` or
            `"general"`, or (when built) a `"dot"` score with query size
            different from key size.

    References:
        Luong, Pham, Manning. Effective Approaches to Attention-based Neural
        Machine Translation. EMNLP 2015.
    """

    def __init__(self, score="dot", units=None, scale=False, **kwargs):
        super().__init__(**kwargs)
        self.score_mode = _checks.one_of("score", score, _LUONG_SCORES)
        if units is not None:
            if self.score_mode != "concat":
                raise ValueError(
                    f"`units` is only used by score='concat'. Received: "
                    f"units={units!r} with score={score!r}. Expected units=None."
                )
            units = _checks.positive_int("units", units, limits.MAX_UNITS)
        self.units = units
        self.scale = bool(scale)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        query_size, key_size = query_shape[-1], key_shape[-1]
        if self.score_mode == "dot" and query_size != key_size:
            raise ValueError(
                "LuongAttention(score='dot') needs query and key of the same "
                f"size. Received: query size {query_size}, key size {key_size} "
                "(a bidirectional encoder doubles the key size). Use "
                "score='general' or 'concat', or make the sizes equal."
            )
        if self.score_mode == "general":
            self.key_dense = keras.layers.Dense(
                query_size, use_bias=False, dtype=self.dtype_policy, name="key_dense"
            )
            self.key_dense.build(tuple(key_shape))
        elif self.score_mode == "concat":
            units = self.units or query_size
            self.query_dense = keras.layers.Dense(
                units, use_bias=False, dtype=self.dtype_policy, name="query_dense"
            )
            self.query_dense.build(tuple(query_shape))
            self.key_dense = keras.layers.Dense(
                units, use_bias=False, dtype=self.dtype_policy, name="key_dense"
            )
            self.key_dense.build(tuple(key_shape))
            self.v = self.add_weight(
                name="v", shape=(units,), initializer="glorot_uniform"
            )
        if self.scale:
            self.g = self.add_weight(name="g", shape=(), initializer="ones")

    def project_key(self, key):
        if self.score_mode == "dot":
            return key
        return self.key_dense(key)

    def score(self, query, key):
        if self.score_mode == "concat":
            hidden = ops.expand_dims(self.query_dense(query), 2) + ops.expand_dims(
                key, 1
            )
            scores = ops.sum(ops.cast(self.v, hidden.dtype) * ops.tanh(hidden), -1)
        else:
            scores = ops.einsum("bqh,bsh->bqs", query, ops.cast(key, query.dtype))
        if self.scale:
            scores = scores * ops.cast(self.g, scores.dtype)
        return scores

    def get_config(self):
        config = super().get_config()
        config.update(
            {"score": self.score_mode, "units": self.units, "scale": self.scale}
        )
        return config


ATTENTION_NAMES = ("bahdanau", "luong", "luong_general", "luong_concat")


def get(identifier, units, dtype=None):
    """Resolves an attention name or instance to a `BaseAttention` layer.

    Args:
        identifier: a `BaseAttention` instance (returned as is) or one of
            `"bahdanau"` (`BahdanauAttention(units)`), `"luong"`
            (`LuongAttention("dot")`), `"luong_general"`, `"luong_concat"`.
        units: positive int, units of the scorers that need them.
        dtype: dtype policy of a newly made layer. Defaults to the global one.

    Raises:
        ValueError: for an unknown name.
        TypeError: for an object that is not a `BaseAttention`.
    """
    if isinstance(identifier, BaseAttention):
        return identifier
    if isinstance(identifier, keras.layers.Layer) or not isinstance(identifier, str):
        raise TypeError(
            "`attention` must be a keras_s2s.layers.BaseAttention instance or one "
            f"of {', '.join(repr(n) for n in ATTENTION_NAMES)}. Received: "
            f"attention={identifier!r} of type {type(identifier).__name__}. "
            "Subclass BaseAttention and implement score() to use your own."
        )
    _checks.one_of("attention", identifier, ATTENTION_NAMES)
    if identifier == "bahdanau":
        return BahdanauAttention(units, dtype=dtype, name="attention")
    score = {"luong": "dot", "luong_general": "general", "luong_concat": "concat"}
    return LuongAttention(score[identifier], dtype=dtype, name="attention")
