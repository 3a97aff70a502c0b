import concurrent.futures
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
from xml.etree import ElementTree

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


# Markers whose tests JAX and PyTorch run only when the variable is set: marker -> (variable, why skipped).
MATRIX_OPT_IN = {"long_training": ("KERAS_S2S_LONG_TRAINING", "long training"),
                 "matrix_extra": ("KERAS_S2S_FULL_MATRIX", "another variant covers it")}


def pytest_collection_modifyitems(config, items):
    """On TensorFlow: the backend matrix tests (`tests/test_backends.py`) go
    last, since they collect runs started in the background at the start (see
    `pytest_collection_finish`).

    On the JAX and PyTorch backends: `@pytest.mark.tensorflow_only` tests
    (exports, TensorFlow's own APIs) are skipped, and so are
    `@pytest.mark.long_training` ones unless `KERAS_S2S_LONG_TRAINING=1` and
    `@pytest.mark.matrix_extra` ones (variants of a parametrized test whose
    backend code another variant runs) unless `KERAS_S2S_FULL_MATRIX=1` (the
    CI matrix keeps to its time budget; they pass there when asked)."""
    if BACKEND == "tensorflow":
        def background(item):
            return (item.get_closest_marker("background") is not None
                    or item.get_closest_marker("in_background") is not None)

        items.sort(key=lambda item: (background(item) or getattr(item, "originalname", "") == "test_backend_matrix",
                                     background(item)))
        return
    skip = pytest.mark.skip(reason=f"TensorFlow only (KERAS_BACKEND={BACKEND})")
    opt_in = {marker: pytest.mark.skip(reason=f"{why}, on KERAS_BACKEND={BACKEND} only with {variable}=1")
              for marker, (variable, why) in MATRIX_OPT_IN.items() if os.environ.get(variable) != "1"}
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
        elif marker := next((m for m in opt_in if m in item.keywords), None):
            item.add_marker(opt_in[marker])


BACKGROUND = pytest.StashKey["Background"]()
ROOT = pathlib.Path(__file__).resolve().parents[1]
# Background lanes: the CI machine has 2 cores and the main pytest process keeps one busy, yet the
# matrix runs and the subprocess tests are single-process each; two lanes keep both cores working.
LANES = 2
MATRIX_TIMEOUT = 2400  # seconds, a matrix run of one backend
IN_BACKGROUND_CHILD = "KERAS_S2S_IN_BACKGROUND_CHILD"  # set in the child runs of `in_background` tests


