"""Search strategies as objects: validation, configs, one result shape, a
user subclass, and export of strategy objects (n-best SavedModel, beam TFLite)."""

import json
import pathlib

import keras
import numpy as np
import pytest
from keras import ops

import keras_s2s
from keras_s2s import export
from keras_s2s.inference import strategies
from keras_s2s.text import CharTokenizer, WordTokenizer

from test_search import BOS, EOS, MEMORY, STATE, TRAP, A, B, table_step

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix

SOURCE = CharTokenizer(list("abcdefgh"))
TARGET = WordTokenizer(["A", "B", "C", "D", "E", "F"])


def generator():
    model = keras_s2s.build_seq2seq(SOURCE.vocabulary_size, TARGET.vocabulary_size,
                                    embedding_dim=8, units=16, attention="luong")
    dense = model.get_layer("decoder").output_dense
    dense.kernel.assign(dense.kernel * 20.0)
    return keras_s2s.build_inference_model(model)


def sources():
    texts = ["abc", "hgfe", "a", "dddd", "bcadef"]
    return texts, SOURCE.encode(texts).numpy()


@pytest.mark.parametrize("strategy", [
    keras_s2s.GreedySearch(),
    keras_s2s.SampleSearch(temperature=0.7, top_k=3, top_p=0.9, num_return_sequences=2, seed=5),
    keras_s2s.BeamSearch(num_beams=3, length_penalty=0.2, num_return_sequences=2),
])
def test_config_round_trip_through_keras_serialization(strategy):
    config = keras.saving.serialize_keras_object(strategy)
    json.dumps(config)
    again = keras.saving.deserialize_keras_object(config)
    assert type(again) is type(strategy) and again.get_config() == strategy.get_config()


@pytest.mark.parametrize("make, error, message", [
    (lambda: keras_s2s.BeamSearch(num_beams=0), ValueError, "num_beams=0"),
    (lambda: keras_s2s.BeamSearch(num_beams=2, num_return_sequences=3), ValueError,
     "num_return_sequences=3 > num_beams=2"),
    (lambda: keras_s2s.BeamSearch(length_penalty=float("nan")), ValueError, "length_penalty=nan"),
    (lambda: keras_s2s.SampleSearch(temperature=0.0), ValueError, "temperature=0.0"),
    (lambda: keras_s2s.SampleSearch(top_p=1.5), ValueError, "top_p=1.5"),
    (lambda: keras_s2s.SampleSearch(top_k=-2), ValueError, "top_k=-2"),
    (lambda: keras_s2s.SampleSearch(seed=-1), ValueError, "seed=-1"),
    (lambda: keras_s2s.SampleSearch(seed="x"), TypeError, "seed='x'"),
])
def test_constructors_validate_their_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_get_names_objects_and_misuse():
    beam = strategies.get("beam", num_beams=2, temperature=None)  # None: not given
    assert isinstance(beam, keras_s2s.BeamSearch) and beam.num_beams == 2
    with pytest.raises(ValueError, match="temperature=0.5 is not an option of strategy='beam'"):
        strategies.get("beam", num_beams=2, temperature=0.5)  # never silently dropped
    with pytest.raises(ValueError, match="num_beams=4 is not an option of strategy='greedy'"):
        strategies.get("greedy", num_beams=4)
    assert isinstance(strategies.get("greedy", num_return_sequences=1), keras_s2s.GreedySearch)
    obj = keras_s2s.GreedySearch()
    assert strategies.get(obj) is obj
    with pytest.raises(ValueError, match="constructor.*num_beams=3"):
        strategies.get(keras_s2s.BeamSearch(), num_beams=3)
    with pytest.raises(TypeError, match="strategy object.*42"):
        strategies.get(42)
    with pytest.raises(ValueError, match="vocabulary size 10.*num_beams=11"):
        generator().generate(sources()[1], max_length=4, strategy=keras_s2s.BeamSearch(11))


def test_every_strategy_returns_ids_b_k_t_and_objects_equal_shortcuts():
    gen = generator()
    _, ids = sources()
    cases = [
        ("greedy", {}, keras_s2s.GreedySearch(), 1),
        ("beam", dict(num_beams=3, num_return_sequences=2), keras_s2s.BeamSearch(3, 0.6, 2), 2),
        ("sample", dict(num_return_sequences=3, top_k=2, seed=4),
         keras_s2s.SampleSearch(top_k=2, num_return_sequences=3, seed=4), 3),
    ]
    for name, options, obj, k in cases:
        by_name = gen.generate(ids, max_length=6, strategy=name, **options)
        by_object = gen.generate(ids, max_length=6, strategy=obj)
        assert by_object["ids"].shape == (5, k, 6)
        assert by_object["scores"].shape == by_object["lengths"].shape == (5, k)
        assert by_object["attention"].shape == (5, k, 6, ids.shape[1])
        for key in by_name:
            np.testing.assert_array_equal(by_object[key], by_name[key])


