"""Benchmarks run in their smoke mode: they must keep working; no timing asserted."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_decode_speed_smoke(tmp_path):
    out = tmp_path / "decode.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "decode_speed.py"), "--smoke",
                    "--out", str(out)], check=True, cwd=ROOT, timeout=600)
    report = json.loads(out.read_text())
    assert [r["batch"] for r in report["rows"]] == [1, 8]
    assert all(r["same_tokens"] == 1.0 for r in report["rows"])


@pytest.mark.slow
def test_tflite_latency_smoke(tmp_path):
    out = tmp_path / "latency.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "tflite_latency.py"), "--smoke",
                    "--out", str(out)], check=True, cwd=ROOT, timeout=600)
    report = json.loads(out.read_text())
    assert report["words"] == 20 and report["ms_per_word_mean"] > 0


@pytest.mark.slow
@pytest.mark.parametrize("script", ["dlfs2_addition.py", "dlfs2_dates.py", "dlfs2_ablation.py"])
def test_dlfs2_benchmarks_smoke(script):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--smoke"], check=True, cwd=ROOT,
                   timeout=600)
    name = script[:-3]
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / f"{name}.json").read_text())
    assert all(len(r["accuracy"]) == 1 for r in report["results"].values())
    assert (ROOT / "benchmarks" / "results" / "smoke" / f"{name}.png").is_file()


@pytest.mark.slow
def test_train_speed_smoke():
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_speed.py"), "--smoke"], check=True,
                   cwd=ROOT, timeout=600)
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "train_speed.json").read_text())
    assert report["ratio"] > 0 and report["peak_rss_mb"] > 0


@pytest.mark.slow
def test_g2p_speed_smoke():
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "g2p_speed.py"), "--smoke"], check=True,
                   cwd=ROOT, timeout=600)
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "g2p_speed.json").read_text())
    assert report["words"] == 50 and all(v > 0 for v in report["words_per_s"].values())


@pytest.mark.slow
def test_g2p_variants_smoke(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "g2p_variants.py"), "--smoke", "--variants",
                    "bilstm_peeky", "--run-root", str(tmp_path)], check=True, cwd=ROOT, timeout=600)
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "g2p_variants.json").read_text())
    assert 0 <= report["results"]["bilstm_peeky"]["test_wer"] <= 1
    assert (tmp_path / "bilstm_peeky" / "metrics.json").is_file()


@pytest.mark.slow
def test_peak_rss_smoke():
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "peak_rss.py"), "--smoke"], check=True, cwd=ROOT,
                   timeout=600)
    rows = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "peak_rss.json").read_text())["peak_rss_mb"]
    assert len(rows) == 5
    # TFLite runs without TensorFlow, so it must stay far below the process that only imports the package
    assert 0 < rows["TFLite (LiteRT only, batch 1)"] < rows["import keras_s2s"] / 2


@pytest.mark.slow
def test_morse_smoke():
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "morse.py"), "--smoke"], check=True, cwd=ROOT,
                   timeout=600)
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "morse.json").read_text())
    assert set(report["results"]) == {"test_10db", "test_20db"}
    assert all(0 <= r["greedy"]["cer"] and 0 <= r["beam4"]["wer"] <= 1 for r in report["results"].values())
    assert (ROOT / "benchmarks" / "results" / "smoke" / "morse_attention.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_backends_smoke():
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "backends.py"), "--smoke"], check=True, cwd=ROOT,
                   timeout=900)
    report = json.loads((ROOT / "benchmarks" / "results" / "smoke" / "backends.json").read_text())
    assert set(report["results"]) == {"tensorflow", "jax", "torch"}
    for row in report["results"].values():
        assert row["train_tokens_per_s"] > 0 and all(v > 0 for v in row["decode_words_per_s"].values())
