"""The in-graph decode loop and the pieces strategies build on.

`dynamic_decode` is the one loop: a `keras.ops.while_loop` over fixed-size
buffers that a strategy object drives through `initialize` / `step` /
`finalize` (`keras_s2s.inference.strategies`), stopping when every sequence
has ended (or at `max_length`). This module imports no strategy. Written in
`keras.ops` only, so the same code runs on TensorFlow (eagerly, inside
`tf.function`, also with `jit_compile=True`, in a SavedModel and in TFLite),
on JAX (inside `jax.jit`) and on PyTorch. No custom ops (the beam history is
reordered with `take_along_axis`, not `GatherTree`). Only random numbers
switch on the backend (`keras_s2s.sampling.stateless_uniform`, `fresh_seed`): Keras' `keras.random`
takes no tensor seeds.

The step function contract:

    step_fn(token_ids, state, memory, index) -> (logits, state, aux)

- `token_ids`: int32 `[N]`, the previous token of every row (BOS first);
- `state`: a nested structure of batch-first tensors `[N, ...]`, changed by
  every step; beam search reorders its rows when beams are re-ranked;
- `memory`: a nested structure of batch-first tensors `[N, ...]`, constant
  across steps (encoder outputs); strategies only tile it. A step function
  with a true `shares_memory` attribute reads memory of B rows (one per
  source) while tokens and state have N = B * K: row `b * K + k` reads memory
  row `b`, so the loop does not copy the memory K times (the package's
  decoders: attention reads `[B, S, H]` memory with `[B, K, H]` queries);
- `index`: int32 scalar, the position being generated (0-based);
- returns `logits` float `[N, V]`, the new `state`, and `aux`, a float
  tensor `[N, *aux_shape]` recorded at every step (attention weights), or
  `None` when the search was called with `aux_shape=None`.

Rows are tiled "row-major": row `b * K + k` is beam (or sample) `k` of
source `b`.

No strategy generates PAD or BOS in a live row (their log-probabilities are
set to `-inf` before a token is picked; scores stay the model's own
log-probabilities): a finished row continues with PAD only.

Axis letters: B batch, K beams or samples per source, T `max_length`,
V vocabulary.
"""

import collections

import keras
from keras import ops

from keras_s2s import sampling

_NEG = -1e9  # a finite "minus infinity": sums of it never overflow or NaN
MAX_SEED = 2**31 - 1  # seeds are int32 scalars
_FILTERED = float("-inf")  # a token that can never be picked (exactly probability 0)


def _tile(structure, multiple):
    return keras.tree.map_structure(lambda t: ops.repeat(t, multiple, axis=0), structure)


def _write(buffer, index, values, length):
    """`buffer[:, index] = values` for a `[N, T, ...]` buffer, with builtin ops."""
    hot = ops.equal(ops.arange(length, dtype="int32"), index)
    hot = ops.reshape(hot, [1, length] + [1] * (len(buffer.shape) - 2))
    return ops.where(hot, ops.expand_dims(ops.cast(values, buffer.dtype), 1), buffer)


def _forbid(log_probs, ids):
    """`log_probs` `[..., V]` with the columns `ids` set to -inf."""
    columns = ops.arange(ops.shape(log_probs)[-1], dtype="int32")
    banned = ops.any(ops.equal(columns[:, None], ops.convert_to_tensor(ids, "int32")[None, :]), axis=1)
    return ops.where(banned, _FILTERED, log_probs)


def _batch_size(structure):
    return ops.shape(keras.tree.flatten(structure)[0])[0]


def _pick(values, index):
    """`values[n, index[n]]` for `values` `[N, V]` and `index` int `[N]`."""
    return ops.take_along_axis(values, ops.expand_dims(index, 1), axis=1)[:, 0]


def _gather_rows(values, index):
    """`values[b, index[b, j], ...]` for `values` `[B, K, ...]` and `index`
    int `[B, J]` (TensorFlow's `gather(..., batch_dims=1)`)."""
    shape = ops.shape(values)
    index = ops.reshape(index, tuple(ops.shape(index)) + (1,) * (len(values.shape) - 2))
    index = ops.broadcast_to(index, (shape[0], ops.shape(index)[1]) + tuple(shape[2:]))
    return ops.take_along_axis(values, index, axis=1)


