import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import reversal_data

import keras_s2s
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

VARIANTS = {
    "plain": dict(),
    "peeky": dict(peeky=True),
    "bahdanau": dict(attention="bahdanau"),
    "luong": dict(attention="luong"),
    "input_feeding": dict(attention="luong_general", input_feeding=True),
    "gru_stacked_bidirectional": dict(cell="gru", num_layers=2, bidirectional=True,
                                      attention="luong_concat"),
    "reversed_source": dict(attention="bahdanau", reverse_source=True),
}


def sharp_model(**kwargs):
    """A random model with well-separated logits (no near-ties in argmax)."""
    model = keras_s2s.build_seq2seq(12, 15, embedding_dim=8, units=16, **kwargs)
    dense = model.get_layer("decoder").output_dense
    dense.kernel.assign(dense.kernel * 30.0)
    return model


def sources(n=6, seed=0):
    rng = np.random.default_rng(seed)
    src = np.zeros((n, 7), "int32")
    for i in range(n):
        length = rng.integers(1, 8)
        src[i, :length] = rng.integers(4, 12, size=length)
    return src


@pytest.mark.parametrize("variant", VARIANTS)
def test_greedy_is_argmax_of_teacher_forced_logits(variant):
    model = sharp_model(**VARIANTS[variant])
    generator = keras_s2s.build_inference_model(model)
    src = sources()
    out = generator.generate(src, max_length=6)
    ids = out["ids"][:, 0]
    target_in = np.concatenate([np.full((len(src), 1), 2, "int32"), ids[:, :-1]], axis=1)
    logits = model.predict({"source_ids": src, "target_ids": target_in}, verbose=0)
    allowed = logits.copy()
    allowed[..., [keras_s2s.PAD_ID, keras_s2s.BOS_ID]] = -np.inf  # never generated
    expected = allowed.argmax(-1)
    for row, n in zip(range(len(src)), out["lengths"][:, 0]):
        np.testing.assert_array_equal(ids[row, :n], expected[row, :n])
        assert np.all(ids[row, n:] == 0)
        if n < 6:
            assert ids[row, n - 1] == keras_s2s.EOS_ID
    log_probs = tf.nn.log_softmax(logits).numpy()
    for row, n in zip(range(len(src)), out["lengths"][:, 0]):
        expected_score = log_probs[row, np.arange(n), ids[row, :n]].sum()
        np.testing.assert_allclose(out["scores"][row, 0], expected_score, rtol=1e-4)


@pytest.mark.parametrize("variant", ["plain", "input_feeding", "reversed_source"])
def test_beam_of_one_equals_greedy_and_beam_scores_are_the_models(variant):
    model = sharp_model(**VARIANTS[variant])
    generator = keras_s2s.build_inference_model(model)
    src = sources(8, 1)
    greedy = generator.generate(src, max_length=6)
    beam1 = generator.generate(src, max_length=6, strategy="beam", num_beams=1, length_penalty=0.0)
    np.testing.assert_array_equal(beam1["ids"], greedy["ids"])
    np.testing.assert_allclose(beam1["scores"], greedy["scores"], rtol=1e-5)
    beam4 = generator.generate(src, max_length=6, strategy="beam", num_beams=4, length_penalty=0.0,
                               num_return_sequences=4)
    assert np.all(np.diff(beam4["scores"], axis=1) <= 1e-6)  # best first
    # Every hypothesis' score is its log-probability under the teacher-forced model. (Beam
    # search need not beat greedy: the greedy path can fall out of the beam.)
    hypotheses = beam4["ids"].reshape(-1, 6)
    target_in = np.concatenate([np.full((len(hypotheses), 1), keras_s2s.BOS_ID, "int32"),
                                hypotheses[:, :-1]], axis=1)
    logits = model.predict({"source_ids": np.repeat(src, 4, axis=0), "target_ids": target_in}, verbose=0)
    log_probs = np.asarray(keras.ops.log_softmax(logits.astype("float64"), axis=-1))
    lengths = beam4["lengths"].reshape(-1)
    expected = [log_probs[i, np.arange(n), hypotheses[i, :n]].sum() for i, n in enumerate(lengths)]
    np.testing.assert_allclose(beam4["scores"].reshape(-1), expected, rtol=1e-4)


