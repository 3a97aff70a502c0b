"""Morse-code audio to text (float-feature sources): CER and WER at 10 and 20 dB SNR, training time,
and an attention heatmap from audio frames to letters.

    python benchmarks/morse.py            # ~25 min on a 2-core CPU (20,000 words, 12 epochs)
    python benchmarks/morse.py --smoke    # seconds (CI)

Runs `examples/morse_stt.py` and files its report under benchmarks/results/. Goal: CER < 2% at 10 dB.
"""

import argparse
import pathlib
import runpy
import shutil
import sys
import tempfile

from _curves import RESULTS, save

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--examples", type=int, default=20000)
    parser.add_argument("--epochs", type=int, default=12)
    args = parser.parse_args(argv)
    example = runpy.run_path(str(ROOT / "examples" / "morse_stt.py"))
    with tempfile.TemporaryDirectory() as out:
        argv = ["--out", out] + (["--smoke"] if args.smoke else
                                 ["--examples", str(args.examples), "--epochs", str(args.epochs)])
        report = example["main"](argv)
        folder = RESULTS / "smoke" if args.smoke else RESULTS
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(pathlib.Path(out) / "attention.png", folder / "morse_attention.png")
    report["command"] = "python benchmarks/morse.py" + (" --smoke" if args.smoke else "")
    if not args.smoke and (args.examples, args.epochs) != (20000, 12):
        report["command"] += f" --examples {args.examples} --epochs {args.epochs}"
    report["goal"] = {"test_10db_cer": 0.02}
    return save("morse", report, smoke=args.smoke)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
