import keras
import numpy as np
import pytest

from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy, SequenceAccuracy

# run on every backend: `KERAS_BACKEND=jax python -m pytest -m backend_matrix` (.ci/run)
pytestmark = pytest.mark.backend_matrix


def test_masked_cross_entropy_is_mean_over_real_tokens():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 4, 5)).astype("float32")
    y = np.array([[1, 2, 3, 0], [4, 0, 0, 0]], "int32")
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, y[..., None], -1)[..., 0]
    expected = nll[y != 0].mean()
    loss = MaskedSparseCategoricalCrossentropy()(y, logits)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    config = MaskedSparseCategoricalCrossentropy(pad_id=7).get_config()
    assert config["pad_id"] == 7 and MaskedSparseCategoricalCrossentropy.from_config(config).ignore_class == 7


def test_accuracies_ignore_padding():
    y = np.array([[1, 2, 3, 0], [4, 1, 0, 0], [2, 2, 2, 2]], "int32")
    pred = np.array([[1, 2, 3, 4], [4, 2, 1, 1], [2, 2, 2, 1]])  # padding wrong in row 0
    logits = np.eye(5, dtype="float32")[pred]
    token = MaskedAccuracy()
    token.update_state(y, logits)
    np.testing.assert_allclose(token.result(), (3 + 1 + 3) / 9)
    seq = SequenceAccuracy()
    seq.update_state(y, logits)
    np.testing.assert_allclose(seq.result(), 1 / 3)
    seq.update_state(y, logits, sample_weight=np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(seq.result(), 2 / 4)
    seq.reset_state()
    assert float(seq.result()) == 0.0


def test_label_smoothing_against_numpy_every_reduction_and_weights():
    import pytest

    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 4, 6)).astype("float32")
    y = np.array([[1, 2, 3, 0], [4, 0, 0, 0], [5, 5, 1, 2]], "int32")
    eps, v = 0.1, 6
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    target = (1 - eps) * np.eye(v)[y] + eps / v  # Keras' label smoothing of the one-hot target
    per_token = -(target * log_probs).sum(-1) * (y != 0)
    real = (y != 0).sum()
    smooth = MaskedSparseCategoricalCrossentropy(label_smoothing=eps)
    np.testing.assert_allclose(smooth(y, logits), per_token.sum() / real, rtol=1e-5)
    weights = np.array([[1.0], [0.0], [2.0]], "float32")  # per sequence, [B, 1]
    np.testing.assert_allclose(smooth(y, logits, sample_weight=weights),
                               (per_token * weights).sum() / real, rtol=1e-5)
    summed = MaskedSparseCategoricalCrossentropy(label_smoothing=eps, reduction="sum")
    np.testing.assert_allclose(summed(y, logits), per_token.sum(), rtol=1e-5)
    none = MaskedSparseCategoricalCrossentropy(label_smoothing=eps, reduction="none")
    np.testing.assert_allclose(none(y, logits), per_token, rtol=1e-5, atol=1e-6)
    # without smoothing it is Keras' own masked loss, and per-sequence weights weigh each token
    plain = MaskedSparseCategoricalCrossentropy()
    keras_own = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    np.testing.assert_allclose(plain(y, logits), keras_own(y, logits), rtol=1e-6)
    nll = -np.take_along_axis(log_probs, y[..., None], -1)[..., 0] * (y != 0)
    np.testing.assert_allclose(plain(y, logits, sample_weight=weights), (nll * weights).sum() / real,
                               rtol=1e-5)
    config = smooth.get_config()
    assert MaskedSparseCategoricalCrossentropy.from_config(config).label_smoothing == eps
    with pytest.raises(ValueError, match="label_smoothing=1.0"):
        MaskedSparseCategoricalCrossentropy(label_smoothing=1.0)


def test_warmup_cosine_schedule_by_name():
    import math

    from keras_s2s.runs import learning_rate_schedule

    schedule = learning_rate_schedule("warmup_cosine", 1e-3, total_steps=1000, warmup_steps=100)
    for step, expected in [(0, 0.0), (50, 5e-4), (100, 1e-3),
                           (550, 1e-3 * 0.5 * (1 + math.cos(math.pi * 450 / 900))), (1000, 0.0)]:
        np.testing.assert_allclose(float(schedule(step)), expected, atol=1e-9)
    default = learning_rate_schedule("warmup_cosine", 2e-3, total_steps=400)
    np.testing.assert_allclose(float(default(20)), 2e-3, rtol=1e-6)  # 5% warm-up: peak at step 20
    assert learning_rate_schedule("constant", 3e-4, total_steps=5) == 3e-4
