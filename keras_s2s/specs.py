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

    def tensor_spec(self, batch_size=None):
        """`tf.TensorSpec` of a batch `[batch_size, S]`, named `name`."""
        import tensorflow as tf

        return tf.TensorSpec([batch_size, *self.example_shape], self.dtype, name=self.name)

    def check_batch(self, value, name=None):
        """Raises TypeError/ValueError when `value` (array or tensor) is not a
        batch of this source: integer dtype, rank 2 (Keras would silently
        cast float ids)."""
        _checks.check_ids(name or self.name, value)

    def prepare(self, value):
        """The NumPy batch `generate` runs: `value` checked (dtype, rank, every
        id in range, naming the first bad one) as int32; a batch with no time
        steps gets one padding step.

        Raises:
            TypeError: non-integer ids.
            ValueError: rank other than 2, or an id outside `[0, vocab_size)`.
        """
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
        return ids.astype(np.int32)

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
        """In graph: the signature's inputs cut to `max_length` steps, with one
        padding step appended (an all-empty batch still has a step)."""
        import tensorflow as tf

        return pad_one_step(tf.cast(source_ids, tf.int32)[:, :max_length])

    def prepare_tflite(self, max_length, source_ids):
        """In graph, TFLite builtin ops only: `(source, valid)`, the cut and
        padded batch and bool `[B]`, whether each row is a valid source (ids in
        range; TFLite drops assertions, so a bad row gives the empty result)."""
        import tensorflow as tf

        source = self.prepare_serving(max_length, source_ids)
        if self.vocab_size is None:
            return source, tf.ones(tf.shape(source)[:1], tf.bool)
        return source, _checks.valid_rows(source, self.vocab_size)


class FloatFrames:
    """Float feature frames: float32 `[B, S, F]` (log-mel spectrograms, sensor
    readings), right-padded with all-zero frames, finite.

    Args:
        num_features: positive int F, features per frame.
        name: the input's name. Defaults to `"source_features"`.

    Attributes:
        takes_text: `False`: no source tokenizer; a SavedModel with a target
            tokenizer serves text from these inputs.
        max_length: `keras_s2s.limits.MAX_SOURCE_FRAMES` frames.
        signature_name: `"generate_features"`; its inputs are the frames and
            `lengths` int32 `[B]`, real frames per row.
    """

    takes_text = False
    max_length = limits.MAX_SOURCE_FRAMES
    signature_name = "generate_features"
    dtype = "float32"

    def __init__(self, num_features, name="source_features"):
        self.num_features = _checks.positive_int("num_features", num_features, limits.MAX_UNITS)
        self.name = name

    def __repr__(self):
        return f"FloatFrames(num_features={self.num_features!r}, name={self.name!r})"

    @property
    def example_shape(self):
        """`(None, F)`: S frames of F features."""
        return (None, self.num_features)

    def keras_input(self):
        return keras.Input(shape=self.example_shape, dtype=self.dtype, name=self.name)

    def tensor_spec(self, batch_size=None):
        import tensorflow as tf

        return tf.TensorSpec([batch_size, *self.example_shape], self.dtype, name=self.name)

    def check_batch(self, value, name=None):
        """Raises TypeError for a non-float batch (Keras would silently cast ids
        to float) and ValueError for a shape other than `[B, S, F]`."""
        _checks.check_frames(name or self.name, value, self.num_features)

    def prepare(self, value):
        """The NumPy batch `generate` runs: float32 `[B, S, F]`, checked finite
        (naming the index of the first NaN or infinity); a batch with no time
        steps gets one zero frame."""
        value = np.asarray(value) if isinstance(value, (list, tuple)) else value
        self.check_batch(value)
        frames = np.asarray(value, np.float32)
        if not np.all(np.isfinite(frames)):
            raise ValueError(
                f"`{self.name}` frames must be finite. Received: a NaN or infinity at index "
                f"{tuple(int(i) for i in np.argwhere(~np.isfinite(frames))[0])}."
            )
        if frames.shape[1] == 0:  # no time steps: decode from an all-padding source
            frames = np.zeros((frames.shape[0], 1, frames.shape[2]), np.float32)
        return frames

    def check_in_graph(self, frames):
        """`frames` (the encoder itself reads the padding)."""
        return frames

    def mask(self, frames):
        """bool `[B, S]`, `True` at real frames (`frame_mask`)."""
        return frame_mask(frames)

    def serving_signature(self):
        """The frames and `lengths` int32 `[B]`."""
        import tensorflow as tf

        return [self.tensor_spec(), tf.TensorSpec([None], tf.int32, name="lengths")]

    def prepare_serving(self, max_length, frames, lengths):
        """In graph: checks finite frames and `lengths` in [0, S] (failing the
        request with `InvalidArgumentError`), zeroes the frames past `lengths`,
        cuts to `max_length` frames and appends one zero frame."""
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
            frames = mask_from_lengths(frames, lengths)[:, :max_length]
        return pad_one_step(frames)

    def prepare_tflite(self, max_length, frames):
        """In graph, builtin ops only: `(source, valid)`; a row with a
        non-finite value is not valid (its values are zeroed)."""
        import tensorflow as tf

        finite = tf.math.is_finite(frames)
        valid = tf.reduce_all(finite, axis=[1, 2])
        return pad_one_step(tf.where(finite, frames, 0.0)[:, :max_length]), valid


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
    """`features` with the frames at and after `lengths` set to zero, so that
    `frame_mask` sees `lengths` (for signatures that take lengths).

    Args:
        features: float `[B, S, F]`.
        lengths: int `[B]`, real frames per row (clipped to [0, S]).

    Returns:
        float `[B, S, F]`.
    """
    positions = ops.arange(ops.shape(features)[1], dtype="int32")
    keep = positions[None, :] < ops.cast(lengths, "int32")[:, None]
    return ops.where(keep[:, :, None], features, ops.zeros_like(features))


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
