"""The package's one token sampler: inverse-CDF draws from `softmax(logits)`.

Training (scheduled sampling, `keras_s2s.layers.decoders`) feeds it uniforms
drawn ahead of the scan with `keras.random.uniform`; the search
(`keras_s2s.inference.search.categorical`) feeds it `stateless_uniform`, a
pure function of `(seed, index)` that a compiled while loop can carry.
"""

import keras
from keras import ops


def sample_ids(logits, uniform):
    """Token ids drawn from `softmax(logits)` by inverting its CDF.

    Args:
        logits: float `[N, V]` (`-inf` allowed: probability exactly 0).
        uniform: float `[N]`, draws from U[0, 1).

    Returns:
        int32 `[N]`: for each row the smallest id `i` whose cumulative
        probability reaches `(1 - uniform)` of the total, so id `i` comes with
        probability `softmax(logits)[i]` and an id of probability 0 never.
    """
    cdf = ops.cumsum(ops.softmax(ops.cast(logits, "float32"), axis=-1), axis=-1)
    threshold = ops.expand_dims(1.0 - ops.cast(uniform, "float32"), -1) * cdf[:, -1:]
    ids = ops.sum(ops.cast(cdf < threshold, "int32"), axis=-1)
    vocab = logits.shape[-1] if logits.shape[-1] is not None else ops.shape(logits)[-1]
    return ops.minimum(ids, vocab - 1)


def stateless_uniform(rows, seed, index):
    """float32 `[rows]` from U[0, 1), a pure function of the int32 scalars
    `(seed, index)`, in eager and compiled code alike.

    Keras' `keras.random` takes only Python ints or a `SeedGenerator` (whose
    state cannot be threaded through a compiled while loop on every backend),
    so this one draw switches on the backend: TensorFlow's
    `stateless_uniform`, JAX's `random.uniform` on a key folded with `index`,
    PyTorch's `rand` with a generator seeded from both. Draws differ between
    backends (each has its own generator).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        key = jax.random.fold_in(jax.random.key(seed), index)
        return jax.random.uniform(key, (rows,), dtype="float32")
    if backend == "torch":
        import torch

        device = ops.convert_to_tensor(0).device
        generator = torch.Generator(device=device)
        generator.manual_seed(int(seed) * 1_000_003 + int(index))
        return torch.rand(int(rows), generator=generator, device=device)
    import tensorflow as tf

    return tf.random.stateless_uniform([rows], seed=tf.stack([seed, tf.cast(index, tf.int32)]))
