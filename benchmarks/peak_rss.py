"""Peak resident memory (RSS) of training and of inference, each in a fresh process.

    python benchmarks/peak_rss.py --run-dir saved_models/g2p/run --saved-model saved_models/g2p/1 \
        --tflite saved_models/g2p/g2p.tflite     # ~3 min on a 2-core CPU
    python benchmarks/peak_rss.py --smoke         # tiny model, few words (CI)

Each row is one child process's peak RSS (`VmHWM` in /proc/self/status, Linux) at exit:

- `import keras_s2s`: the floor every process that imports the package pays (TensorFlow, Keras);
- training: `keras-s2s train g2p` for one epoch (the main job's model and full training data;
  smoke mode: a tiny model on 300 words, whose exports the inference rows then use);
- `generate`: the run's Keras generator decoding the test words in batches of 512;
- SavedModel: `serving_default` loaded with `tensorflow` only, same words and batches;
- TFLite: the `.tflite` in the LiteRT interpreter, one word at a time, without importing TensorFlow.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

from _curves import save

# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child would report its parent's peak.
REPORT = """
import json, re
status = open("/proc/self/status").read()
print(json.dumps({"peak_rss_mb": int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) / 1024}))
"""

CHILDREN = {
    "import keras_s2s": "import keras_s2s",
    "training (keras-s2s train g2p, 1 epoch)": """
from keras_s2s.runs import cli
cli.main(["train", "g2p", "--epochs", "1", "--run-dir", {run_dir!r}, "--quiet", "--max-eval-examples", "100"]
         + {train_extra!r})
""",
    "generate (Keras, batch 512)": """
from keras_s2s.runs import Run
run = Run.load({source_run!r})
words = open({words!r}).read().split()
for i in range(0, len(words), 512):
    run.generator.generate(run.source_tokenizer.encode(words[i:i + 512]), max_length=run.max_length)
""",
    "SavedModel serving_default (tensorflow only, batch 512)": """
import tensorflow as tf
serving = tf.saved_model.load({saved_model!r}).signatures["serving_default"]
words = open({words!r}).read().split()
for i in range(0, len(words), 512):
    serving(source_text=tf.constant(words[i:i + 512]))
""",
    "TFLite (LiteRT only, batch 1)": """
import numpy as np
from ai_edge_litert.interpreter import Interpreter
runner = Interpreter(model_path={tflite!r}).get_signature_runner()
vocabulary = open({tflite_vocab!r}, encoding="utf-8").read().split("\\n")
index = {{token: i for i, token in enumerate(vocabulary) if token}}
for word in open({words!r}).read().split():
    runner(source_ids=np.array([[index.get(ch, 1) for ch in word]], np.int32))
""",
}


def child_peak_rss(code):
    """Runs `code` in a fresh Python and returns its peak RSS in MB."""
    env_code = "import os; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')\n" + code + "\n" + REPORT
    result = subprocess.run([sys.executable, "-c", env_code], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"child failed:\n{code}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def export_run(run_dir, folder):
    """SavedModel and `.tflite` of a run via `keras-s2s export` (smoke mode exports the run it just trained)."""
    from keras_s2s.runs import cli

    for fmt, out in (("saved_model", folder / "sm"), ("tflite", folder / "m.tflite")):
        if cli.main(["export", str(run_dir), "--format", fmt, "--out", str(out)]) != 0:
            raise RuntimeError(f"keras-s2s export --format {fmt} failed for {run_dir}")
    return str(folder / "sm" / "1"), str(folder / "m.tflite")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir")
    parser.add_argument("--saved-model")
    parser.add_argument("--tflite")
    parser.add_argument("--words", type=int, default=10000)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    folder = pathlib.Path(tempfile.mkdtemp())
    train_extra = []
    if args.smoke:
        args.words = 50
        train_extra = ["--max-train-examples", "300", "--units", "16", "--embedding-dim", "8"]
    elif not (args.run_dir and args.saved_model and args.tflite):
        parser.error("give --run-dir, --saved-model and --tflite, or --smoke")
    from keras_s2s import datasets

    words_file = folder / "words.txt"
    words_file.write_text("\n".join(datasets.cmudict_g2p()["test"].sources[: args.words]))
    fields = dict(run_dir=str(folder / "train_run"), train_extra=train_extra, words=str(words_file))
    rows = {}
    for name, code in CHILDREN.items():
        if name.startswith("generate"):  # inference rows need the exports
            if args.smoke:
                args.run_dir = fields["run_dir"]
                args.saved_model, args.tflite = export_run(args.run_dir, folder)
            fields.update(source_run=args.run_dir, saved_model=args.saved_model, tflite=args.tflite,
                          tflite_vocab=pathlib.Path(args.tflite).with_suffix("").as_posix() + ".source_vocab.txt")
        rows[name] = child_peak_rss(code.format(**fields))
        print(f"{name:58s} {rows[name]:7.0f} MB", flush=True)
    command = "python benchmarks/peak_rss.py" + (" --smoke" if args.smoke else
                                                 f" --run-dir {args.run_dir} --saved-model {args.saved_model}"
                                                 f" --tflite {args.tflite}")
    report = {"command": command, "words": args.words, "peak_rss_mb": rows}
    save("peak_rss", report, smoke=args.smoke)
    return report


if __name__ == "__main__":
    main()
