"""Benchmarks run in their smoke mode: they must keep working; no timing asserted.

Each smoke is one subprocess (`@pytest.mark.script`, run by the `run_script`
fixture of `tests/conftest.py`); the tests check what it wrote."""

import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SMOKE = ROOT / "benchmarks" / "results" / "smoke"
pytestmark = pytest.mark.slow


@pytest.mark.script("benchmarks/decode_speed.py", "--smoke", "--out", "{tmp}/decode.json")
def test_decode_speed_smoke(run_script):
    _, folder = run_script()
    report = json.loads((folder / "decode.json").read_text())
    assert [r["batch"] for r in report["rows"]] == [1, 8]
    assert all(r["same_tokens"] == 1.0 for r in report["rows"])


@pytest.mark.script("benchmarks/tflite_latency.py", "--smoke", "--out", "{tmp}/latency.json")
def test_tflite_latency_smoke(run_script):
    _, folder = run_script()
    report = json.loads((folder / "latency.json").read_text())
    assert report["words"] == 20 and report["ms_per_word_mean"] > 0


@pytest.mark.parametrize("script", [
    pytest.param(script, marks=pytest.mark.script(f"benchmarks/{script}", "--smoke"))
    for script in ("dlfs2_addition.py", "dlfs2_dates.py", "dlfs2_ablation.py")])
def test_dlfs2_benchmarks_smoke(script, run_script):
    run_script()
    name = script[:-3]
    report = json.loads((SMOKE / f"{name}.json").read_text())
    assert all(len(r["accuracy"]) == 1 for r in report["results"].values())
    assert (SMOKE / f"{name}.png").is_file()


@pytest.mark.script("benchmarks/train_speed.py", "--smoke")
def test_train_speed_smoke(run_script):
    run_script()
    report = json.loads((SMOKE / "train_speed.json").read_text())
    assert report["ratio"] > 0 and report["peak_rss_mb"] > 0


@pytest.mark.script("benchmarks/g2p_speed.py", "--smoke")
def test_g2p_speed_smoke(run_script):
    run_script()
    report = json.loads((SMOKE / "g2p_speed.json").read_text())
    assert report["words"] == 50 and all(v > 0 for v in report["words_per_s"].values())


@pytest.mark.script("benchmarks/g2p_variants.py", "--smoke", "--variants", "bilstm_peeky", "--run-root", "{tmp}")
def test_g2p_variants_smoke(run_script):
    _, folder = run_script()
    report = json.loads((SMOKE / "g2p_variants.json").read_text())
    assert 0 <= report["results"]["bilstm_peeky"]["test_wer"] <= 1
    assert (folder / "bilstm_peeky" / "metrics.json").is_file()


@pytest.mark.script("benchmarks/peak_rss.py", "--smoke")
def test_peak_rss_smoke(run_script):
    run_script()
    rows = json.loads((SMOKE / "peak_rss.json").read_text())["peak_rss_mb"]
    assert len(rows) == 5
    # TFLite runs without TensorFlow, so it must stay far below the process that only imports the package
    assert 0 < rows["TFLite (LiteRT only, batch 1)"] < rows["import keras_s2s"] / 2


@pytest.mark.script("benchmarks/morse.py", "--smoke")
def test_morse_smoke(run_script):
    run_script()
    report = json.loads((SMOKE / "morse.json").read_text())
    assert set(report["results"]) == {"test_10db", "test_20db"}
    assert all(0 <= r["greedy"]["cer"] and 0 <= r["beam4"]["wer"] <= 1 for r in report["results"].values())
    assert (SMOKE / "morse_attention.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.script("benchmarks/embedding_adam_repro.py", "--smoke", "--backends", "tensorflow,jax",
                    "--out", "{tmp}/repro.json")
def test_embedding_adam_repro_smoke(run_script):
    _, folder = run_script()
    reports = json.loads((folder / "repro.json").read_text())
    assert set(reports) == {"tensorflow", "jax"}
    # JAX's Adam is the standard one: one step equals NumPy's on the summed gradient
    assert reports["jax"]["max_abs_diff_from_summed_gradient_adam"] < 1e-5
    assert all(len(r["loss"]) == 1 for r in reports.values())


@pytest.mark.script("benchmarks/backends.py", "--smoke", timeout=900)
def test_backends_smoke(run_script):
    run_script()
    report = json.loads((SMOKE / "backends.json").read_text())
    assert set(report["results"]) == {"tensorflow", "jax", "torch"}
    for row in report["results"].values():
        assert row["train_tokens_per_s"] > 0 and all(v > 0 for v in row["decode_words_per_s"].values())
