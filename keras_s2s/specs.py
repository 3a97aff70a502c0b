"""What a source or a target is: its dtype and shape, its padding, its checks,
and how a serving signature prepares it.

An encoder owns its source (`encoder.source_spec`), a decoder its target
(`decoder.target_spec`). The training model, `generate`, the SavedModel and
TFLite exports ask the spec and never the layer's class, so an encoder of
your own over another kind of source declares its spec and works through all
of them:

```python
class MyFrameEncoder(keras.layers.Layer):
    def __init__(self, num_features, **kwargs):
        super().__init__(**kwargs)
        self.source_spec = keras_s2s.specs.FloatFrames(num_features)
```

An encoder without `source_spec` reads token ids (`TokenIds`, its range
checked when it has a `vocab_size`). A spec is a plain object with the
methods of `TokenIds`; the serving methods build TensorFlow graphs (exports
are TensorFlow on every backend).
"""

import inspect

import keras
import numpy as np

from keras import ops

from keras_s2s import _checks
from keras_s2s import limits


class TokenIds:
    """Token ids: int32 `[B, S]`, right-padded with `PAD_ID` 0, each in
    `[0, vocab_size)` (unchecked when `vocab_size` is `None`).

    Args:
        vocab_size: positive int, or `None` for ids that are not range-checked.
        name: the input's name (the key of the model's input dict and of the
            serving signature). Defaults to `"source_ids"`.

    Attributes:
        takes_text: `True`: a tokenizer turns text into this source, so a
            SavedModel with tokenizers serves text (`serving_default`).
        max_length: the default cut of a served source,
            `keras_s2s.limits.MAX_SOURCE_LENGTH` tokens.
        signature_name: `"generate_ids"`, the SavedModel signature over it.
    """

    takes_text = True
    max_length = limits.MAX_SOURCE_LENGTH
    signature_name = "generate_ids"
    dtype = "int32"
    lengths_name = None  # the padding id marks the padding: no lengths input

    def __init__(self, vocab_size=None, name="source_ids"):
        if vocab_size is not None:
            vocab_size = _checks.positive_int("vocab_size", vocab_size, limits.MAX_VOCAB_SIZE)
        self.vocab_size = vocab_size
        self.name = name

    def __repr__(self):
        return f"TokenIds(vocab_size={self.vocab_size!r}, name={self.name!r})"

    @property
    def example_shape(self):
        """The shape of one example, `(None,)`: S steps."""
        return (None,)

    def keras_input(self):
        """`keras.Input` of a batch (the training model's input)."""
        return keras.Input(shape=self.example_shape, dtype=self.dtype, name=self.name)

    def keras_inputs(self):
        """`{name: keras.Input}`: the inputs of the source (the ids alone)."""
        return {self.name: self.keras_input()}

    def encode(self, encoder, source, lengths=None):
        """`encoder(source)`: `(outputs, states, mask)` (padding ids are the mask).

        Raises:
            ValueError: `lengths` given (ids are padded with `PAD_ID`, not cut by lengths).
        """
        _no_lengths(self, lengths)
        return encoder(source)

    def tensor_spec(self, batch_size=None):
        """`tf.TensorSpec` of a batch `[batch_size, S]`, named `name`."""
        import tensorflow as tf

        return tf.TensorSpec([batch_size, *self.example_shape], self.dtype, name=self.name)

    def check_batch(self, value, name=None):
        """Raises TypeError/ValueError when `value` (array or tensor) is not a
        batch of this source: integer dtype, rank 2 (Keras would silently
        cast float ids)."""
        _checks.check_ids(name or self.name, value)

    def prepare(self, value, lengths=None):
        """The NumPy batch `generate` runs, `(ids,)`: `value` checked (dtype,
        rank, every id in range, naming the first bad one) as int32; a batch
        with no time steps gets one padding step.

        Raises:
            TypeError: non-integer ids.
            ValueError: rank other than 2, an id outside `[0, vocab_size)`,
                or `lengths` given.
        """
        _no_lengths(self, lengths)
        value = np.asarray(value) if isinstance(value, (list, tuple)) else value
        self.check_batch(value)
        ids = np.asarray(value)
        bad = None if self.vocab_size is None else _checks.first_out_of_range(ids, self.vocab_size)
        if bad is not None:
            raise ValueError(
                f"`{self.name}` must be in [0, {self.vocab_size}) (the model's source vocabulary). "
                f"Received: an id {bad}."
            )
        if ids.shape[1] == 0:  # no time steps: decode from an all-padding source
            ids = np.zeros((ids.shape[0], 1), ids.dtype)
        return (ids.astype(np.int32),)

    def tensor_specs(self, batch_size=None):
        """The `tf.TensorSpec`s of `prepare`'s batch: the ids."""
        return [self.tensor_spec(batch_size)]

    def check_in_graph(self, ids):
        """`ids` after an in-graph range check (fails the call naming the id;
        see `keras_s2s._checks.ids_in_range`); unchecked without `vocab_size`."""
        if self.vocab_size is None:
            return ids
        return _checks.ids_in_range(self.name, ids, self.vocab_size)

    def serving_signature(self):
        """The inputs of the SavedModel signature `signature_name`: the batch alone."""
        return [self.tensor_spec()]

    def prepare_serving(self, max_length, source_ids):
        """In graph: `(ids,)`, the signature's inputs cut to `max_length`
        steps, with one padding step appended (an all-empty batch still has a
        step)."""
        import tensorflow as tf

        return (pad_one_step(tf.cast(source_ids, tf.int32)[:, :max_length]),)

    def tflite_signature(self):
        """The inputs of the TFLite signature (batch 1): the ids."""
        return [self.tensor_spec(batch_size=1)]

    def prepare_tflite(self, max_length, source_ids):
        """In graph, TFLite builtin ops only: `(ids,)`, the cut and padded
        batch, a row with an id out of range zeroed (TFLite drops assertions,
        so a bad row gives the empty result)."""
        import tensorflow as tf

        (source,) = self.prepare_serving(max_length, source_ids)
        if self.vocab_size is None:
            return (source,)
        valid = _checks.valid_rows(source, self.vocab_size)
        return (tf.where(valid[:, None], source, tf.zeros_like(source)),)


