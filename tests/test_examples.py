"""Every example runs in its smoke mode (morse_stt.py through benchmarks/morse.py --smoke)."""

import pathlib
import runpy
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run_example(name, *args):
    module = runpy.run_path(str(ROOT / "examples" / f"{name}.py"))
    argv = sys.argv
    try:
        return module["main"](list(args))
    finally:
        sys.argv = argv


@pytest.mark.slow
def test_addition():
    results = run_example("addition", "--smoke")
    assert set(results) == {"baseline", "reversed", "peeky+reversed"}
    assert all(len(v) == 1 and 0 <= v[0] <= 1 for v in results.values())


def test_dates(tmp_path):
    metrics = run_example("dates", "--smoke", "--run-dir", str(tmp_path))
    assert (tmp_path / "dates_attention.png").is_file() and 0 <= metrics["test"]["exact_match"] <= 1


def test_g2p():
    scores = run_example("g2p_cmudict", "--smoke")
    assert scores["words"] == 50 and 0 <= scores["wer"] <= 1


def test_translate_tsv(tmp_path):
    metrics = run_example("translate_tsv", str(ROOT / "tests" / "data" / "en_fr_tiny.tsv"),
                          "--smoke", "--run-dir", str(tmp_path))
    assert "bleu" in metrics["test"]


def test_custom_attention(tmp_path):
    assert run_example("custom_attention", "--smoke", "--out", str(tmp_path)) is True
    assert (tmp_path / "reverse.tflite").is_file()

