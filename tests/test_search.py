"""Search strategies on fake step functions: exact tokens from fixed log-probs."""

import numpy as np
import pytest
from conftest import BACKEND, count_calls
from keras import ops

from keras_s2s.inference import beam_search, greedy_search, process_logits, sample_search

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

PAD, BOS, EOS, A, B, C = 0, 2, 3, 4, 5, 6
V = 7


def table_step(table):
    """A step function whose log-probs depend only on the previous token."""
    table = ops.convert_to_tensor(np.log(np.asarray(table, "float64") + 1e-12), "float32")

    def step_fn(tokens, state, memory, index):
        return ops.take(table, tokens, axis=0), state + 1.0, None

    return step_fn


def probs(**kw):
    row = np.zeros(V)
    for name, p in kw.items():
        row[{"A": A, "B": B, "C": C, "EOS": EOS}[name]] = p
    return row


# From BOS: A 0.6, B 0.4. After A: EOS 0.45, A 0.275, B 0.275. After B: EOS 1.
TRAP = np.zeros((V, V))
TRAP[BOS] = probs(A=0.6, B=0.4)
TRAP[A] = probs(EOS=0.45, A=0.275, B=0.275)
TRAP[B] = probs(EOS=1.0)
TRAP[EOS] = probs(EOS=1.0)
STATE = ops.zeros([2, 1])
MEMORY = {"mask": ops.ones([2, 3], "bool")}


