"""In-graph search strategies over a step function.

Every strategy runs one `keras.ops.while_loop` over fixed-size buffers and
stops when every sequence has ended (or at `max_length`). Written in
`keras.ops` only, so the same code runs on TensorFlow (eagerly, inside
`tf.function`, also with `jit_compile=True`, in a SavedModel and in TFLite),
on JAX (inside `jax.jit`) and on PyTorch. No custom ops (the beam history is
reordered with `take_along_axis`, not `GatherTree`). Only random numbers
switch on the backend (`categorical`, `fresh_seed`): Keras' `keras.random`
takes no tensor seeds.

The step function contract:

    step_fn(token_ids, state, memory, index) -> (logits, state, aux)

- `token_ids`: int32 `[N]`, the previous token of every row (BOS first);
- `state`: a nested structure of batch-first tensors `[N, ...]`, changed by
  every step; beam search reorders its rows when beams are re-ranked;
- `memory`: a nested structure of batch-first tensors `[N, ...]`, constant
  across steps (encoder outputs); strategies only tile it;
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

import keras
from keras import ops

_NEG = -1e9  # a finite "minus infinity": sums of it never overflow or NaN
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
    """One stateless draw per row from `softmax(logits)`, `[N, V] -> int32 [N]`.

    The draw is a pure function of `(seed, index)` (int32 scalars), so a
    fixed seed reproduces a search exactly, in eager and compiled code alike.
    Keras' own `keras.random` takes only Python ints or a `SeedGenerator`
    (whose state cannot be threaded through a compiled while loop on every
    backend), so the draw switches on the backend (as `fresh_seed` does):
    TensorFlow's
    `stateless_categorical`, JAX's `random.categorical` on a key folded with
    `index`, PyTorch's `multinomial` with a generator seeded from both.
    Draws differ between backends (each has its own generator).
    """
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        key = jax.random.fold_in(jax.random.key(seed), index)
        return jax.random.categorical(key, logits, axis=-1).astype("int32")
    if backend == "torch":
        import torch

        generator = torch.Generator(device=logits.device)
        generator.manual_seed(int(seed) * 1_000_003 + int(index))
        probs = torch.softmax(logits.float(), dim=-1)
        return torch.multinomial(probs, 1, generator=generator)[:, 0].to(torch.int32)
    import tensorflow as tf

    draw = tf.random.stateless_categorical(logits, 1, seed=tf.stack([seed, tf.cast(index, tf.int32)]),
                                           dtype=tf.int32)
    return draw[:, 0]


def fresh_seed(maximum):
    """A new int32 seed in [0, maximum) for every run of the search: a random
    op in TensorFlow graphs (a traced function draws anew per call), a Python
    int on JAX and PyTorch (their `generate` always passes a seed)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.random.uniform([], maxval=maximum, dtype=tf.int32)
    import numpy as np

    return int(np.random.randint(0, maximum))


def _loop(step_fn, pick_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id, aux_shape):
    """Greedy-style loop: one new token per row and step, chosen by `pick_fn`."""
    n = _batch_size(initial_state)
    tokens = ops.full([n], bos_id, "int32")
    ids = ops.zeros([n, max_length], "int32")
    scores = ops.zeros([n], "float32")
    lengths = ops.zeros([n], "int32")
    finished = ops.zeros([n], "bool")
    aux = (ops.zeros([n, max_length, *aux_shape], "float32") if aux_shape is not None
           else ops.zeros([n, 0], "float32"))

    def cond(i, tokens, state, ids, scores, lengths, finished, aux):
        return ops.logical_and(i < max_length, ops.logical_not(ops.all(finished)))

    def body(i, tokens, state, ids, scores, lengths, finished, aux):
        logits, state, step_aux = step_fn(tokens, state, memory, i)
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        token = ops.cast(pick_fn(_forbid(log_probs, [pad_id, bos_id]), i), "int32")
        token = ops.where(finished, pad_id, token)
        scores = scores + ops.where(finished, 0.0, _pick(log_probs, token))
        lengths = lengths + ops.cast(ops.logical_not(finished), "int32")
        ids = _write(ids, i, token, max_length)
        if aux_shape is not None:
            keep = ops.reshape(ops.logical_not(finished), [-1] + [1] * len(aux_shape))
            aux = _write(aux, i, ops.where(keep, ops.cast(step_aux, "float32"), 0.0), max_length)
        finished = ops.logical_or(finished, ops.equal(token, eos_id))
        return i + 1, token, state, ids, scores, lengths, finished, aux

    start = ops.convert_to_tensor(0, "int32")
    _, _, _, ids, scores, lengths, _, aux = ops.while_loop(
        cond, body, (start, tokens, initial_state, ids, scores, lengths, finished, aux),
        maximum_iterations=max_length,
    )
    return ids, scores, lengths, aux