def categorical(logits, seed, index):
    """One stateless draw per row from `softmax(logits)`, `[N, V] -> int32 [N]`:
    the package's one sampler (`keras_s2s.sampling.sample_ids`) on uniforms
    that are a pure function of `(seed, index)` (int32 scalars), so a fixed
    seed reproduces a search exactly, in eager and compiled code alike."""
    return sampling.sample_ids(logits, sampling.stateless_uniform(_batch_size(logits), seed, index))


def fresh_seed(maximum):
    """A new int32 seed in [0, maximum) for every run of the search: a random
    op in TensorFlow graphs (a traced function draws anew per call), a Python
    int on JAX and PyTorch (their `generate` always passes a seed)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.uniform([], maxval=maximum, dtype=tf.int32)
    import numpy as np

    return int(np.random.randint(0, maximum))


class DecodeContext(collections.namedtuple(
        "DecodeContext", "batch max_length bos_id eos_id pad_id aux_shape seed source_mask shared_memory")):
    """What every hook of a strategy may read, fixed for one search.

    Fields: `batch` (int32 scalar B, sources), `max_length` (int T),
    `bos_id`, `eos_id`, `pad_id` (ints), `aux_shape` (tuple, or `None`:
    record nothing), `seed` (int32 scalar, for random strategies),
    `source_mask` (bool `[B, S]`, the real source positions, or `None`),
    `shared_memory` (bool: the step function reads one memory row per
    source; `tile_memory` then leaves the memory as it is)."""


def dynamic_decode(strategy, step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0,
                   aux_shape=None, seed=None, source_mask=None):
    """THE decode loop: one `keras.ops.while_loop` that a strategy drives.

    The strategy provides three hooks (the shape of OpenNMT-tf's
    `DecodingStrategy`; any object with them works, no base class needed):

    - `initialize(context, initial_state, memory) -> (tokens, state, memory,
      carry)`: the first input tokens int32 `[N]`, the step state and memory
      the loop runs with (state tiled to N rows, memory by `tile_memory`),
      and `carry`, a dict of
      fixed-shape tensors that holds `"finished"` (bool, any shape);
    - `step(context, index, log_probs, aux, state, carry) -> (tokens, state,
      carry)`: from the step's float32 log-probabilities `[N, V]` and `aux`
      (`[N, *aux_shape]`, or `None`), the next tokens, the (possibly
      reordered) state and the updated carry;
    - `finalize(context, carry) -> dict`: the named result fields.

    The loop stops once every `carry["finished"]` is true, or after
    `max_length` steps. `seed=None` is 0 for deterministic strategies (no
    random op in the graph: TFLite has none builtin) and a fresh seed per run
    for the others (`strategy.deterministic` false).

    Args:
        strategy: the object with the three hooks.
        step_fn, initial_state, memory: see the module docstring.
        max_length: positive int, the most tokens generated (EOS included).
        bos_id, eos_id, pad_id: ints, special token ids.
        aux_shape: optional tuple, the per-row shape of `aux`.
        seed: int or int32 scalar tensor, or `None`.
        source_mask: bool `[B, S]` (strategies that rank by attention
            coverage need it), or `None`.

    Returns:
        What `strategy.finalize` returns.
    """
    if seed is None:
        seed = 0 if getattr(strategy, "deterministic", True) else fresh_seed(MAX_SEED)
    context = DecodeContext(_batch_size(initial_state), max_length, bos_id, eos_id, pad_id,
                            None if aux_shape is None else tuple(aux_shape), ops.cast(seed, "int32"),
                            source_mask, bool(getattr(step_fn, "shares_memory", False)))
    tokens, state, memory, carry = strategy.initialize(context, initial_state, memory)

    def cond(i, tokens, state, carry):
        return ops.logical_and(i < max_length, ops.logical_not(ops.all(carry["finished"])))

    def body(i, tokens, state, carry):
        logits, state, step_aux = step_fn(tokens, state, memory, i)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        tokens, state, carry = strategy.step(context, i, log_probs, step_aux, state, carry)
        return i + 1, tokens, state, carry

    start = ops.convert_to_tensor(0, "int32")
    _, _, _, carry = ops.while_loop(cond, body, (start, tokens, state, carry), maximum_iterations=max_length)
    return strategy.finalize(context, carry)


def tile_memory(memory, multiple, context):
    """The memory a strategy with `multiple` rows per source runs with: its
    rows repeated `multiple` times (row-major), or unchanged when the step
    function shares one memory row per source (`context.shared_memory`)."""
    return memory if context.shared_memory else _tile(memory, multiple)


def aux_buffer(rows, context):
    """The float32 `[N, T, *aux_shape]` buffer of recorded aux (`[N, 0]` when none)."""
    if context.aux_shape is None:
        return ops.zeros([rows, 0], "float32")
    return ops.zeros([rows, context.max_length, *context.aux_shape], "float32")


def write_aux(buffer, index, aux, live, context):
    """`buffer[:, index] = aux` where `live` (bool `[N]`), zeros elsewhere: a
    step's recorded aux (`[N, *aux_shape]`) in its `[N, T, *aux_shape]` buffer."""
    keep = ops.reshape(live, [-1] + [1] * len(context.aux_shape))
    return _write(buffer, index, ops.where(keep, ops.cast(aux, "float32"), 0.0), context.max_length)