class FloatFrames:
    """Float feature frames: float32 `[B, S, F]` (log-mel spectrograms, sensor
    readings), finite, with their lengths int32 `[B]` (real frames per row).

    Padding: with lengths, the frames at and past each row's length are
    padding whatever they hold, and a frame of zeros inside the length is
    real data (silence, a reading of 0.0). Without lengths (`None`, or the
    `lengths_name` input absent), trailing all-zero frames are taken for
    padding (`frame_mask`): a documented fallback that drops a real
    trailing zero frame, so give lengths where a frame can be all zero.

    An encoder over this spec is called `encoder(frames, lengths=lengths)`
    (`lengths` int32 `[B]` or `None`) and returns `(outputs, states, mask)`;
    one whose `call` takes no `lengths` is given the frames with those past
    the lengths zeroed (see `encode`).

    Args:
        num_features: positive int F, features per frame.
        name: the frames' input name. Defaults to `"source_features"`.
        lengths_name: the lengths' input name (an optional input of the
            training model). Defaults to `"source_lengths"`.

    Attributes:
        takes_text: `False`: no source tokenizer; a SavedModel with a target
            tokenizer serves text from these inputs.
        max_length: `keras_s2s.limits.MAX_SOURCE_FRAMES` frames.
        signature_name: `"generate_features"`; its inputs are the frames and
            `lengths` int32 `[B]`, real frames per row (TFLite: the same, batch 1).
    """

    takes_text = False
    max_length = limits.MAX_SOURCE_FRAMES
    signature_name = "generate_features"
    dtype = "float32"

    def __init__(self, num_features, name="source_features", lengths_name="source_lengths"):
        self.num_features = _checks.positive_int("num_features", num_features, limits.MAX_UNITS)
        self.name = name
        self.lengths_name = lengths_name

    def __repr__(self):
        return (f"FloatFrames(num_features={self.num_features!r}, name={self.name!r}, "
                f"lengths_name={self.lengths_name!r})")

    @property
    def example_shape(self):
        """`(None, F)`: S frames of F features."""
        return (None, self.num_features)

    def keras_input(self):
        return keras.Input(shape=self.example_shape, dtype=self.dtype, name=self.name)

    def keras_inputs(self):
        """`{name: frames, lengths_name: lengths}`, the lengths an optional
        input (absent or `None`: the `frame_mask` fallback)."""
        return {self.name: self.keras_input(),
                self.lengths_name: keras.Input(shape=(), dtype="int32", name=self.lengths_name,
                                               optional=True)}

    def encode(self, encoder, source, lengths=None):
        """`encoder(source, lengths=lengths)`: `(outputs, states, mask)`.

        An encoder whose `call` takes no `lengths` reads its own padding: it
        gets `source` with the frames past `lengths` zeroed
        (`mask_from_lengths`), so it sees the lengths as far as trailing zero
        frames can say them."""
        if lengths is None:
            return encoder(source)
        if _takes_argument(encoder.call, "lengths"):
            return encoder(source, lengths=lengths)
        return encoder(mask_from_lengths(source, lengths))

    def tensor_spec(self, batch_size=None):
        import tensorflow as tf

        return tf.TensorSpec([batch_size, *self.example_shape], self.dtype, name=self.name)

    def tensor_specs(self, batch_size=None):
        """The `tf.TensorSpec`s of `prepare`'s batch: frames and lengths."""
        import tensorflow as tf

        return [self.tensor_spec(batch_size), tf.TensorSpec([batch_size], tf.int32, name="lengths")]

    def check_batch(self, value, name=None):
        """Raises TypeError for a non-float batch (Keras would silently cast ids
        to float) and ValueError for a shape other than `[B, S, F]`."""
        _checks.check_frames(name or self.name, value, self.num_features)

    @staticmethod
    def fallback_lengths(frames):
        """The lengths of NumPy `frames` `[B, S, F]` without given lengths:
        int32 `[B]`, up to each row's last frame not all zero (`frame_mask`)."""
        nonzero = np.any(np.asarray(frames) != 0, axis=-1)  # [B, S]
        positions = np.arange(1, nonzero.shape[1] + 1)
        return np.max(np.where(nonzero, positions, 0), axis=1, initial=0).astype(np.int32)

    def check_lengths(self, lengths, frames):
        """`lengths` as int32 `[B]`, checked against the NumPy `frames`.

        Raises:
            TypeError: non-integer lengths.
            ValueError: a shape other than `[B]`, or a length outside `[0, S]`.
        """
        lengths = np.asarray(lengths)
        if lengths.dtype.kind not in "iu":
            raise TypeError(f"`{self.lengths_name}` must be integers. Received: dtype {lengths.dtype}.")
        if lengths.shape != frames.shape[:1]:
            raise ValueError(
                f"`{self.lengths_name}` must be [B] = [{frames.shape[0]}], one length per source. "
                f"Received: shape {lengths.shape}."
            )
        bad = np.flatnonzero((lengths < 0) | (lengths > frames.shape[1]))
        if bad.size:
            raise ValueError(
                f"`{self.lengths_name}` must be in [0, {frames.shape[1]}] (the frames given). "
                f"Received: {int(lengths[bad[0]])} at row {int(bad[0])}."
            )
        return lengths.astype(np.int32)

    def prepare(self, value, lengths=None):
        """The NumPy batch `generate` runs, `(frames, lengths)`: float32
        `[B, S, F]` checked finite (naming the index of the first NaN or
        infinity) and int32 `[B]`; without `lengths`, those of `frame_mask`
        (the fallback). A batch with no time steps gets one zero frame."""
        value = np.asarray(value) if isinstance(value, (list, tuple)) else value
        self.check_batch(value)
        frames = np.asarray(value, np.float32)
        if not np.all(np.isfinite(frames)):
            raise ValueError(
                f"`{self.name}` frames must be finite. Received: a NaN or infinity at index "
                f"{tuple(int(i) for i in np.argwhere(~np.isfinite(frames))[0])}."
            )
        if lengths is None:
            lengths = self.fallback_lengths(frames)
        lengths = self.check_lengths(lengths, frames)
        if frames.shape[1] == 0:  # no time steps: decode from an all-padding source
            frames = np.zeros((frames.shape[0], 1, frames.shape[2]), np.float32)
        return frames, lengths

    def check_in_graph(self, frames):
        """`frames` (the encoder itself reads the padding)."""
        return frames

    def mask(self, frames, lengths=None):
        """bool `[B, S]`, `True` at real frames: the first `lengths` of each
        row, or without lengths those of `frame_mask`."""
        if lengths is None:
            return frame_mask(frames)
        return lengths_mask(lengths, ops.shape(frames)[1])

    def serving_signature(self):
        """The frames and `lengths` int32 `[B]`."""
        return self.tensor_specs()

    def prepare_serving(self, max_length, frames, lengths):
        """In graph: `(frames, lengths)` after checking finite frames and
        `lengths` in [0, S], one per row (failing the request with
        `InvalidArgumentError`); both cut to `max_length` frames, and one
        padding frame appended."""
        import tensorflow as tf

        frames = tf.cast(frames, tf.float32)
        lengths = tf.cast(lengths, tf.int32)
        checks = [
            tf.debugging.assert_all_finite(frames, f"`{self.name}` must be finite."),
            tf.debugging.assert_equal(tf.shape(lengths)[0], tf.shape(frames)[0],
                                      message="`lengths` must have one entry per source."),
            tf.debugging.assert_greater_equal(lengths, 0, message="`lengths` must be >= 0."),
            tf.debugging.assert_less_equal(lengths, tf.shape(frames)[1],
                                           message="`lengths` must be at most the frames given."),
        ]
        with tf.control_dependencies(checks):
            frames = tf.identity(frames[:, :max_length])
        return pad_one_step(frames), tf.minimum(lengths, max_length)

    def tflite_signature(self):
        """The inputs of the TFLite signature: frames `[1, S, F]` and `lengths` `[1]`."""
        return self.tensor_specs(batch_size=1)

    def prepare_tflite(self, max_length, frames, lengths):
        """In graph, builtin ops only: `(frames, lengths)`, cut and padded; a
        row with a non-finite value or a length outside [0, S] has its frames
        and length zeroed (the empty result)."""
        import tensorflow as tf

        finite = tf.math.is_finite(frames)
        lengths = tf.cast(lengths, tf.int32)
        valid = tf.reduce_all(finite, axis=[1, 2]) & (lengths >= 0) & (lengths <= tf.shape(frames)[1])
        frames = tf.where(finite & valid[:, None, None], frames, 0.0)[:, :max_length]
        lengths = tf.where(valid, tf.minimum(lengths, max_length), 0)
        return pad_one_step(frames), lengths


