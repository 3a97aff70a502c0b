"""Distribution and interrupted training, each in its own process."""

import csv
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

MIRRORED = r"""
import json, sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
import keras_s2s
sys.path.insert(0, sys.argv[1])
from conftest import reversal_data

x, y = reversal_data(1024, 0)

def train(strategy, weights):
    with strategy.scope():
        model = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=32, attention="luong")
        model.compile(keras.optimizers.Adam(5e-3),
                      keras_s2s.losses.MaskedSparseCategoricalCrossentropy())
    if weights is not None:
        model.set_weights(weights)
    history = model.fit(x, y, batch_size=128, epochs=4, shuffle=False, verbose=0)
    return model, history.history["loss"]

keras.utils.set_random_seed(0)
_, one_device = train(tf.distribute.get_strategy(), None)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
keras.utils.set_random_seed(0)
fresh = keras_s2s.build_seq2seq(12, 12, embedding_dim=8, units=32, attention="luong")
_, two_devices = train(strategy, fresh.get_weights())
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "one": one_device, "two": two_devices}))
"""


def test_mirrored_strategy_matches_one_device(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED)
    result = subprocess.run([sys.executable, str(script), str(ROOT / "tests")], capture_output=True,
                            text=True, timeout=600, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    import json

    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    one, two = report["one"], report["two"]
    assert two[-1] < two[0] * 0.8  # it learns
    for a, b in zip(one, two):
        assert abs(a - b) <= 0.05 * a, (one, two)


def epochs_logged(run_dir):
    path = run_dir / "history.csv"
    if not path.exists():
        return []
    with path.open() as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


# The run-directory layout every task writes (keras_s2s.runs); a source that is not text has no source tokenizer.
RUN_FILES = {"config.json", "model.keras", "source_tokenizer.json", "target_tokenizer.json", "source_vocab.txt",
             "target_vocab.txt", "history.csv", "metrics.json", "attention.png"}
SOURCE_TEXT_FILES = {"source_tokenizer.json", "source_vocab.txt"}
RESUMED_RUNS = {  # sizes with epochs of several seconds on a 2-core CPU, so the kill lands inside one
    "g2p": ["--max-train-examples", "6000", "--max-eval-examples", "20"],
    "morse": ["--max-train-examples", "800", "--max-eval-examples", "8", "--num-layers", "1", "--pyramid-layers", "0"],
}


@pytest.mark.parametrize("task", RESUMED_RUNS)
def test_killed_training_resumes_from_last_epoch(tmp_path, task):
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "keras_s2s.runs.cli", "train", task, "--run-dir", str(run_dir),
               "--epochs", "3", "--units", "16", "--embedding-dim", "8", "--batch-size", "32",
               "--patience", "100", "--num-beams", "1", "--quiet", *RESUMED_RUNS[task]]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=tmp_path)
    deadline = time.time() + 400
    while not epochs_logged(run_dir) and time.time() < deadline and first.poll() is None:
        time.sleep(0.2)
    assert epochs_logged(run_dir) == [0], "the first epoch never finished"
    time.sleep(1.0)  # well inside epoch 1
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    assert epochs_logged(run_dir) == [0]
    assert not (run_dir / "metrics.json").exists()
    second = subprocess.run(command, capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    assert epochs_logged(run_dir) == [0, 1, 2]  # resumed at epoch 1, not from scratch
    assert "trained 2 epochs" in second.stdout  # only the remaining epochs ran
    layout = RUN_FILES if task != "morse" else RUN_FILES - SOURCE_TEXT_FILES
    assert {path.name for path in run_dir.iterdir()} == layout  # the backup is gone once the run ended