@pytest.mark.parametrize("variant", [pytest.param("peeky", marks=pytest.mark.matrix_extra), "reversed_source"])
def test_beams_share_one_memory_row_per_source_and_match_a_tiled_memory(variant):
    """The package's decoders take memory `[B, ...]` beside `[B * K]` beams
    (attention: K queries of one memory); a decoder that opts out gets the
    memory copied K times. Both give the same hypotheses."""
    model = sharp_model(**VARIANTS[variant])
    shared = keras_s2s.build_inference_model(model)
    model.get_layer("decoder").shares_memory = False  # this instance opts out
    tiled = keras_s2s.build_inference_model(model)
    assert shared.step_fn.shares_memory and not tiled.step_fn.shares_memory
    beam = keras_s2s.BeamSearch(num_beams=3, num_return_sequences=3)
    src = sources(5, 2)
    got, expected = (g.generate(src, max_length=6, strategy=beam) for g in (shared, tiled))
    np.testing.assert_array_equal(got["ids"], expected["ids"])
    np.testing.assert_allclose(got["scores"], expected["scores"], rtol=1e-5)
    if "attention" in expected:
        np.testing.assert_allclose(got["attention"], expected["attention"], atol=1e-5)


# On JAX and PyTorch, reversed_source (Bahdanau over reversed sources) stands for bahdanau and the GRU stack too
# (test_decoders steps GRU stacks on every backend): each variant compiles a search per source length there (~25 s).
@pytest.mark.parametrize("variant", [pytest.param("bahdanau", marks=pytest.mark.matrix_extra),
                                     pytest.param("gru_stacked_bidirectional", marks=pytest.mark.matrix_extra),
                                     "reversed_source"])
def test_batch_equals_one_by_one_and_attention_rows(variant):
    generator = keras_s2s.build_inference_model(sharp_model(**VARIANTS[variant]))
    src = sources(5, 2)
    for strategy in [keras_s2s.GreedySearch(), keras_s2s.BeamSearch(num_beams=3)]:
        batch = generator.generate(src, max_length=6, strategy=strategy)
        for i in range(len(src)):
            n = max(1, int((src[i] != 0).sum()))
            alone = generator.generate(src[i : i + 1, :n], max_length=6, strategy=strategy)
            np.testing.assert_array_equal(alone["ids"][0], batch["ids"][i])
            np.testing.assert_allclose(alone["scores"][0], batch["scores"][i], rtol=1e-4)
            np.testing.assert_allclose(alone["attention"][0], batch["attention"][i, :, :, :n],
                                       atol=1e-5)
        attention = batch["attention"]
        real = src != 0
        for i in range(len(src)):
            steps = batch["lengths"][i, 0]
            np.testing.assert_allclose(attention[i, 0, :steps].sum(-1), 1.0, atol=1e-5)
            assert np.all(attention[i, 0, :, ~real[i]] == 0)
            assert np.all(attention[i, 0, steps:] == 0)


def test_reversed_source_attention_in_source_order():
    src = sources(4, 3)
    forward = sharp_model(attention="bahdanau")
    backward = sharp_model(attention="bahdanau", reverse_source=True)
    backward.set_weights(forward.get_weights())
    flipped = np.zeros_like(src)
    for i, row in enumerate(src):
        n = (row != 0).sum()
        flipped[i, :n] = row[:n][::-1]
    a = keras_s2s.build_inference_model(backward).generate(src, max_length=5)
    b = keras_s2s.build_inference_model(forward).generate(flipped, max_length=5)
    np.testing.assert_array_equal(a["ids"], b["ids"])
    for i, row in enumerate(src):
        n = (row != 0).sum()
        np.testing.assert_allclose(a["attention"][i, :, :, :n], b["attention"][i, :, :, :n][..., ::-1],
                                   atol=1e-5)