def backend_env(backend):
    """The environment of a subprocess on `backend` (`None`: this process's)."""
    if backend is None:
        return dict(os.environ)
    return {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_python(argv, env, timeout, started=None):
    """`(returncode, output)` of the command `argv` run from the repository root
    (stdout and stderr together); past `timeout` seconds it is killed and
    returncode is `None`. `started(process)` is called once it runs."""
    process = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if started is not None:
        started(process)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, f"timed out after {timeout} s\n{output}"
    return process.returncode, output


class Background:
    """The subprocesses of `@pytest.mark.background(*args, backend=None,
    needs=(), timeout=600, seconds=60)` tests, `python *args` from the repository root
    under `KERAS_BACKEND=backend` (needing the modules `needs`), run in two
    background lanes while the other tests run; a lane starts them once its
    matrix run (if any) has ended, so the machine holds at most three busy
    processes. `{tmp}` in `args` is a folder of the test's own; `seconds`,
    about how long the job runs alone, lets the lanes start the longest first.

    `@pytest.mark.in_background(seconds=60)` tests (long in-process training)
    run themselves in child pytest processes on the lanes, when the session also
    has other tests to overlap with; this process reports their outcomes."""

    def __init__(self):
        self.folder = pathlib.Path(tempfile.mkdtemp(prefix="keras_s2s_background_"))
        self.pool = concurrent.futures.ThreadPoolExecutor(LANES, thread_name_prefix="background")
        self.jobs = {}
        self.offloaded, self.offloaded_runs = {}, []
        self.processes = []
        self.matrix_runs = {}
        self.stopped = False

    def test_folder(self, item):
        folder = self.folder / re.sub(r"[^\w.-]+", "_", item.nodeid)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def command(self, item):
        marker = item.get_closest_marker("background")
        folder = self.test_folder(item)
        args = [str(arg).replace("{tmp}", str(folder)) for arg in marker.args]
        return ([sys.executable, *args], backend_env(marker.kwargs.get("backend")),
                marker.kwargs.get("timeout", 600), folder)

    def execute(self, argv, env, timeout):
        """`(returncode, output)` of `run_python` (a killed run when the session has ended)."""
        if self.stopped:
            return None, "stopped: the session ended first"
        return run_python(argv, env, timeout, started=self.started)

    def started(self, process):
        self.processes.append(process)
        if self.stopped:
            process.kill()

    def matrix(self, backend, command):
        """The future of the matrix run of `backend`, its `(returncode, output)`:
        `command(folder)` (argv; `folder` for its temporary files) started on a
        lane at the first call (lanes are free at the session start, so later
        jobs of that lane wait for it), the same run at later calls."""
        if backend not in self.matrix_runs:
            argv = command(self.folder / f"matrix_{backend}")
            self.matrix_runs[backend] = self.pool.submit(self.execute, argv, backend_env(backend), MATRIX_TIMEOUT)
        return self.matrix_runs[backend]

    def submit(self, item):
        argv, env, timeout, folder = self.command(item)
        self.jobs[item.nodeid] = (self.pool.submit(self.execute, argv, env, timeout), folder, argv)

    def result(self, item):
        """`(output, folder)` of the test's command once it has run (now, if it
        was not started in the background); fails the test on a non-zero exit."""
        if item.nodeid in self.jobs:
            future, folder, argv = self.jobs[item.nodeid]
            returncode, output = future.result()
        else:
            argv, env, timeout, folder = self.command(item)
            returncode, output = self.execute(argv, env, timeout)
        assert returncode == 0, f"{' '.join(argv)} exited with {returncode}:\n{output[-6000:]}"
        return output, folder

    def offload(self, items):
        """Queues `items` (`@pytest.mark.in_background` tests) as one pytest
        run in a background process; `outcome(item)` reports each."""
        report = self.folder / f"in_background_{len(self.offloaded_runs)}.xml"
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}",
                f"--basetemp={self.folder / f'in_background_{len(self.offloaded_runs)}'}",
                *(item.nodeid for item in items)]
        env = {**os.environ, IN_BACKGROUND_CHILD: "1"}
        run = {"future": self.pool.submit(self.execute, argv, env, 1800), "report": report, "outcomes": None}
        self.offloaded_runs.append(run)
        for item in items:
            self.offloaded[item.nodeid] = run

    def outcome(self, item):
        """`(status, text)` of an offloaded test once its run has ended:
        status "passed", "failed" or "skipped" (JUnit XML of the child run)."""
        run = self.offloaded[item.nodeid]
        if run["outcomes"] is None:
            returncode, output = run["future"].result()
            run["outcomes"] = {}
            if run["report"].is_file():
                for case in ElementTree.parse(run["report"]).iter("testcase"):
                    problem = case.find("failure")
                    problem = case.find("error") if problem is None else problem
                    skipped = case.find("skipped")
                    key = (case.get("classname"), case.get("name"))
                    if problem is not None:
                        run["outcomes"][key] = ("failed", (problem.get("message") or "") + "\n" + (problem.text or ""))
                    elif skipped is not None:
                        run["outcomes"][key] = ("skipped", skipped.get("message") or "")
                    else:
                        run["outcomes"][key] = ("passed", "")
            run["output"] = output
        path, _, name = item.nodeid.partition("::")
        key = (path[:-len(".py")].replace("/", "."), name)
        return run["outcomes"].get(key, ("failed", "the background pytest run did not report this test:\n"
                                                   + run["output"][-6000:]))

    def stop(self):
        self.stopped = True
        for process in self.processes:
            if process.poll() is None:
                process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.folder, ignore_errors=True)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "background(*args, backend=None, needs=(), timeout=600, seconds=60): the test checks "
        "the output of "
        "`python *args` (`{tmp}`: its folder), run in the background from the start; see conftest.Background")
    config.addinivalue_line(
        "markers", "in_background(seconds=60): the test runs in a child pytest process in the background "
        "from the "
        "start, its outcome reported in this one; see conftest.Background")


