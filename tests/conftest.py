import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402


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
