"""Fuzzing the serving boundary: every call returns a well-formed answer or
raises the documented error.

Hypothesis draws inputs (derandomized, so CI sees the same cases every run,
with bounded example counts); adversarial strings and ids are listed too.
Peak memory of a request with one 10^6-character string is measured in
fresh subprocesses.
"""

import json
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import keras_s2s
from keras_s2s import export, runs
from keras_s2s.text import CharTokenizer, WordTokenizer

pytestmark = pytest.mark.slow

SOURCE = CharTokenizer(list("abcdefghijklmnopqrstuvwxyz'"))
TARGET = WordTokenizer(["AA", "B", "K", "T", "IY", "OW", "S"])
V = TARGET.vocabulary_size
MAX_LENGTH = 6
COMMITTED_RUN = pathlib.Path(__file__).parents[1] / "saved_models" / "g2p" / "run"
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

ADVERSARIAL_TEXTS = [
    "", " ", "\x00", "a\x00b", "😀" * 50, "e\u0301\u0301\u0301", "\u202eabc\u202c", "שלום", "مرحبا",
    "\ufeff", "\ud7ff", "a" * 10**6, "\t\n\r", "ABC", "'''",
]
INVALID_UTF8 = [b"\xff", b"\xc3\x28", b"abc\xe2\x82", b"\xed\xa0\x80", b"\x80" * 1000]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    model = keras_s2s.build_seq2seq(SOURCE.vocabulary_size, V, embedding_dim=8, units=16,
                                    attention="bahdanau")
    generator = keras_s2s.build_inference_model(model)
    path = export.export_saved_model(generator, tmp_path_factory.mktemp("sm"), max_length=MAX_LENGTH,
                                     source_tokenizer=SOURCE, target_tokenizer=TARGET)
    return generator, tf.saved_model.load(path), path


def check_result(result, batch, k=1):
    ids, lengths, scores = (np.asarray(result[key]) for key in ("ids", "lengths", "scores"))
    assert ids.shape[:2] == (batch, k) and ids.shape[2] == MAX_LENGTH and ids.dtype == np.int32
    assert np.all((ids >= 0) & (ids < V)) and np.all(np.isfinite(scores)) and np.all(scores <= 0)
    for row, n in zip(ids.reshape(-1, MAX_LENGTH), lengths.reshape(-1)):
        assert 0 <= n <= MAX_LENGTH and not row[n:].any()
        assert not np.isin(row[:n], [keras_s2s.PAD_ID, keras_s2s.BOS_ID]).any()


def serve_texts(loaded, texts):
    out = loaded.signatures["serving_default"](source_text=tf.constant(texts, tf.string))
    text, scores = out["target_text"].numpy(), out["scores"].numpy()
    assert text.shape == (len(texts),) and np.all(np.isfinite(scores))
    for t in text:
        assert set(t.decode("utf-8").split()) <= set(TARGET.vocabulary[4:]) | {"<unk>"}
    return text


def test_adversarial_strings(served):
    _, loaded, _ = served
    out = serve_texts(loaded, ADVERSARIAL_TEXTS + INVALID_UTF8)
    assert out[0] == b"" and out[ADVERSARIAL_TEXTS.index("a" * 10**6)] == serve_texts(
        loaded, ["a" * 256])[0]


@FUZZ
@given(st.lists(st.text(max_size=300), min_size=1, max_size=8))
def test_random_strings(served, texts):
    _, loaded, _ = served
    serve_texts(loaded, texts)


@FUZZ
@given(st.lists(st.binary(max_size=200), min_size=1, max_size=8))
def test_random_bytes(served, texts):
    _, loaded, _ = served
    serve_texts(loaded, texts)


ID_ARRAYS = st.integers(1, 4).flatmap(lambda b: st.integers(0, 12).flatmap(
    lambda s: st.lists(st.lists(st.one_of(st.integers(0, SOURCE.vocabulary_size - 1),
                                          st.integers(-2**31, 2**31 - 1)),
                                min_size=s, max_size=s), min_size=b, max_size=b)))


@FUZZ
@given(ID_ARRAYS)
def test_random_ids(served, rows):
    generator, loaded, _ = served
    ids = np.asarray(rows, "int64").reshape(len(rows), -1).astype("int32")
    in_range = bool(np.all((ids >= 0) & (ids < SOURCE.vocabulary_size)))
    try:
        check_result(generator.generate(ids, max_length=MAX_LENGTH), len(rows))
        assert in_range
    except ValueError as error:
        assert not in_range and "source_ids" in str(error)
    if ids.shape[1] == 0:
        return
    try:
        out = loaded.signatures["generate_ids"](source_ids=tf.constant(ids))
        check_result({k: v.numpy()[:, None] for k, v in out.items()}, len(rows))
        assert in_range
    except tf.errors.InvalidArgumentError as error:
        assert not in_range and "Received the id" in str(error)


FLOATS = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(
    [0.0, -0.0, 1e-45, 1e-39, 1.1754944e-38, 1e-10, 1.0, 10.0, 1e30, 3.5e38, 1e300]))


@FUZZ
@given(temperature=FLOATS, top_p=FLOATS, top_k=st.integers(-2, 40),
       seed=st.one_of(st.integers(-2, 2**31 + 1), st.none()))
