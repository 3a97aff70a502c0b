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
