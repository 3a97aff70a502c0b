"""Metrics for padded target sequences."""

import keras
from keras import ops

from keras_s2s.special_tokens import PAD_ID


def _correct_and_mask(y_true, y_pred, pad_id):
    y_true = ops.cast(y_true, "int32")
    predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
    mask = ops.not_equal(y_true, pad_id)
    return ops.equal(predicted, y_true), mask


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedAccuracy(keras.metrics.Metric):
    """Token accuracy over real (non-padding) target positions.

    Args:
        pad_id: int, target id to ignore. Defaults to 0.
        name: metric name. Defaults to `"masked_accuracy"`.

    Update arguments:
        y_true: int tensor `[B, T]`, 0 at padding.
        y_pred: float tensor `[B, T, V]` (logits or probabilities).
        sample_weight: optional float `[B]` or `[B, T]`.

    Result:
        Float in [0, 1]: correctly predicted real tokens / real tokens.
    """

    def __init__(self, pad_id=PAD_ID, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        correct, mask = _correct_and_mask(y_true, y_pred, self.pad_id)
        weight = ops.cast(mask, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            if len(sample_weight.shape) == 1:
                sample_weight = ops.expand_dims(sample_weight, -1)
            weight = weight * sample_weight
        self.correct.assign_add(ops.sum(ops.cast(correct, "float32") * weight))
        self.total.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="keras_s2s")
class SequenceAccuracy(keras.metrics.Metric):
    """Exact-match accuracy: a sequence counts only if every real token is right.

    Teacher-forced, so it measures next-token predictions given the true
    prefix; padding positions are ignored.

    Args:
        pad_id: int, target id to ignore. Defaults to 0.
        name: metric name. Defaults to `"sequence_accuracy"`.

    Update arguments:
        y_true: int tensor `[B, T]`; y_pred: float `[B, T, V]`;
        sample_weight: optional float `[B]`.

    Result:
        Float in [0, 1]: sequences with all real tokens correct / sequences.
    """

    def __init__(self, pad_id=PAD_ID, name="sequence_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.pad_id = pad_id
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        correct, mask = _correct_and_mask(y_true, y_pred, self.pad_id)
        ok = ops.all(ops.logical_or(correct, ops.logical_not(mask)), axis=-1)
        weight = ops.ones_like(ok, dtype="float32")
        if sample_weight is not None:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        self.correct.assign_add(ops.sum(ops.cast(ok, "float32") * weight))
        self.total.assign_add(ops.sum(weight))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}
