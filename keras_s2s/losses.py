"""Losses for padded target sequences."""

import keras
from keras import ops

from keras_s2s import _checks

from keras_s2s.special_tokens import PAD_ID


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedSparseCategoricalCrossentropy(keras.losses.SparseCategoricalCrossentropy):
    """Token cross-entropy that ignores padding.

    Keras' `SparseCategoricalCrossentropy` with `ignore_class=pad_id` and
    logits in: padded positions contribute nothing, and the default
    `"sum_over_batch_size"` reduction divides by the number of real tokens
    in the batch (not by `B * T`).

    With `label_smoothing=eps`, the target distribution is
    `(1 - eps) * one_hot(y) + eps / V` (Szegedy et al. 2016, sec. 7; Keras'
    `CategoricalCrossentropy(label_smoothing=)`, OpenNMT-tf's
    `label_smoothing`): the loss per real token is
    `(1 - eps) * (-log p_y) + eps * mean_v(-log p_v)`, still 0 at padding and
    averaged over real tokens exactly as without smoothing.

    Args:
        from_logits: bool, whether `y_pred` are logits. Defaults to `True`.
        pad_id: int, the target id to ignore. Defaults to 0.
        label_smoothing: float in [0, 1). Defaults to 0.
        **kwargs: other `keras.losses.SparseCategoricalCrossentropy` arguments.

    Call arguments:
        y_true: int tensor `[B, T]`, target ids, 0 at padding.
        y_pred: float tensor `[B, T, V]`.

    Returns:
        Scalar float32: mean negative log-likelihood per real token (nats).
    """

    def __init__(self, from_logits=True, pad_id=PAD_ID, label_smoothing=0.0,
                 name="masked_sparse_categorical_crossentropy", **kwargs):
        kwargs.pop("ignore_class", None)
        super().__init__(from_logits=from_logits, ignore_class=pad_id, name=name, **kwargs)
        self.label_smoothing = _checks.probability("label_smoothing", label_smoothing)

    def call(self, y_true, y_pred):
        # One path with and without smoothing: the padding mask is folded into
        # the values here, never handed to Keras' loss mask, whose merge with
        # per-sequence sample weights `[B, 1]` is an in-place broadcast that
        # PyTorch refuses.
        eps = self.label_smoothing
        y_true = ops.cast(y_true, "int32")
        y_pred = ops.cast(y_pred, "float32")
        log_probs = (ops.log_softmax(y_pred, axis=-1) if self.from_logits
                     else ops.log(ops.clip(y_pred, 1e-7, 1.0)))
        real = ops.not_equal(y_true, self.ignore_class)
        picked = ops.take_along_axis(log_probs, ops.where(real, y_true, 0)[..., None], axis=-1)
        per_token = -(1.0 - eps) * picked[..., 0] - eps * ops.mean(log_probs, axis=-1)
        # Fold the padding mask into the values as Keras folds a loss mask
        # into the sample weights (real tokens weigh total/real for the
        # averaging reductions), so every reduction means what it means
        # without smoothing.
        weight = ops.cast(real, "float32")
        if self.reduction in ("mean", "sum_over_batch_size"):
            total = ops.cast(ops.prod(ops.shape(weight)), "float32")
            weight = weight * ops.divide_no_nan(total, ops.sum(weight))
        return per_token * weight

    def get_config(self):
        config = super().get_config()
        config["pad_id"] = config.pop("ignore_class")
        config["label_smoothing"] = self.label_smoothing
        return config