def by_source(tensors, context):
    """Each named tensor's rows `[B * K, ...]` as `[B, K, ...]`; `aux` only when recorded."""
    return {key: ops.reshape(t, (context.batch, -1) + tuple(ops.shape(t)[1:]))
            for key, t in tensors.items() if key != "aux" or context.aux_shape is not None}


def process_logits(log_probs, *, temperature=1.0, top_k=0, top_p=1.0):
    """Temperature, top-k and nucleus (top-p) filtering of one step's logits.

    Computed in float32. The best token is shifted to 0 before the division
    by `temperature`, so no temperature the generator accepts (down to the
    smallest normal float32, `keras_s2s.inference.MIN_TEMPERATURE`) turns
    every score into `-inf`; filtered tokens get exactly `-inf` (probability
    0), never a finite value that a tiny temperature could push above the
    kept ones. The most probable token is always kept.

    Args:
        log_probs: float `[N, V]` logits or log-probabilities (`-inf` allowed
            for tokens already excluded).
        temperature: float > 0; logits are divided by it.
        top_k: int >= 0; keep the `top_k` largest logits (0 keeps all).
        top_p: float in (0, 1]; keep the smallest set of most probable
            tokens whose probability sums to at least `top_p` (Holtzman et
            al. 2020); 1 keeps all.

    Returns:
        Float32 `[N, V]` logits, filtered tokens set to `-inf`.
    """
    log_probs = ops.cast(log_probs, "float32")
    logits = (log_probs - ops.max(log_probs, axis=-1, keepdims=True)) / temperature
    if top_k:
        vocab = logits.shape[-1]
        kth = ops.top_k(logits, k=min(top_k, vocab) if vocab is not None else top_k)[0][:, -1:]
        logits = ops.where(logits < kth, _FILTERED, logits)
    if top_p < 1.0:
        sorted_logits = ops.flip(ops.sort(logits, axis=-1), axis=-1)  # descending
        probs = ops.softmax(sorted_logits, axis=-1)
        mass_before = ops.cumsum(probs, axis=-1) - probs
        first = ops.equal(ops.arange(ops.shape(logits)[-1], dtype="int32"), 0)[None, :]
        kept = ops.logical_or(mass_before < top_p, first)
        threshold = ops.min(ops.where(kept, sorted_logits, float("inf")), axis=-1, keepdims=True)
        logits = ops.where(logits < threshold, _FILTERED, logits)
    return logits


def gnmt_length_penalty(lengths, alpha):
    """`((5 + |Y|) / 6) ** alpha` (Wu et al. 2016, eq. 14). Float32."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)
