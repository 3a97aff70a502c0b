"""keras_s2s on JAX and PyTorch, driven from the TensorFlow test process.

The backend matrix itself (the layer, model, loss and search test files,
those marked `backend_matrix`) is plain pytest under `KERAS_BACKEND=jax` and
`KERAS_BACKEND=torch`, started by `.ci/run` (the README's test command) after
the TensorFlow run. What needs two backends at once is here: Keras chooses
its backend once per process, so each backend runs in a subprocess
(`tests/backend_worker.py`):

- numerical parity: one saved model, the same inputs, teacher-forced logits,
  decoder `step` logits and attention on all three backends (max abs diff
  <= 1e-5, float32);
- a model trained on JAX, saved, loaded on TensorFlow: the same tokens from
  `generate`, the SavedModel and TFLite.

Without JAX or PyTorch installed these tests skip, except under `CI=true`,
where a missing backend fails (`.ci/run` installs both).
"""

import concurrent.futures
import importlib.util
import json
import os
import pathlib
import sys

import numpy as np
import pytest
from conftest import backend_env, reversal_data, run_python

import keras_s2s
from keras_s2s import export

pytestmark = [pytest.mark.tensorflow_only, pytest.mark.slow]

TESTS = pathlib.Path(__file__).parent
BACKENDS = ("jax", "torch")
TOLERANCE = 1e-5


def available(backend):
    return importlib.util.find_spec({"jax": "jax", "torch": "torch"}[backend]) is not None


def need(backend):
    if not available(backend):
        message = f"the {backend} backend needs `pip install -e \".[{backend}]\"`"
        if os.environ.get("CI"):
            pytest.fail(message + " (.ci/run installs it)")
        pytest.skip(message)


def run_side_by_side(backends, *args, timeout=900):
    """`python *args` on each backend, all at once (each process mostly imports and compiles, single-threaded)."""
    with concurrent.futures.ThreadPoolExecutor(len(backends)) as pool:
        runs = {backend: pool.submit(run_python, [sys.executable, *args], backend_env(backend), timeout)
                for backend in backends}
    for backend, run in runs.items():
        returncode, output = run.result()
        assert returncode == 0, f"{backend}: {' '.join(args)} exited with {returncode}\n{output[-6000:]}"


PARITY_MODELS = {
    "luong_general_input_feeding": dict(attention="luong_general", input_feeding=True, bidirectional=True,
                                        reverse_source=True),
    "bahdanau_gru": dict(attention="bahdanau", cell="gru", num_layers=2),
}


@pytest.fixture(scope="session")
def side_by_side(tmp_path_factory, worker_id):
    """One worker process per backend runs the parity, optimizer and bad-id
    jobs on the models saved here (a process start costs ~10 s of CPU);
    returns the folder of their outputs. Made once for all xdist workers (the
    folder above each worker's, under a file lock: pytest-xdist's recipe)."""
    from filelock import FileLock

    for backend in BACKENDS:
        need(backend)
    # under xdist the parent of a worker's base folder is this session's; without it, the base folder is
    base = tmp_path_factory.getbasetemp()
    folder = (base if worker_id == "master" else base.parent) / "side_by_side"
    with FileLock(f"{folder}.lock"):
        if not (folder / "done").is_file():
            folder.mkdir(exist_ok=True)
            _run_side_by_side_jobs(folder)
            (folder / "done").touch()
    return folder


def _run_side_by_side_jobs(folder):
    rng = np.random.default_rng(0)
    source = reversal_data(6, 3, max_len=7)[0]["source_ids"]
    target_in = np.concatenate([np.full((6, 1), keras_s2s.BOS_ID), rng.integers(4, 15, (6, 5))], 1)
    value_mask = np.arange(7)[None, :] < rng.integers(1, 8, (6, 1))
    for name, options in PARITY_MODELS.items():
        model = keras_s2s.build_seq2seq(12, 15, embedding_dim=8, units=16, **options)
        model.save(folder / f"{name}.keras")
        np.savez(folder / f"{name}.npz", source_ids=source, target_ids=target_in.astype("int32"),
                 query=rng.normal(size=(6, 16)).astype("float32"),
                 value=rng.normal(size=(6, 7, 16)).astype("float32"), value_mask=value_mask)
    keras_s2s.build_seq2seq(12, 12, embedding_dim=16, units=32, attention="luong").save(folder / "model.keras")
    run_side_by_side(("tensorflow",) + BACKENDS, str(TESTS / "backend_worker.py"),
                     "parity+optimizer_curves+bad_ids", str(folder))


