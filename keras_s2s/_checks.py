"""Argument checks shared by the package: errors name the argument, the value
received and what was expected."""

import numbers

import numpy as np


def positive_int(name, value, maximum=None):
    """Returns `value` as int if it is an integer in [1, maximum], else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be a positive int. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}.")
    if maximum is not None and value > maximum:
        raise ValueError(
            f"`{name}` must be at most {maximum} (keras_s2s.limits). Received: {name}={value!r}."
        )
    return int(value)


def real(name, value, low, high, *, low_inclusive=True):
    """Returns `value` as float if it is a real number in [low, high] (or
    (low, high]), else raises; NaN and infinities never pass."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float. Received: {name}={value!r}.")
    above = value >= low if low_inclusive else value > low
    if not (above and value <= high):  # False for NaN
        bracket = "[" if low_inclusive else "("
        raise ValueError(
            f"`{name}` must be in {bracket}{low:g}, {high:g}]. Received: {name}={value!r}."
        )
    return float(value)


def float32_normal(name, value):
    """Raises ValueError when a positive `value` is below the smallest normal
    float32 (it would round to 0 or a denormal in a float32 graph)."""
    tiny = float(np.finfo(np.float32).tiny)
    if value < tiny:
        raise ValueError(
            f"`{name}` must be at least {tiny:.8g} (the smallest normal float32): smaller "
            f"values round to 0 in the float32 search. Received: {name}={value!r}."
        )
    return value


def non_negative_int(name, value):
    """Returns `value` as int if it is an integer >= 0, else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int >= 0. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < 0:
        raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}.")
    return int(value)


def probability(name, value, *, allow_one=False):
    """Returns `value` as float if it lies in [0, 1) (or [0, 1]), else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float. Received: {name}={value!r}.")
    upper_ok = value <= 1 if allow_one else value < 1
    if not (0 <= value and upper_ok) or np.isnan(value):
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"`{name}` must be in {bound}. Received: {name}={value!r}.")
    return float(value)


def one_of(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises ValueError."""
    if value not in choices:
        expected = ", ".join(repr(c) for c in choices)
        raise ValueError(f"Received: {name}={value!r}. Expected one of {expected}.")
    return value


def same_length(first_name, first, second_name, second):
    """Raises ValueError when the sequences `first` and `second` differ in length."""
    if len(first) != len(second):
        raise ValueError(
            f"`{first_name}` and `{second_name}` must have the same length. Received: "
            f"{len(first)} {first_name} and {len(second)} {second_name}."
        )


def check_rank(name, tensor, ranks):
    """Raises ValueError when `tensor`'s static rank is not in `ranks`."""
    rank = len(tensor.shape)
    if rank not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have rank {expected}. Received: {name} with shape "
            f"{tuple(tensor.shape)} (rank {rank})."
        )


def check_ids(name, ids, rank=2):
    """Checks token ids: an integer dtype and the given static rank."""
    dtype = str(getattr(ids, "dtype", type(ids).__name__))
    dtype = dtype.replace("<dtype: '", "").replace("'>", "")
    if "int" not in dtype:
        raise TypeError(
            f"`{name}` must hold integer token ids (int32 or int64). "
            f"Received: {name} with dtype {dtype}."
        )
    check_rank(name, ids, (rank,))


def check_frames(name, frames, num_features=None):
    """Checks float feature frames: a float dtype and, with `num_features` F,
    the static shape `[B, S, F]` (the twin of `check_ids` for frame sources)."""
    dtype = str(getattr(frames, "dtype", "float32"))
    dtype = dtype.replace("<dtype: '", "").replace("'>", "")
    if "float" not in dtype:
        raise TypeError(f"`{name}` must be float frames [B, S, F]. Received: {name} with dtype {dtype}.")
    if num_features is None:
        return
    shape = tuple(frames.shape)
    if len(shape) != 3 or (shape[-1] is not None and shape[-1] != num_features):
        raise ValueError(
            f"`{name}` must have shape [B, S, {num_features}] (num_features={num_features}). "
            f"Received: shape {shape}."
        )


def first_out_of_range(ids, vocab_size):
    """The first id (row-major order) outside [0, vocab_size), or None (NumPy)."""
    flat = np.asarray(ids).reshape(-1)
    bad = np.flatnonzero((flat < 0) | (flat >= vocab_size))
    return int(flat[bad[0]]) if bad.size else None


def ids_in_range(name, ids, vocab_size):
    """`ids` after a check that every id lies in `[0, vocab_size)`; a bad id
    fails with a message naming it. Keras' embedding lookup would otherwise
    wrap a negative id around to a valid one (`take` semantics) on
    TensorFlow, or read NaN on JAX, and answer silently.

    How it fails, by backend and mode (the one backend switch of the checks):
    - TensorFlow: `tf.errors.InvalidArgumentError`, eagerly or, in graphs,
      from a `tf.debugging.Assert` at run time;
    - PyTorch (eager) and JAX outside `jit`: `ValueError` (Keras re-wraps
      exceptions raised in a layer call and cannot rebuild TensorFlow's
      error class there, which would lose the message);
    - JAX under `jit` (`fit`): a `jax.debug.callback` raises that
      `ValueError`; JAX reports it as a `JaxRuntimeError` carrying the
      message.

    TFLite drops assertions; exports that run there use `valid_rows` too.
    """
    import keras

    message = f"`{name}` must hold ids in [0, {vocab_size}). Received the id"

    def check_concrete(values, error=ValueError):
        first = first_out_of_range(np.asarray(values), vocab_size)
        if first is not None:
            raise error(f"{message} {first}.")

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if tf.executing_eagerly():  # a plain message, not an Assert's summary
            check_concrete(ids, lambda text: tf.errors.InvalidArgumentError(None, None, text))
            return ids
        flat = tf.reshape(ids, [-1])
        bad = tf.logical_or(flat < 0, flat >= vocab_size)
        first = tf.gather(flat, tf.argmax(tf.cast(bad, tf.int32), output_type=tf.int32))
        check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(bad)), [message, first])
        with tf.control_dependencies([check]):
            return tf.identity(ids)
    if backend == "jax":
        import jax

        if isinstance(ids, jax.core.Tracer):
            jax.debug.callback(check_concrete, ids)
        else:
            check_concrete(ids)
        return ids
    check_concrete(keras.ops.convert_to_numpy(ids))  # PyTorch runs eagerly
    return ids


def valid_rows(ids, vocab_size):
    """In graph, builtin ops only: bool `[B]`, whether every id of a row lies
    in `[0, vocab_size)`."""
    import tensorflow as tf

    return tf.reduce_all(tf.logical_and(ids >= 0, ids < vocab_size), axis=1)