def _takes_argument(function, name):
    """Whether `function` accepts the keyword argument `name`."""
    parameters = inspect.signature(function).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in parameters)


def _no_lengths(spec, lengths):
    if lengths is not None:
        raise ValueError(
            f"{spec!r} takes no lengths: its padding is the id 0. Received: lengths={lengths!r}. "
            "Pass lengths only to frame sources (`FloatFrames`)."
        )


def frame_mask(features):
    """The padding mask of right-padded frames: trailing all-zero frames are
    padding, every frame up to the last non-zero one is real (an all-zero
    frame inside a sequence stays real).

    Args:
        features: float `[B, S, F]`.

    Returns:
        bool `[B, S]`, `True` at real frames.
    """
    nonzero = ops.any(ops.not_equal(features, 0), axis=-1)
    positions = ops.arange(1, ops.shape(features)[1] + 1, dtype="int32")
    lengths = ops.max(ops.where(nonzero, positions[None, :], 0), axis=1)
    return positions[None, :] <= lengths[:, None]


def mask_from_lengths(features, lengths):
    """`features` with the frames at and after `lengths` set to zero (before
    0.2 the serving signatures did this; they now pass the lengths on, see
    `FloatFrames.mask`).

    Args:
        features: float `[B, S, F]`.
        lengths: int `[B]`, real frames per row (clipped to [0, S]).

    Returns:
        float `[B, S, F]`.
    """
    keep = lengths_mask(lengths, ops.shape(features)[1])
    return ops.where(keep[:, :, None], features, ops.zeros_like(features))