def test_extreme_sampling_settings(served, temperature, top_p, top_k, seed):
    generator, _, _ = served
    ids = np.array([[4, 5, 6], [7, 0, 0]], "int32")
    try:
        out = generator.generate(ids, max_length=MAX_LENGTH, strategy="sample", temperature=temperature,
                                 top_p=top_p, top_k=top_k, seed=seed, num_return_sequences=2)
    except ValueError as error:
        assert any(name in str(error) for name in ("temperature", "top_p", "top_k", "seed"))
        return
    check_result(out, 2, k=2)


# Each accepted (num_beams, length_penalty) pair traces its own search graph (2-3 s here; both are graph
# constants, `SearchStrategy.cache_key`), so fewer draws than the other fuzz tests, plus the edges by name.
@settings(FUZZ, max_examples=12)
@given(length_penalty=FLOATS, num_beams=st.integers(-1, V + 1))
@example(length_penalty=0.0, num_beams=V)
@example(length_penalty=10.0, num_beams=1)
@example(length_penalty=10.000001, num_beams=2)
@example(length_penalty=1e-45, num_beams=V + 1)
@example(length_penalty=float("nan"), num_beams=0)
def test_extreme_beam_settings(served, length_penalty, num_beams):
    generator, _, _ = served
    ids = np.array([[4, 5, 6], [7, 0, 0]], "int32")
    try:
        out = generator.generate(ids, max_length=MAX_LENGTH, strategy="beam", num_beams=num_beams,
                                 length_penalty=length_penalty)
    except ValueError as error:
        assert "length_penalty" in str(error) or "num_beams" in str(error)
        return
    check_result(out, 2)


@pytest.fixture(scope="module")
def run_copy(tmp_path_factory):
    target = tmp_path_factory.mktemp("run") / "run"
    shutil.copytree(COMMITTED_RUN, target)
    return target


def load_or_refuse(run_dir):
    try:
        run = runs.Run.load(run_dir)
    except (ValueError, TypeError, FileNotFoundError):
        return None
    assert isinstance(run.translate("hello"), str)
    return run


DAMAGE = st.tuples(st.sampled_from(["truncate", "flip", "append"]), st.floats(0, 1),
                   st.binary(min_size=1, max_size=8))


def damaged(payload, how):
    kind, where, junk = how
    cut = int(where * len(payload))
    if kind == "truncate":
        return payload[:cut]
    if kind == "flip":
        return payload[:cut] + junk + payload[cut + len(junk):]
    return payload + junk


@settings(FUZZ, max_examples=30)
@given(name=st.sampled_from(["config.json", "source_tokenizer.json", "target_tokenizer.json"]),
       how=DAMAGE)
def test_damaged_run_files(run_copy, name, how):
    path = run_copy / name
    good = path.read_bytes()
    try:
        path.write_bytes(damaged(good, how))
        load_or_refuse(run_copy)
    finally:
        path.write_bytes(good)


@settings(FUZZ, max_examples=6)
@given(how=DAMAGE)
def test_damaged_model_file(run_copy, how):
    path = run_copy / "model.keras"
    good = path.read_bytes()
    try:
        path.write_bytes(damaged(good, how))
        try:
            keras_s2s.load_model(path)
        except ValueError as error:
            assert "could not be loaded" in str(error)
    finally:
        path.write_bytes(good)


def test_json_bombs(run_copy):
    path = run_copy / "config.json"
    good = path.read_bytes()
    for payload in [b"[" * 10**6, b'{"train": ' * 10**5, b"null", b"1e999999", b'{"max_length": 26}',
                    json.dumps({"train": {}, "max_length": 2**31}).encode(),
                    json.dumps({"train": {"units": 10**9}, "max_length": 26}).encode()]:
        path.write_bytes(payload)
        with pytest.raises((ValueError, TypeError)):
            runs.Run.load(run_copy)
    path.write_bytes(good)


PEAK = """
import sys
import numpy as np
import tensorflow as tf
loaded = tf.saved_model.load(sys.argv[1])
serve = loaded.signatures["serving_default"]
rng = np.random.default_rng(0)
words = ["".join(rng.choice(list("abcdefghij"), size=8)) for _ in range(500)]
if sys.argv[2] == "huge":
    words[0] = "a" * 10**6
serve(source_text=tf.constant(words))
for line in open("/proc/self/status"):
    if line.startswith("VmHWM"):
        print("PEAK_KB", int(line.split()[1]))
"""


def peak_kb(path, mode, tmp_path):
    script = tmp_path / "peak.py"
    script.write_text(PEAK)
    result = subprocess.run([sys.executable, str(script), path, mode], capture_output=True, text=True,
                            timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.split("PEAK_KB")[-1])


def test_peak_memory_of_a_huge_string(served, tmp_path):
    _, _, path = served
    normal = peak_kb(path, "normal", tmp_path)
    huge = peak_kb(path, "huge", tmp_path)
    print(f"peak RSS: normal words {normal / 1024:.0f} MB, with one 10^6-character string {huge / 1024:.0f} MB")
    assert huge <= 2 * normal, (normal, huge)
