import importlib.util
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # pytest-xdist runs one worker per core (`-n 2`): each worker, and the processes its tests start, keeps
    # to one compute thread, or TensorFlow's, XLA's and PyTorch's pools would each span every core and spin
    # against the other worker's. Set before Keras imports its backend.
    for variable, value in (("TF_NUM_INTRAOP_THREADS", "1"), ("TF_NUM_INTEROP_THREADS", "2"),
                            ("OMP_NUM_THREADS", "1"),
                            ("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")):
        os.environ.setdefault(variable, value)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()

ROOT = pathlib.Path(__file__).resolve().parents[1]
# Markers whose tests JAX and PyTorch run only when the variable is set: marker -> (variable, why skipped).
MATRIX_OPT_IN = {"long_training": ("KERAS_S2S_LONG_TRAINING", "long training"),
                 "matrix_extra": ("KERAS_S2S_FULL_MATRIX", "another variant covers it")}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "script(*args, backend=None, needs=(), timeout=600): the test checks the output of "
        "`python *args` run from the repository root (`{tmp}`: the test's tmp_path); see the `run_script` "
        "fixture")


def pytest_collection_modifyitems(config, items):
    """On the JAX and PyTorch backends: `@pytest.mark.tensorflow_only` tests
    (exports, TensorFlow's own APIs) are skipped, and so are
    `@pytest.mark.long_training` ones unless `KERAS_S2S_LONG_TRAINING=1` and
    `@pytest.mark.matrix_extra` ones (variants of a parametrized test whose
    backend code another variant runs) unless `KERAS_S2S_FULL_MATRIX=1` (the
    CI matrix keeps to its time budget; they pass there when asked)."""
    if BACKEND == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"TensorFlow only (KERAS_BACKEND={BACKEND})")
    opt_in = {marker: pytest.mark.skip(reason=f"{why}, on KERAS_BACKEND={BACKEND} only with {variable}=1")
              for marker, (variable, why) in MATRIX_OPT_IN.items() if os.environ.get(variable) != "1"}
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
        elif marker := next((m for m in opt_in if m in item.keywords), None):
            item.add_marker(opt_in[marker])


def backend_env(backend):
    """The environment of a subprocess on `backend` (`None`: this process's)."""
    if backend is None:
        return dict(os.environ)
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_python(argv, env, timeout):
    """`(returncode, output)` of the command `argv` run from the repository root
    (stdout and stderr together); past `timeout` seconds it is killed and
    returncode is `None`."""
    try:
        done = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        return None, f"timed out after {timeout} s\n{error.output or ''}"
    return done.returncode, done.stdout


def runnable(marker):
    """Whether the modules a script needs (its `backend`, and `needs`) are installed."""
    needs = set(marker.kwargs.get("needs", ())) | {marker.kwargs.get("backend") or "tensorflow"}
    return all(importlib.util.find_spec(name) is not None for name in needs)


@pytest.fixture
def run_script(request, tmp_path):
    """`run_script()` -> `(output, tmp_path)`: runs this test's
    `@pytest.mark.script(*args, backend=None, needs=(), timeout=600)`
    command, `python *args` from the repository root under
    `KERAS_BACKEND=backend` (`{tmp}` in `args` is the test's `tmp_path`),
    and fails the test on a non-zero exit. Call it after any skip."""
    marker = request.node.get_closest_marker("script")
    args = [str(arg).replace("{tmp}", str(tmp_path)) for arg in marker.args]

    def run():
        if not runnable(marker):
            pytest.skip(f"needs {sorted(set(marker.kwargs.get('needs', ())))} and backend "
                        f"{marker.kwargs.get('backend') or 'tensorflow'}")
        argv = [sys.executable, *args]
        returncode, output = run_python(argv, backend_env(marker.kwargs.get("backend")),
                                        marker.kwargs.get("timeout", 600))
        assert returncode == 0, f"{' '.join(argv)} exited with {returncode}:\n{output[-6000:]}"
        return output, tmp_path

    return run


def numpy(outputs):
    """`outputs` (a tensor or a nest of them) as NumPy arrays, on every
    backend: PyTorch tensors that require grad (layer outputs outside `fit`)
    are detached first, as `keras.ops.convert_to_numpy` does."""
    return keras.tree.map_structure(keras.ops.convert_to_numpy, outputs)


def count_calls():
    """`(count, calls)`: `count(index)` inside a step function records one
    executed step on every backend (a TensorFlow variable in graphs, a
    `jax.debug.callback` under JAX tracing, a Python counter on PyTorch);
    `calls()` returns the number of steps run."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        steps = tf.Variable(0)
        return (lambda index: steps.assign_add(1)), (lambda: int(steps.numpy()))
    calls = []
    if BACKEND == "jax":
        import jax

        return (lambda index: jax.debug.callback(lambda i: calls.append(int(i)), index)), (lambda: len(calls))
    return (lambda index: calls.append(int(index))), (lambda: len(calls))


@pytest.fixture(autouse=True)
def _seed_and_policy():
    keras.utils.set_random_seed(1234)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)


def reversal_data(n, seed, max_len=5, low=4, high=12):
    """A tiny reversal task: [a b c] -> [c b a], BOS=2, EOS=3, padding 0."""
    rng = np.random.default_rng(seed)
    src = np.zeros((n, max_len), "int32")
    tin = np.zeros((n, max_len + 1), "int32")
    tout = np.zeros((n, max_len + 1), "int32")
    for i in range(n):
        length = rng.integers(2, max_len + 1)
        s = rng.integers(low, high, size=length)
        src[i, :length] = s
        tin[i, 0] = 2
        tin[i, 1 : length + 1] = s[::-1]
        tout[i, :length] = s[::-1]
        tout[i, length] = 3
    return {"source_ids": src, "target_ids": tin}, tout