def test_sampling_reproducible_with_seed():
    generator = keras_s2s.build_inference_model(keras_s2s.build_seq2seq(12, 15, embedding_dim=8, units=16))
    src = sources(4)
    a = generator.generate(src, max_length=6, strategy="sample", seed=11, num_return_sequences=3,
                           top_k=5, top_p=0.9, temperature=1.5)
    b = generator.generate(src, max_length=6, strategy="sample", seed=11, num_return_sequences=3,
                           top_k=5, top_p=0.9, temperature=1.5)
    c = generator.generate(src, max_length=6, strategy="sample", seed=12, num_return_sequences=3,
                           top_k=5, top_p=0.9, temperature=1.5)
    np.testing.assert_array_equal(a["ids"], b["ids"])
    assert a["ids"].shape == (4, 3, 6) and not np.array_equal(a["ids"], c["ids"])


def test_generator_reads_the_models_variables():
    model = sharp_model(attention="bahdanau")
    generator = keras_s2s.build_inference_model(model)
    model_ids = {id(v) for v in model.weights}
    assert {id(v) for v in generator.decoder_step.weights} <= model_ids
    assert {id(v) for v in generator.encoder.weights} <= model_ids
    src = sources()
    before = generator.generate(src, max_length=6)
    bias = model.get_layer("decoder").output_dense.bias
    bias.assign(np.where(np.arange(bias.shape[0]) == 7, 1e4, 0.0).astype("float32"))
    after = generator.generate(src, max_length=6)  # the same compiled search, new values
    assert not np.array_equal(before["ids"], after["ids"])
    np.testing.assert_array_equal(after["ids"], 7)
    np.testing.assert_array_equal(after["lengths"], 6)


# JAX and PyTorch: the test above shows the sharing; test_models.test_learns_reversal the training.
@pytest.mark.long_training
def test_shares_weights_with_training_model():
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=32, attention="bahdanau")
    generator = keras_s2s.build_inference_model(model)
    x, y = reversal_data(3000, 0)
    xv, yv = reversal_data(200, 1)
    before = generator.generate(xv["source_ids"], max_length=6)["ids"][:, 0]
    model.compile(keras.optimizers.Adam(0.01), MaskedSparseCategoricalCrossentropy())
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    after = generator.generate(xv["source_ids"], max_length=6)["ids"][:, 0]
    exact = lambda ids: np.mean([  # noqa: E731
        np.array_equal(ids[i][yv[i] != 0], yv[i][yv[i] != 0]) for i in range(len(yv))])
    assert exact(before) < 0.05 and exact(after) >= 0.99
    beam = generator.generate(xv["source_ids"], max_length=6, strategy="beam", num_beams=3)
    assert exact(beam["ids"][:, 0]) >= 0.99


def test_step_api_matches_generate():
    model = sharp_model(attention="luong", input_feeding=True)
    generator = keras_s2s.build_inference_model(model)
    src = sources(3, 4)
    encoded = generator.encoder(src)
    state, memory = encoded["state"], encoded["memory"]
    token = keras.ops.full([3], keras_s2s.BOS_ID, "int32")
    tokens, weights = [], []
    for _ in range(4):
        out = generator.decoder_step({"token_ids": token, "state": state, "memory": memory})
        logits = keras.ops.convert_to_numpy(out["logits"]).copy()
        logits[:, [keras_s2s.PAD_ID, keras_s2s.BOS_ID]] = -np.inf  # as generate: never PAD or BOS
        token = keras.ops.convert_to_tensor(logits.argmax(-1).astype("int32"))
        state = out["state"]
        tokens.append(keras.ops.convert_to_numpy(token))
        weights.append(keras.ops.convert_to_numpy(out["attention"]))
    out = generator.generate(src, max_length=4)
    for row in range(3):
        n = out["lengths"][row, 0]
        np.testing.assert_array_equal(np.stack(tokens, 1)[row, :n], out["ids"][row, 0, :n])
        np.testing.assert_allclose(np.stack(weights, 1)[row, :n], out["attention"][row, 0, :n],
                                   atol=1e-5)