def greedy_search(step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0, aux_shape=None):
    """Greedy decoding: the most probable token at every step.

    Args:
        step_fn: see the module docstring.
        initial_state: nested batch-first tensors `[B, ...]`.
        memory: nested batch-first tensors `[B, ...]`, constant across steps.
        max_length: positive int, the most tokens generated (EOS included).
        bos_id, eos_id, pad_id: ints, special token ids.
        aux_shape: optional tuple, the per-row shape of `aux`; `None` records
            nothing.

    Returns:
        A dict: `ids` int32 `[B, T]` (pad after EOS), `scores` float32 `[B]`
        (sum of the chosen tokens' log-probabilities, nats), `lengths` int32
        `[B]` (tokens generated, EOS included), and `aux` float32
        `[B, T, *aux_shape]` when `aux_shape` is given (zeros after EOS).
    """
    from keras_s2s.inference.strategies import GreedySearch  # the objects build on this module

    result = GreedySearch().search(
        step_fn, initial_state, memory, max_length=max_length, bos_id=bos_id, eos_id=eos_id,
        pad_id=pad_id, aux_shape=aux_shape,
    )
    return {key: value[:, 0] for key, value in result.items()}


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


def sample_search(
    step_fn,
    initial_state,
    memory,
    *,
    max_length,
    bos_id,
    eos_id,
    pad_id=0,
    temperature=1.0,
    top_k=0,
    top_p=1.0,
    num_return_sequences=1,
    seed=None,
    aux_shape=None,
):
    """Ancestral sampling with temperature, top-k and top-p.

    Randomness comes from `categorical`, a stateless draw seeded with
    `(seed, index)`, so a fixed `seed` reproduces the output exactly (in
    eager, graph and exported models alike), and different seeds give
    independent draws. `seed=None` draws a seed.

    Args:
        step_fn, initial_state, memory, max_length, bos_id, eos_id, pad_id,
            aux_shape: as `greedy_search`.
        temperature, top_k, top_p: see `process_logits`.
        num_return_sequences: positive int K, samples per source.
        seed: int in [0, 2**31) or int32 scalar tensor, or `None`.

    Returns:
        As `greedy_search` with a samples axis: `ids` `[B, K, T]`, `scores`
        `[B, K]` (log-probability under the unfiltered model, nats),
        `lengths` `[B, K]`, `aux` `[B, K, T, ...]`.
    """
    from keras_s2s.inference.strategies import SampleSearch

    strategy = SampleSearch(temperature=temperature, top_k=top_k, top_p=top_p,
                            num_return_sequences=num_return_sequences)
    return strategy.search(
        step_fn, initial_state, memory, max_length=max_length, bos_id=bos_id, eos_id=eos_id,
        pad_id=pad_id, aux_shape=aux_shape, seed=seed,
    )


