"""In-graph search strategies over a step function.

Every strategy runs one `tf.while_loop` over fixed-size buffers and stops
when every sequence has ended (or at `max_length`), so the same code runs
eagerly, inside `tf.function` (also with `jit_compile=True`), in a
SavedModel and in TFLite. No Python loop per token, no custom ops (the beam
history is reordered with `tf.gather`, not `GatherTree`).

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

import tensorflow as tf

_NEG = -1e9  # a finite "minus infinity": sums of it never overflow or NaN
_FILTERED = float("-inf")  # a token that can never be picked (exactly probability 0)


def _tile(structure, multiple):
    return tf.nest.map_structure(lambda t: tf.repeat(t, multiple, axis=0), structure)


def _write(buffer, index, values, length):
    """`buffer[:, index] = values` for a `[N, T, ...]` buffer, with builtin ops."""
    hot = tf.one_hot(index, length, on_value=True, off_value=False, dtype=tf.bool)
    hot = tf.reshape(hot, [1, length] + [1] * (len(buffer.shape) - 2))
    return tf.where(hot, tf.expand_dims(tf.cast(values, buffer.dtype), 1), buffer)


def _forbid(log_probs, ids):
    """`log_probs` `[..., V]` with the columns `ids` set to -inf."""
    vocab = tf.shape(log_probs)[-1]
    banned = tf.reduce_any(tf.equal(tf.range(vocab)[:, None], tf.constant(ids)[None, :]), axis=1)
    return tf.where(banned, _FILTERED, log_probs)


def _batch_size(structure):
    return tf.shape(tf.nest.flatten(structure)[0])[0]


def _loop(step_fn, pick_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id, aux_shape):
    """Greedy-style loop: one new token per row and step, chosen by `pick_fn`."""
    n = _batch_size(initial_state)
    tokens = tf.fill([n], tf.constant(bos_id, tf.int32))
    ids = tf.zeros([n, max_length], tf.int32)
    scores = tf.zeros([n], tf.float32)
    lengths = tf.zeros([n], tf.int32)
    finished = tf.zeros([n], tf.bool)
    aux = tf.zeros([n, max_length, *aux_shape], tf.float32) if aux_shape is not None else tf.zeros([n, 0])

    def cond(i, tokens, state, ids, scores, lengths, finished, aux):
        return tf.logical_and(i < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(i, tokens, state, ids, scores, lengths, finished, aux):
        logits, state, step_aux = step_fn(tokens, state, memory, i)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        token = tf.cast(pick_fn(_forbid(log_probs, [pad_id, bos_id]), i), tf.int32)
        token = tf.where(finished, tf.constant(pad_id, tf.int32), token)
        token_log_prob = tf.gather(log_probs, token, batch_dims=1)
        scores = scores + tf.where(finished, 0.0, token_log_prob)
        lengths = lengths + tf.cast(tf.logical_not(finished), tf.int32)
        ids = _write(ids, i, token, max_length)
        if aux_shape is not None:
            keep = tf.reshape(tf.logical_not(finished), [-1] + [1] * len(aux_shape))
            aux = _write(aux, i, tf.where(keep, tf.cast(step_aux, tf.float32), 0.0), max_length)
        finished = tf.logical_or(finished, tf.equal(token, eos_id))
        return i + 1, token, state, ids, scores, lengths, finished, aux

    _, _, _, ids, scores, lengths, _, aux = tf.while_loop(
        cond,
        body,
        (tf.constant(0), tokens, initial_state, ids, scores, lengths, finished, aux),
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
    log_probs = tf.cast(log_probs, tf.float32)
    logits = (log_probs - tf.reduce_max(log_probs, axis=-1, keepdims=True)) / temperature
    if top_k:
        vocab = tf.shape(logits)[-1]
        kth = tf.math.top_k(logits, k=tf.minimum(top_k, vocab)).values[:, -1:]
        logits = tf.where(logits < kth, _FILTERED, logits)
    if top_p < 1.0:
        sorted_logits = tf.sort(logits, axis=-1, direction="DESCENDING")
        probs = tf.nn.softmax(sorted_logits, axis=-1)
        mass_before = tf.cumsum(probs, axis=-1, exclusive=True)
        first = tf.equal(tf.range(tf.shape(logits)[-1]), 0)[None, :]
        kept = tf.logical_or(mass_before < top_p, first)
        threshold = tf.reduce_min(
            tf.where(kept, sorted_logits, float("inf")), axis=-1, keepdims=True
        )
        logits = tf.where(logits < threshold, _FILTERED, logits)
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

    Randomness comes from `tf.random.stateless_categorical` seeded with
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
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, alpha)


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
    tokens = tf.fill([batch * k], tf.constant(bos_id, tf.int32))
    first_beam_only = tf.concat([tf.zeros([1]), tf.fill([k - 1], _NEG)], axis=0)
    log_probs = tf.tile(first_beam_only[None, :], [batch, 1])
    scores = tf.zeros([batch, k], tf.float32)
    finished = tf.zeros([batch, k], tf.bool)
    lengths = tf.zeros([batch, k], tf.int32)
    ids = tf.zeros([batch * k, max_length], tf.int32)
    aux = (
        tf.zeros([batch * k, max_length, *aux_shape], tf.float32)
        if aux_shape is not None
        else tf.zeros([batch * k, 0])
    )

    def reorder(t, parent):
        """Rows `[B * K, ...]` reordered by `parent` `[B, K]` within each source."""
        shape = tf.shape(t)
        grouped = tf.reshape(t, tf.concat([[batch, k], shape[1:]], axis=0))
        out = tf.reshape(tf.gather(grouped, parent, batch_dims=1), shape)
        out.set_shape(t.shape)
        return out

    use_coverage = coverage_penalty > 0
    if use_coverage:
        if source_mask is None:
            raise ValueError("`coverage_penalty` needs `source_mask` (the real source positions).")
        real = tf.cast(tf.repeat(source_mask, k, axis=0), tf.float32)  # [B * K, S]
        coverage = tf.zeros_like(real)
    else:
        real = coverage = tf.zeros([batch * k, 0])

    def coverage_term(total_attention):
        """beta * sum_i log(min(coverage_i, 1)) over real positions, [B, K]."""
        capped = tf.minimum(total_attention, 1.0)
        logs = tf.where(real > 0, tf.math.log(tf.maximum(capped, 1e-30)), 0.0)
        return coverage_penalty * tf.reshape(tf.reduce_sum(logs, axis=1), [batch, k])

    def cond(i, tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage):
        return tf.logical_and(i < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(i, tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage):
        logits, state, step_aux = step_fn(tokens, state, memory, i)
        step = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        vocab = tf.shape(step)[-1]
        step = tf.reshape(step, [batch, k, vocab])
        pad_only = tf.where(tf.range(vocab) == pad_id, 0.0, _NEG)
        step = tf.where(finished[:, :, None], pad_only[None, None, :], _forbid(step, [pad_id, bos_id]))
        total = log_probs[:, :, None] + step  # [B, K, V]
        new_lengths = lengths + tf.cast(tf.logical_not(finished), tf.int32)
        ranked = total / gnmt_length_penalty(new_lengths, length_penalty)[:, :, None]
        if use_coverage:
            if step_aux is None:
                raise ValueError("`coverage_penalty` needs a step function that returns attention.")
            live = tf.reshape(tf.logical_not(finished), [-1, 1])
            coverage = coverage + tf.where(live, tf.cast(step_aux, tf.float32), 0.0)
            ranked = ranked + coverage_term(coverage)[:, :, None]
        top_scores, top_index = tf.math.top_k(tf.reshape(ranked, [batch, k * vocab]), k=k)
        parent = top_index // vocab
        token = top_index % vocab
        log_probs = tf.gather(tf.reshape(total, [batch, k * vocab]), top_index, batch_dims=1)
        lengths = tf.gather(new_lengths, parent, batch_dims=1)
        parent_finished = tf.gather(finished, parent, batch_dims=1)
        finished = tf.logical_or(parent_finished, tf.equal(token, eos_id))
        flat_token = tf.reshape(token, [-1])
        ids = _write(reorder(ids, parent), i, flat_token, max_length)
        if aux_shape is not None:
            keep = tf.reshape(tf.logical_not(parent_finished), [-1] + [1] * len(aux_shape))
            step_aux = reorder(tf.cast(step_aux, tf.float32), parent)
            aux = _write(reorder(aux, parent), i, tf.where(keep, step_aux, 0.0), max_length)
        state = tf.nest.map_structure(lambda t: reorder(t, parent), state)
        if use_coverage:
            coverage = reorder(coverage, parent)
        return i + 1, flat_token, state, log_probs, top_scores, finished, lengths, ids, aux, coverage

    loop = tf.while_loop(
        cond,
        body,
        (tf.constant(0), tokens, state, log_probs, scores, finished, lengths, ids, aux, coverage),
        maximum_iterations=max_length,
    )
    _, _, _, _, scores, _, lengths, ids, aux, _ = loop
    n = num_return_sequences
    ids = tf.reshape(ids, [batch, k, max_length])[:, :n]
    aux = tf.reshape(aux, tf.concat([[batch, k], tf.shape(aux)[1:]], axis=0))[:, :n]
    result = {"ids": ids, "scores": scores[:, :n], "lengths": lengths[:, :n]}
    if aux_shape is not None:
        result["aux"] = aux
    return result


def _result(ids, scores, lengths, aux, aux_shape, batch=None, k=None):
    result = {"ids": ids, "scores": scores, "lengths": lengths}
    if aux_shape is not None:
        result["aux"] = aux
    if batch is not None:
        result = {
            key: tf.reshape(t, tf.concat([[batch, k], tf.shape(t)[1:]], axis=0))
            for key, t in result.items()
        }
    return result