@pytest.mark.tensorflow_only
def test_search_inside_user_tf_function_with_xla():
    generator = keras_s2s.build_inference_model(sharp_model(attention="bahdanau"))
    src = sources(4)

    @tf.function(jit_compile=True)
    def decode(ids):
        return generator.search(ids, max_length=6, strategy="beam", num_beams=2)

    xla = decode(tf.constant(src))
    plain = generator.generate(src, max_length=6, strategy="beam", num_beams=2)
    np.testing.assert_array_equal(xla["ids"], plain["ids"])
    jit = generator.generate(src, max_length=6, jit_compile=True)
    np.testing.assert_array_equal(jit["ids"], generator.generate(src, max_length=6)["ids"])


def test_loaded_model_generates_the_same(tmp_path):
    model = sharp_model(attention="bahdanau", bidirectional=True)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    src = sources()
    np.testing.assert_array_equal(
        keras_s2s.build_inference_model(restored).generate(src, max_length=6)["ids"],
        keras_s2s.build_inference_model(model).generate(src, max_length=6)["ids"],
    )


def test_empty_and_all_padding_sources():
    generator = keras_s2s.build_inference_model(sharp_model(attention="bahdanau"))
    out = generator.generate(np.zeros((2, 0), "int32"), max_length=3)
    assert out["ids"].shape == (2, 1, 3) and np.all(np.isfinite(out["scores"]))
    out = generator.generate(np.zeros((2, 4), "int32"), max_length=3)
    assert np.all(out["attention"] == 0)


def test_bad_inputs():
    generator = keras_s2s.build_inference_model(keras_s2s.build_seq2seq(12, 15, embedding_dim=8, units=16))
    src = sources(2)
    cases = [
        (dict(max_length=0), ValueError, "max_length=0"),
        (dict(max_length=-3), ValueError, "max_length=-3"),
        (dict(max_length=2.5), TypeError, "max_length=2.5"),
        (dict(max_length=5, strategy="topk"), ValueError, "strategy='topk'.*'greedy', 'sample', 'beam'"),
        (dict(max_length=5, strategy="beam", num_beams=0), ValueError, "num_beams=0"),
        (dict(max_length=5, strategy="beam", num_beams=16), ValueError, "vocabulary size 15.*num_beams=16"),
        (dict(max_length=5, strategy="beam", num_beams=2, num_return_sequences=3), ValueError,
         "num_return_sequences=3 > num_beams=2"),
        (dict(max_length=5, strategy="beam", length_penalty=-1.0), ValueError, "length_penalty=-1.0"),
        (dict(max_length=5, strategy="sample", top_p=0.0), ValueError, r"top_p.*\(0, 1\].*top_p=0.0"),
        (dict(max_length=5, strategy="sample", top_p=1.5), ValueError, "top_p=1.5"),
        (dict(max_length=5, strategy="sample", top_k=-1), ValueError, "top_k=-1"),
        (dict(max_length=5, strategy="sample", temperature=0.0), ValueError, "temperature=0.0"),
        (dict(max_length=5, strategy="sample", seed="x"), TypeError, "seed='x'"),
        (dict(max_length=5, num_return_sequences=2), ValueError, "num_return_sequences=2 with strategy='greedy'"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            generator.generate(src, **kwargs)
    with pytest.raises(TypeError, match="source_ids.*float32"):
        generator.generate(src.astype("float32"), max_length=3)
    with pytest.raises(ValueError, match="source_ids.*rank 2.*rank 1"):
        generator.generate(src[0], max_length=3)
    with pytest.raises(ValueError, match=r"\[0, 12\).*id 12"):
        generator.generate(np.array([[4, 12]], "int32"), max_length=3)
    with pytest.raises(ValueError, match="id -1"):
        generator.generate(np.array([[4, -1]], "int32"), max_length=3)
    with pytest.raises(ValueError, match="not built by|built by keras_s2s.build_seq2seq"):
        inputs = keras.Input((3,))
        keras_s2s.build_inference_model(keras.Model(inputs, keras.layers.Dense(2)(inputs)))
    with pytest.raises(TypeError, match="keras.Model"):
        keras_s2s.build_inference_model("model.keras")