def gnmt_length_penalty(lengths, alpha):
    """`((5 + |Y|) / 6) ** alpha` (Wu et al. 2016, eq. 14). Float32."""
    return ops.power((5.0 + ops.cast(lengths, "float32")) / 6.0, alpha)


def beam_search(
    step_fn,
    initial_state,
    memory,
    *,
    max_length,
    num_beams,
    bos_id,
    eos_id,
    pad_id=0,
    length_penalty=0.6,
    num_return_sequences=1,
    aux_shape=None,
    coverage_penalty=0.0,
    source_mask=None,
):
    """Beam search with the GNMT length and coverage penalties, n-best output.

    Beams are folded into the batch inside (`[B] -> [B * K]`); callers never
    tile. At every step the `K * V` extensions of the `K` beams of a source
    are ranked by `log P(Y|X) / lp(Y)` with
    `lp(Y) = ((5 + |Y|) / 6) ** length_penalty` (Wu et al. 2016, eq. 14) and
    the best `K` kept. A beam that has produced EOS stays in the beam with its
    score frozen (it only extends with padding at no cost), so finished
    hypotheses compete with live ones until the end. With `num_beams=1` the
    tokens equal `greedy_search`'s.

    With `coverage_penalty=beta > 0` the rank adds GNMT's coverage penalty
    (Wu et al. 2016, eq. 14; tfa's `coverage_penalty_weight`):
    `cp(X; Y) = beta * sum_i log(min(sum_j p_ij, 1))` over the real source
    positions i (`source_mask`), where `p_ij` is the attention on source
    position i at target step j (the `aux` that `step_fn` returns, `[N, S]`),
    so hypotheses that leave source words unattended rank lower.

    Args:
        step_fn, initial_state, memory, max_length, bos_id, eos_id, pad_id,
            aux_shape: as `greedy_search`.
        num_beams: positive int K (at most V).
        length_penalty: float alpha >= 0; 0 ranks by raw log-probability.
            Defaults to 0.6.
        num_return_sequences: positive int N <= K, hypotheses returned.
        coverage_penalty: float beta >= 0. Defaults to 0 (off).
        source_mask: bool `[B, S]`, real source positions; needed when
            `coverage_penalty > 0` (then `step_fn` must return attention).

    Returns:
        A dict: `ids` int32 `[B, N, T]`, best first (pad after EOS);
        `scores` float32 `[B, N]`, `log P(Y|X) / lp(Y) + cp(X; Y)`; `lengths` int32
        `[B, N]` (EOS included); `aux` `[B, N, T, ...]` when requested.
    """
    k = num_beams
    batch = _batch_size(initial_state)
    state = _tile(initial_state, k)
    memory = _tile(memory, k)
    tokens = ops.full([batch * k], bos_id, "int32")
    first_beam_only = ops.convert_to_tensor([0.0] + [_NEG] * (k - 1), "float32")
    log_probs = ops.tile(first_beam_only[None, :], [batch, 1])
    scores = ops.zeros([batch, k], "float32")
    finished = ops.zeros([batch, k], "bool")
    lengths = ops.zeros([batch, k], "int32")
    ids = ops.zeros([batch * k, max_length], "int32")
    aux = (ops.zeros([batch * k, max_length, *aux_shape], "float32") if aux_shape is not None
           else ops.zeros([batch * k, 0], "float32"))

    def reorder(t, parent):
        """Rows `[B * K, ...]` reordered by `parent` `[B, K]` within each source."""
        shape = ops.shape(t)
        grouped = ops.reshape(t, (batch, k) + tuple(shape[1:]))
        return ops.reshape(_gather_rows(grouped, parent), shape)

    use_coverage = coverage_penalty > 0
    if use_coverage:
        if source_mask is None:
            raise ValueError("`coverage_penalty` needs `source_mask` (the real source positions).")
        real = ops.cast(ops.repeat(source_mask, k, axis=0), "float32")  # [B * K, S]
        coverage = ops.zeros_like(real)
    else:
        real = coverage = ops.zeros([batch * k, 0], "float32")

    def coverage_term(total_attention):
        """beta * sum_i log(min(coverage_i, 1)) over real positions, [B, K]."""
        capped = ops.minimum(total_attention, 1.0)
        logs = ops.where(real > 0, ops.log(ops.maximum(capped, 1e-30)), 0.0)
        return coverage_penalty * ops.reshape(ops.sum(logs, axis=1), [batch, k])

    def cond(i, tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage):
        return ops.logical_and(i < max_length, ops.logical_not(ops.all(finished)))

    def body(i, tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage):
        logits, state, step_aux = step_fn(tokens, state, memory, i)
        step = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        vocab = step.shape[-1] if step.shape[-1] is not None else ops.shape(step)[-1]
        step = ops.reshape(step, [batch, k, vocab])
        pad_only = ops.where(ops.arange(vocab, dtype="int32") == pad_id, 0.0, _NEG)
        step = ops.where(finished[:, :, None], pad_only[None, None, :], _forbid(step, [pad_id, bos_id]))
        total = log_probs[:, :, None] + step  # [B, K, V]
        new_lengths = lengths + ops.cast(ops.logical_not(finished), "int32")
        ranked = total / gnmt_length_penalty(new_lengths, length_penalty)[:, :, None]
        if use_coverage:
            if step_aux is None:
                raise ValueError("`coverage_penalty` needs a step function that returns attention.")
            live = ops.reshape(ops.logical_not(finished), [-1, 1])
            coverage = coverage + ops.where(live, ops.cast(step_aux, "float32"), 0.0)
            ranked = ranked + coverage_term(coverage)[:, :, None]
        top_scores, top_index = ops.top_k(ops.reshape(ranked, [batch, k * vocab]), k=k)
        top_index = ops.cast(top_index, "int32")
        parent = top_index // vocab
        token = top_index % vocab
        log_probs = ops.take_along_axis(ops.reshape(total, [batch, k * vocab]), top_index, axis=1)
        lengths = ops.take_along_axis(new_lengths, parent, axis=1)
        parent_finished = ops.take_along_axis(finished, parent, axis=1)
        finished = ops.logical_or(parent_finished, ops.equal(token, eos_id))
        flat_token = ops.reshape(token, [-1])
        ids = _write(reorder(ids, parent), i, flat_token, max_length)
        if aux_shape is not None:
            keep = ops.reshape(ops.logical_not(parent_finished), [-1] + [1] * len(aux_shape))
            step_aux = reorder(ops.cast(step_aux, "float32"), parent)
            aux = _write(reorder(aux, parent), i, ops.where(keep, step_aux, 0.0), max_length)
        state = keras.tree.map_structure(lambda t: reorder(t, parent), state)
        if use_coverage:
            coverage = reorder(coverage, parent)
        return i + 1, flat_token, state, log_probs, top_scores, finished, lengths, ids, aux, coverage

    start = ops.convert_to_tensor(0, "int32")
    loop = ops.while_loop(
        cond, body, (start, tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage),
        maximum_iterations=max_length,
    )
    _, _, _, _, scores, _, lengths, ids, aux, _ = loop
    n = num_return_sequences
    result = {"ids": ops.reshape(ids, (batch, k, max_length))[:, :n], "scores": scores[:, :n],
              "lengths": lengths[:, :n]}
    if aux_shape is not None:
        result["aux"] = ops.reshape(aux, (batch, k) + tuple(ops.shape(aux)[1:]))[:, :n]
    return result


def _result(ids, scores, lengths, aux, aux_shape, batch=None, k=None):
    result = {"ids": ids, "scores": scores, "lengths": lengths}
    if aux_shape is not None:
        result["aux"] = aux
    if batch is not None:
        result = {key: ops.reshape(t, (batch, k) + tuple(ops.shape(t)[1:])) for key, t in result.items()}
    return result