@pytest.mark.parametrize("backend", BACKENDS)
def test_out_of_range_ids_are_errors_in_fit_and_generate(backend, side_by_side):
    lines = (side_by_side / f"bad_ids.{backend}.txt").read_text().splitlines()
    errors = dict(line.split(": ", 1) for line in lines if line.startswith(("fit:", "generate:")))
    for name in ("fit", "generate"):
        assert "must hold ids in [0, 12)" in errors[name] or "must be in [0, 12)" in errors[name], errors
        assert "12" in errors[name].split("Received", 1)[-1], errors


def test_numerical_parity_across_backends(side_by_side):
    for name in PARITY_MODELS:
        reference = np.load(side_by_side / f"{name}.tensorflow.npz")
        for backend in ("tensorflow",) + BACKENDS:
            got = np.load(side_by_side / f"{name}.{backend}.npz")
            # decoder step = teacher-forced call, token by token, on each backend
            assert np.abs(got["step_logits"] - got["logits"]).max() <= TOLERANCE, (name, backend)
            for key in ("logits", "step_logits", "context", "weights"):
                diff = np.abs(got[key] - reference[key]).max()
                assert diff <= TOLERANCE, f"{name}: {key} on {backend} differs from TensorFlow by {diff}"
        # masked positions get exactly zero weight on every backend
        assert np.all(reference["weights"][~np.load(side_by_side / f"{name}.npz")["value_mask"]] == 0)


def test_optimizers_train_the_same_on_every_backend(side_by_side):
    """Adam (with and without `clipnorm`), AdamW (with) and RMSprop (without), from the same
    weights over the same unshuffled batches (every id repeated in every
    batch): the per-epoch training losses agree to 1e-4 relative. With
    `keras.layers.Embedding` TensorFlow's Adam differed from the first epoch
    on (embedding gradients squared per occurrence; see
    `keras_s2s.layers.embedding`)."""
    curves = {backend: json.loads((side_by_side / f"curves.{backend}.json").read_text())
              for backend in ("tensorflow",) + BACKENDS}
    for name, reference in curves["tensorflow"].items():
        assert reference[-1] < reference[0], (name, reference)  # it trained
        for backend in BACKENDS:
            np.testing.assert_allclose(curves[backend][name], reference, rtol=1e-4,
                                       err_msg=f"{name} on {backend} vs TensorFlow")


@pytest.mark.script("tests/backend_worker.py", "train", "{tmp}", backend="jax")
def test_model_trained_on_jax_exports_on_tensorflow(tmp_path, run_script):
    need("jax")
    trained = run_script()[1]
    tokens = np.load(trained / "tokens.npz")
    assert str(tokens["backend"]) == "jax"
    model = keras_s2s.load_model(trained / "model.keras")
    generator = keras_s2s.build_inference_model(model)
    sources = reversal_data(16, 5)[0]["source_ids"]
    greedy = generator.generate(sources, max_length=7)
    np.testing.assert_array_equal(greedy["ids"], tokens["greedy"])
    beam = generator.generate(sources, max_length=7, strategy="beam", num_beams=3)
    np.testing.assert_array_equal(beam["ids"], tokens["beam"])
    # it learned the task (the tokens mean something): most sources come back reversed
    targets = reversal_data(16, 5)[1]
    exact = np.mean([np.array_equal(greedy["ids"][i, 0, :6][targets[i] != 0], targets[i][targets[i] != 0])
                     for i in range(len(targets))])
    assert exact >= 0.9, exact

    import tensorflow as tf

    saved = tf.saved_model.load(export.export_saved_model(generator, tmp_path / "sm", max_length=7,
                                                          strategy="beam", num_beams=3))
    out = saved.signatures["generate_ids"](source_ids=tf.constant(sources))
    np.testing.assert_array_equal(out["ids"].numpy(), tokens["beam"][:, 0])
    tflite = export.TFLiteGreedyDecoder(export.export_tflite(generator, tmp_path / "m.tflite", max_length=7))
    for row, source in enumerate(sources):
        n = int((source != 0).sum())
        np.testing.assert_array_equal(tflite(source[:n])["ids"], tokens["greedy"][row, 0])