def test_sample_seed_in_the_constructor_and_override():
    gen = generator()
    _, ids = sources()
    a = gen.generate(ids, max_length=6, strategy=keras_s2s.SampleSearch(num_return_sequences=4, seed=7))
    b = gen.generate(ids, max_length=6, strategy="sample", num_return_sequences=4, seed=7)
    c = gen.generate(ids, max_length=6, strategy=keras_s2s.SampleSearch(num_return_sequences=4, seed=7),
                     seed=8)
    np.testing.assert_array_equal(a["ids"], b["ids"])
    assert not np.array_equal(a["ids"], c["ids"])


@pytest.mark.parametrize("shares", [False, True])
def test_beams_read_one_memory_row_per_source_when_the_step_shares_it(shares):
    seen = []
    table = table_step(TRAP)

    def step_fn(tokens, state, memory, index):
        seen.append((int(ops.shape(tokens)[0]), int(ops.shape(memory["mask"])[0])))
        return table(tokens, state, memory, index)

    step_fn.shares_memory = shares
    out = keras_s2s.BeamSearch(num_beams=3, length_penalty=0.0).search(
        step_fn, STATE, MEMORY, max_length=4, bos_id=BOS, eos_id=EOS)
    assert seen and set(seen) == {(6, 2 if shares else 6)}  # 2 sources x 3 beams; memory copied or not
    np.testing.assert_array_equal(out["ids"][:, 0], [[B, EOS, 0, 0]] * 2)  # the same search either way


class ForbidA(keras_s2s.GreedySearch):
    """Greedy that never emits token A (a constrained vocabulary)."""

    def get_next_token(self, log_probs, index, seed):
        banned = ops.equal(ops.arange(ops.shape(log_probs)[-1], dtype="int32"), A)
        return ops.cast(ops.top_k(ops.where(banned, -np.inf, log_probs), 1)[1][:, 0], "int32")


