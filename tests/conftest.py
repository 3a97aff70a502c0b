import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()

if BACKEND == "torch":
    # Layer outputs called outside `fit` require grad on PyTorch, and NumPy
    # refuses to read such tensors; the tests compare values, so NumPy reads
    # them detached (what `keras.ops.convert_to_numpy` does).
    import torch

    _tensor_array = torch.Tensor.__array__

    def _detached_array(self, *args, **kwargs):
        return _tensor_array(self.detach(), *args, **kwargs)

    torch.Tensor.__array__ = _detached_array


def pytest_collection_modifyitems(config, items):
    """On TensorFlow: the backend matrix tests (`tests/test_backends.py`) go
    last, since they collect runs started in the background at the start (see
    `pytest_collection_finish`).

    On the JAX and PyTorch backends: `@pytest.mark.tensorflow_only` tests
    (exports, TensorFlow's own APIs) are skipped, and so are
    `@pytest.mark.long_training` ones unless `KERAS_S2S_LONG_TRAINING=1` (the
    CI matrix keeps to its time budget; they pass there when asked)."""
    if BACKEND == "tensorflow":
        items.sort(key=lambda item: getattr(item, "originalname", "") == "test_backend_matrix")
        return
    skip = pytest.mark.skip(reason=f"TensorFlow only (KERAS_BACKEND={BACKEND})")
    long = pytest.mark.skip(reason=f"long training, on KERAS_BACKEND={BACKEND} only with "
                                   "KERAS_S2S_LONG_TRAINING=1")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
        elif "long_training" in item.keywords and os.environ.get("KERAS_S2S_LONG_TRAINING") != "1":
            item.add_marker(long)


MATRIX_RUNS = pytest.StashKey[dict]()


def pytest_collection_finish(session):
    """Starts the JAX and PyTorch matrix runs of `tests/test_backends.py` as
    background processes as soon as the session knows it will run them: each
    backend's run is one single-threaded-bound process (JAX compiling, PyTorch
    stepping eagerly) and would otherwise leave a core idle for minutes. The
    tests themselves, sorted last, wait for the runs and check them."""
    if BACKEND != "tensorflow" or session.config.option.collectonly:
        return
    runs = session.config.stash.setdefault(MATRIX_RUNS, {})
    for item in session.items:
        if getattr(item, "originalname", "") == "test_backend_matrix":
            backend = item.callspec.params["backend"]
            if backend not in runs and item.module.available(backend):
                runs[backend] = item.module.MatrixRun(backend)


def pytest_sessionfinish(session):
    """Stops matrix runs still going (an interrupted or deselected session)."""
    for run in session.config.stash.get(MATRIX_RUNS, {}).values():
        run.stop()


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
