import numpy as np

from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy, SequenceAccuracy


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