def test_user_strategy_is_one_override_exact_tokens():
    plain = keras_s2s.GreedySearch().search(table_step(TRAP), STATE, MEMORY, max_length=4,
                                            bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(plain["ids"][:, 0], [[A, EOS, 0, 0]] * 2)
    out = ForbidA().search(table_step(TRAP), STATE, MEMORY, max_length=4, bos_id=BOS, eos_id=EOS)
    np.testing.assert_array_equal(out["ids"][:, 0], [[B, EOS, 0, 0]] * 2)
    np.testing.assert_allclose(out["scores"][:, 0], [np.log(0.4)] * 2, rtol=1e-5)


@pytest.mark.tensorflow_only
def test_user_strategy_through_generate_saved_model_and_tflite(tmp_path):
    import tensorflow as tf

    gen = generator()
    _, ids = sources()
    out = gen.generate(ids, max_length=6, strategy=ForbidA())
    assert out["ids"].shape == (5, 1, 6) and not np.any(out["ids"] == A)
    saved = tf.saved_model.load(export.export_saved_model(gen, tmp_path / "sm", max_length=6, strategy=ForbidA()))
    np.testing.assert_array_equal(saved.signatures["generate_ids"](source_ids=tf.constant(ids))["ids"].numpy(),
                                  out["ids"][:, 0])
    path = export.export_tflite(gen, tmp_path / "forbid.tflite", max_length=6, strategy=ForbidA())
    decoder = export.TFLiteGreedyDecoder(path)
    for row, source in enumerate(ids):
        n = int((source != 0).sum())
        np.testing.assert_array_equal(decoder(source[:n])["ids"], out["ids"][row, 0])


@pytest.mark.slow
@pytest.mark.tensorflow_only
def test_n_best_saved_model_and_beam_tflite(tmp_path):
    import tensorflow as tf

    gen = generator()
    texts, ids = sources()
    beam = keras_s2s.BeamSearch(num_beams=3, length_penalty=0.0, num_return_sequences=3)
    reference = gen.generate(ids, max_length=6, strategy=beam)
    path = export.export_saved_model(gen, tmp_path, max_length=6, strategy=beam,
                                     source_tokenizer=SOURCE, target_tokenizer=TARGET)
    loaded = tf.saved_model.load(path)
    out = loaded.signatures["serving_default"](source_text=tf.constant(texts))
    assert out["target_text"].shape == (5, 3) and out["scores"].shape == (5, 3)
    expected = TARGET.decode(reference["ids"].reshape(15, 6)).numpy().reshape(5, 3)
    np.testing.assert_array_equal(out["target_text"].numpy(), expected)
    np.testing.assert_allclose(out["scores"].numpy(), reference["scores"], rtol=1e-4)
    raw = loaded.signatures["generate_ids"](source_ids=tf.constant(ids))
    np.testing.assert_array_equal(raw["ids"].numpy(), reference["ids"])
    info = json.loads((pathlib.Path(path) / "assets.extra" / "keras_s2s.json").read_text())
    assert info["num_return_sequences"] == 3
    assert keras.saving.deserialize_keras_object(info["strategy_config"]).get_config() == beam.get_config()

    best = keras_s2s.BeamSearch(num_beams=3, length_penalty=0.0)
    tflite = export.export_tflite(gen, tmp_path / "beam.tflite", max_length=6, strategy=best)
    assert not [op for op in export.tflite_ops(tflite) if "FLEX" in op or "CUSTOM" in op]
    decoder = export.TFLiteGreedyDecoder(tflite)
    for row, source in enumerate(ids):
        n = int((source != 0).sum())
        got = decoder(source[:n])
        np.testing.assert_array_equal(got["ids"], reference["ids"][row, 0])
        np.testing.assert_allclose(got["score"], reference["scores"][row, 0], rtol=1e-4)


@pytest.mark.tensorflow_only
def test_export_refuses_sampling_objects(tmp_path):
    with pytest.raises(ValueError, match="deterministic strategy.*SampleSearch"):
        export.export_tflite(generator(), tmp_path / "m.tflite", max_length=4,
                             strategy=keras_s2s.SampleSearch(seed=1))


def test_coverage_penalty_through_the_generator():
    gen = generator()
    _, ids = sources()
    plain = gen.generate(ids, max_length=6, strategy=keras_s2s.BeamSearch(3, 0.0))
    zero = gen.generate(ids, max_length=6, strategy="beam", num_beams=3, length_penalty=0.0,
                        coverage_penalty=0.0)
    np.testing.assert_array_equal(zero["ids"], plain["ids"])
    covered = gen.generate(ids, max_length=6, strategy=keras_s2s.BeamSearch(3, 0.0, coverage_penalty=2.0))
    assert covered["ids"].shape == plain["ids"].shape and np.all(np.isfinite(covered["scores"]))
    no_attention = keras_s2s.build_inference_model(keras_s2s.build_seq2seq(12, 10, embedding_dim=4,
                                                                           units=8))
    with pytest.raises(ValueError, match="attention"):
        no_attention.generate(ids, max_length=4, strategy=keras_s2s.BeamSearch(2, coverage_penalty=1.0))


def test_a_protocol_only_strategy_object_works():
    class Delegating:  # no SearchStrategy base: just `search` and `num_return_sequences`
        num_return_sequences = 1

        def search(self, step_fn, initial_state, memory, **kwargs):
            return keras_s2s.GreedySearch().search(step_fn, initial_state, memory, **kwargs)

    gen = generator()
    _, ids = sources()
    np.testing.assert_array_equal(gen.generate(ids, max_length=5, strategy=Delegating())["ids"],
                                  gen.generate(ids, max_length=5)["ids"])


def test_strategies_that_differ_only_in_attributes_get_their_own_graph():
    class Forbid(keras_s2s.GreedySearch):  # no get_config: the banned token is not in the config
        def __init__(self, token):
            self.token = token

        def get_next_token(self, log_probs, index, seed):
            banned = ops.equal(ops.arange(ops.shape(log_probs)[-1], dtype="int32"), self.token)
            return ops.cast(ops.top_k(ops.where(banned, -np.inf, log_probs), 1)[1][:, 0], "int32")

    gen = generator()
    _, ids = sources()
    plain = gen.generate(ids, max_length=6)["ids"]
    common = np.bincount(plain[plain > 3]).argmax()
    other = next(t for t in range(4, 10) if t != common)
    without_common = gen.generate(ids, max_length=6, strategy=Forbid(int(common)))["ids"]
    without_other = gen.generate(ids, max_length=6, strategy=Forbid(other))["ids"]
    assert not np.any(without_common == common) and not np.any(without_other == other)