def lengths_mask(lengths, steps):
    """bool `[B, steps]`, `True` at the first `lengths` int `[B]` steps of each row."""
    positions = ops.arange(steps, dtype="int32")
    return positions[None, :] < ops.cast(lengths, "int32")[:, None]


def pad_one_step(source):
    """In graph: `source` `[B, S, ...]` with one padding step (id 0 or a zero
    frame) appended, so an all-empty batch still has a time step; padding
    changes no output."""
    import tensorflow as tf

    return tf.pad(source, [[0, 0], [0, 1]] + [[0, 0]] * (len(source.shape) - 2))


def source_spec_of(encoder):
    """The encoder's `source_spec`, or `TokenIds(encoder.vocab_size)` for an
    encoder that declares none (`vocab_size` optional).

    Raises:
        TypeError: the encoder declares `num_features` but no `source_spec`
            (before 0.2 that attribute meant frames; declare the spec).
    """
    spec = getattr(encoder, "source_spec", None)
    if spec is not None:
        return spec
    if getattr(encoder, "num_features", None) is not None:
        raise TypeError(
            f"The encoder {type(encoder).__name__} has `num_features` but no `source_spec`: declare "
            "what it reads, e.g. `self.source_spec = keras_s2s.specs.FloatFrames(num_features)` "
            "(see keras_s2s.specs)."
        )
    return TokenIds(getattr(encoder, "vocab_size", None))


def target_spec_of(decoder):
    """The decoder's `target_spec`, or `TokenIds(decoder.vocab_size, "target_ids")`."""
    spec = getattr(decoder, "target_spec", None)
    return spec if spec is not None else TokenIds(decoder.vocab_size, name="target_ids")