def test_greedy_takes_the_locally_best_path():
    out = greedy_search(table_step(TRAP), STATE, MEMORY, max_length=5, bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(out["ids"], [[A, EOS, 0, 0, 0]] * 2)
    np.testing.assert_array_equal(out["lengths"], [2, 2])
    np.testing.assert_allclose(out["scores"], np.log(0.6 * 0.45) * np.ones(2), rtol=1e-5)


def test_beam_finds_the_better_sequence_greedy_misses():
    out = beam_search(table_step(TRAP), STATE, MEMORY, max_length=5, num_beams=2,
                      length_penalty=0.0, num_return_sequences=2, bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(out["ids"][0], [[B, EOS, 0, 0, 0], [A, EOS, 0, 0, 0]])
    np.testing.assert_allclose(out["scores"][0], np.log([0.4, 0.6 * 0.45]), rtol=1e-5)
    np.testing.assert_array_equal(out["lengths"][0], [2, 2])


def test_beam_length_penalty_is_gnmt():
    # From BOS: EOS 0.5 (length 1) or A 0.5 then EOS 0.9 (length 2).
    table = np.zeros((V, V))
    table[BOS] = probs(EOS=0.5, A=0.5)
    table[A] = probs(EOS=0.9, B=0.1)
    table[B] = probs(EOS=1.0)
    table[EOS] = probs(EOS=1.0)
    lp = lambda n, alpha: ((5 + n) / 6) ** alpha  # noqa: E731
    for alpha in [0.0, 3.0]:
        out = beam_search(table_step(table), STATE, MEMORY, max_length=4, num_beams=2,
                          length_penalty=alpha, num_return_sequences=2, bos_id=BOS, eos_id=EOS)
        short = np.log(0.5) / lp(1, alpha)
        long = np.log(0.45) / lp(2, alpha)
        best = [[EOS, 0, 0, 0], [A, EOS, 0, 0]]
        if long > short:
            best = best[::-1]
        np.testing.assert_array_equal(out["ids"][0], best)
        np.testing.assert_allclose(out["scores"][0], sorted([short, long], reverse=True), rtol=1e-5)
    assert np.log(0.45) / lp(2, 3.0) > np.log(0.5) / lp(1, 3.0)  # the penalty flips the order


def test_max_length_and_mixed_finishing():
    # Row-dependent step: row 0 always says EOS after one A; row 1 never ends.
    def step_fn(tokens, state, memory, index):
        row0 = ops.where(ops.equal(tokens[0], BOS), A, EOS)
        logits = ops.one_hot(ops.stack([ops.cast(row0, "int32"), ops.convert_to_tensor(B, "int32")]), V) * 10.0
        return logits, state, ops.ones([2, 3]) / 3.0

    out = greedy_search(step_fn, STATE, MEMORY, max_length=4, bos_id=BOS, eos_id=EOS, aux_shape=(3,))
    np.testing.assert_array_equal(out["ids"], [[A, EOS, 0, 0], [B, B, B, B]])
    np.testing.assert_array_equal(out["lengths"], [2, 4])
    np.testing.assert_allclose(np.asarray(out["aux"])[0, :2].sum(-1), 1.0)
    assert np.all(np.asarray(out["aux"])[0, 2:] == 0)
    beam = beam_search(step_fn, STATE, MEMORY, max_length=4, num_beams=1, bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(beam["ids"][:, 0], out["ids"])


def test_loop_stops_when_every_sequence_ended():
    count, steps = count_calls()

    def step_fn(tokens, state, memory, index):
        count(index)
        return ops.one_hot(ops.full([2], EOS, "int32"), V) * 10.0, state, None

    out = compiled(lambda: greedy_search(step_fn, STATE, MEMORY, max_length=50, bos_id=BOS, eos_id=EOS))()
    np.testing.assert_array_equal(out["lengths"], [1, 1])
    np.testing.assert_array_equal(np.asarray(out["ids"])[:, 1:], 0)
    assert steps() == 1


def test_beam_one_equals_greedy_on_random_tables():
    rng = np.random.default_rng(0)
    for _ in range(5):
        table = rng.dirichlet(np.ones(V) * 0.3, size=V)
        g = greedy_search(table_step(table), STATE, MEMORY, max_length=6, bos_id=BOS, eos_id=EOS)
        b = beam_search(table_step(table), STATE, MEMORY, max_length=6, num_beams=1,
                        length_penalty=0.0, bos_id=BOS, eos_id=EOS)
        np.testing.assert_array_equal(b["ids"][:, 0], g["ids"])
        np.testing.assert_allclose(b["scores"][:, 0], g["scores"], rtol=1e-5)


def test_process_logits_numbers():
    logits = ops.log(ops.convert_to_tensor([[0.5, 0.3, 0.15, 0.05]]))
    kept = lambda out: (ops.convert_to_numpy(out) > -1e8).tolist()[0]  # noqa: E731
    assert kept(process_logits(logits, top_k=2)) == [True, True, False, False]
    assert kept(process_logits(logits, top_p=0.5)) == [True, False, False, False]
    assert kept(process_logits(logits, top_p=0.8)) == [True, True, False, False]
    assert kept(process_logits(logits, top_p=0.81)) == [True, True, True, False]
    # the best token is shifted to 0 before the division (softmax-invariant)
    np.testing.assert_allclose(ops.convert_to_numpy(process_logits(logits, temperature=2.0)),
                               (ops.convert_to_numpy(logits) - np.max(ops.convert_to_numpy(logits))) / 2,
                               rtol=1e-6)
    # filtered tokens are exactly -inf (probability 0), whatever the temperature
    tiny = ops.convert_to_numpy(process_logits(logits, temperature=1e-10, top_k=1))[0]
    assert tiny[0] == 0 and np.all(tiny[1:] == -np.inf)
    smallest = ops.convert_to_numpy(process_logits(logits, temperature=float(np.finfo(np.float32).tiny)))[0]
    assert smallest[0] == 0 and np.all(smallest[1:] < -1e30)  # the best stays finite
    # a top_p that rounds to 0 in float32 still keeps the best token only
    assert kept(process_logits(logits, top_p=1e-45)) == [True, False, False, False]


def test_top_k_1_with_tiny_temperature_is_greedy():
    # Regression: the filter value -1e9 was above the kept tokens' scores at
    # temperature 1e-10, so filtered tokens were drawn (0 of 20 matched greedy: every seed fails it).
    table = np.zeros((V, V))
    table[BOS] = probs(A=0.3, B=0.36, C=0.34)
    table[A] = table[B] = table[C] = probs(EOS=1.0)
    kwargs = dict(max_length=3, bos_id=BOS, eos_id=EOS)
    step, state, memory = table_step(table), ops.zeros([1, 1]), {"mask": ops.ones([1, 2], "bool")}
    greedy = greedy_search(step, state, memory, **kwargs)
    for seed in range(8):
        out = sample_search(step, state, memory, seed=seed, top_k=1, temperature=1e-10, **kwargs)
        np.testing.assert_array_equal(out["ids"][:, 0], greedy["ids"])


def test_pad_and_bos_are_never_generated():
    # The model prefers PAD, then BOS; every strategy skips both in live rows.
    table = np.zeros((V, V))
    table[:, PAD], table[:, BOS], table[:, A], table[:, EOS] = 0.5, 0.3, 0.15, 0.05
    kwargs = dict(max_length=4, bos_id=BOS, eos_id=EOS)
    greedy = greedy_search(table_step(table), STATE, MEMORY, **kwargs)
    np.testing.assert_array_equal(greedy["ids"][0], [A, A, A, A])
    np.testing.assert_allclose(greedy["scores"][0], 4 * np.log(0.15), rtol=1e-5)
    beam = beam_search(table_step(table), STATE, MEMORY, num_beams=3, length_penalty=0.0,
                       num_return_sequences=3, **kwargs)
    assert not np.isin(np.asarray(beam["ids"])[:, :, 0], [PAD, BOS]).any()
    sample = sample_search(table_step(table), STATE, MEMORY, seed=0, num_return_sequences=50, **kwargs)
    first = np.asarray(sample["ids"])[:, :, 0]
    assert set(first.ravel()) <= {A, EOS}


def test_sampling_is_seeded_and_follows_the_distribution():
    table = np.zeros((V, V))
    table[BOS] = probs(A=0.7, B=0.2, C=0.1)
    table[A] = table[B] = table[C] = probs(EOS=1.0)
    state = ops.zeros([1000, 1])
    memory = {"mask": ops.ones([1000, 2], "bool")}
    kwargs = dict(max_length=3, bos_id=BOS, eos_id=EOS)
    a = sample_search(table_step(table), state, memory, seed=7, **kwargs)
    b = sample_search(table_step(table), state, memory, seed=7, **kwargs)
    c = sample_search(table_step(table), state, memory, seed=8, **kwargs)
    np.testing.assert_array_equal(a["ids"], b["ids"])
    assert not np.array_equal(a["ids"], c["ids"])
    first = np.asarray(a["ids"])[:, 0, 0]
    freq = [np.mean(first == t) for t in (A, B, C)]
    np.testing.assert_allclose(freq, [0.7, 0.2, 0.1], atol=0.05)
    np.testing.assert_allclose(np.asarray(a["scores"])[first == A, 0], np.log(0.7), rtol=1e-5)
    top1 = sample_search(table_step(table), state, memory, seed=1, top_k=1, **kwargs)
    assert np.all(np.asarray(top1["ids"])[:, 0, 0] == A)
    nucleus = sample_search(table_step(table), state, memory, seed=1, top_p=0.85, **kwargs)
    assert set(np.asarray(nucleus["ids"])[:, 0, 0]) == {A, B}
    multi = sample_search(table_step(table), ops.zeros([2, 1]), MEMORY, seed=3,
                          num_return_sequences=50, **kwargs)
    assert multi["ids"].shape == (2, 50, 3)
    assert len(set(np.asarray(multi["ids"])[0, :, 0])) > 1


def compiled(fn):
    """`fn` compiled by the backend (XLA on TensorFlow and JAX); PyTorch runs it as it is."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(fn, jit_compile=True, autograph=False)
    if BACKEND == "jax":
        import jax

        return jax.jit(fn)
    return fn


def test_search_compiles_with_xla():
    step = table_step(TRAP)

    @compiled
    def run():
        g = greedy_search(step, STATE, MEMORY, max_length=5, bos_id=BOS, eos_id=EOS)
        b = beam_search(step, STATE, MEMORY, max_length=5, num_beams=2, length_penalty=0.0,
                        bos_id=BOS, eos_id=EOS)
        return g["ids"], b["ids"]

    g, b = run()
    np.testing.assert_array_equal(g[0], [A, EOS, 0, 0, 0])
    np.testing.assert_array_equal(b[0, 0], [B, EOS, 0, 0, 0])


def test_coverage_penalty_is_gnmt_and_changes_the_winner():
    # From BOS: A 0.6, B 0.4 (attention [0.5, 0.5] while reading BOS). Reading A the decoder looks
    # only at source word 0 ([1, 0]), reading B at both ([0.5, 0.5]); then EOS. Raw log-probability
    # prefers A EOS; coverage prefers B EOS (A leaves word 1 at coverage 0.5).
    table = np.zeros((V, V))
    table[BOS] = probs(A=0.6, B=0.4)
    table[A] = probs(EOS=1.0)
    table[B] = probs(EOS=1.0)
    table[EOS] = probs(EOS=1.0)
    attention = np.zeros((V, 3), "float32")  # 2 real source words + 1 padding
    attention[BOS] = [0.5, 0.5, 0.0]
    attention[A] = [1.0, 0.0, 0.0]
    attention[B] = [0.5, 0.5, 0.0]
    log_table = ops.convert_to_tensor(np.log(table + 1e-12), "float32")

    def step_fn(tokens, state, memory, index):
        return ops.take(log_table, tokens, axis=0), state, ops.take(ops.convert_to_tensor(attention), tokens, axis=0)

    mask = ops.convert_to_tensor([[True, True, False]] * 2)
    common = dict(max_length=4, num_beams=2, length_penalty=0.0, num_return_sequences=2, bos_id=BOS,
                  eos_id=EOS)
    plain = beam_search(step_fn, STATE, MEMORY, **common)
    np.testing.assert_array_equal(plain["ids"][0, 0, :2], [A, EOS])
    beta = 1.0
    out = beam_search(step_fn, STATE, MEMORY, coverage_penalty=beta, source_mask=mask, **common)
    np.testing.assert_array_equal(out["ids"][0, :, :2], [[B, EOS], [A, EOS]])
    # coverage after "B EOS": [0.5+0.5, 0.5+0.5] -> cp 0; after "A EOS": [0.5+1, 0.5+0] -> log 0.5
    np.testing.assert_allclose(out["scores"][0], [np.log(0.4), np.log(0.6) + beta * np.log(0.5)],
                               rtol=1e-5)
    with pytest.raises(ValueError, match="source_mask"):
        beam_search(step_fn, STATE, MEMORY, coverage_penalty=1.0, **common)