def runnable(marker):
    """Whether the modules a background command needs (its `backend`, and
    `needs`) are installed; a test whose command is not runnable skips itself."""
    needs = set(marker.kwargs.get("needs", ())) | {marker.kwargs.get("backend") or "tensorflow"}
    return all(importlib.util.find_spec(name) is not None for name in needs)


def expected_seconds(item):
    """About how long a background job runs alone on a 2-core CPU: the marker's
    `seconds` (default 60), used only to start the longest jobs first."""
    marker = item.get_closest_marker("background") or item.get_closest_marker("in_background")
    return marker.kwargs.get("seconds", 60)


def background_of(config):
    if BACKGROUND not in config.stash:
        config.stash[BACKGROUND] = Background()
    return config.stash[BACKGROUND]


@pytest.fixture
def background(request):
    """`result()` -> `(output, folder)` of this test's `@pytest.mark.background`
    command (call it after any skip: the command runs now if it was not started)."""
    runner = background_of(request.config)
    return lambda: runner.result(request.node)


def pytest_collection_finish(session):
    """Starts the background work as soon as the session knows it: first the
    JAX and PyTorch matrix runs of `tests/test_backends.py`, one per lane (each
    is a process bound to one core, JAX compiling and PyTorch stepping eagerly,
    and would otherwise leave a core idle for minutes), then, queued behind
    them, the commands of `@pytest.mark.background` tests and the child runs of
    `@pytest.mark.in_background` ones (see `Background`). The tests that check
    this work are sorted last."""
    if BACKEND != "tensorflow" or session.config.option.collectonly:
        return
    matrix = {item.callspec.params["backend"]: item for item in session.items
              if getattr(item, "originalname", "") == "test_backend_matrix"}
    matrix = {backend: item for backend, item in matrix.items() if item.module.available(backend)}
    commands = [item for item in session.items
                if (marker := item.get_closest_marker("background")) is not None and runnable(marker)]
    offloaded = [item for item in session.items if item.get_closest_marker("in_background") is not None]
    if os.environ.get(IN_BACKGROUND_CHILD) or len(offloaded) == len(session.items):
        offloaded = []  # the child run itself, or nothing to overlap with: they run here
    if not matrix and not commands and not offloaded:
        return
    runner = background_of(session.config)
    for backend, item in matrix.items():
        runner.matrix(backend, item.module.matrix_command)
    # Longest first (LPT): the offloaded tests split into a run per lane by their `seconds`, then every job
    # queued by its length, so no lane is left with one long job at the end while the other idles.
    chunks = [[] for _ in range(min(LANES, len(offloaded)))]
    for item in sorted(offloaded, key=expected_seconds, reverse=True):
        min(chunks, key=lambda chunk: sum(map(expected_seconds, chunk))).append(item)
    jobs = [(sum(map(expected_seconds, chunk)), runner.offload, chunk) for chunk in chunks]
    jobs += [(expected_seconds(item), runner.submit, item) for item in commands]
    for _, queue, job in sorted(jobs, key=lambda job: job[0], reverse=True):
        queue(job)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """An offloaded `in_background` test reports its child run's outcome instead of running here."""
    runner = pyfuncitem.config.stash.get(BACKGROUND, None)
    if runner is None or pyfuncitem.nodeid not in runner.offloaded:
        return None
    status, text = runner.outcome(pyfuncitem)
    if status == "failed":
        pytest.fail(f"in the background pytest run:\n{text}", pytrace=False)
    if status == "skipped":
        pytest.skip(text)
    return True


def pytest_sessionfinish(session):
    """Stops background work still going (an interrupted or deselected session)."""
    if BACKGROUND in session.config.stash:
        session.config.stash[BACKGROUND].stop()


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
