"""Losses for padded target sequences."""

import keras

from keras_s2s.special_tokens import PAD_ID


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedSparseCategoricalCrossentropy(keras.losses.SparseCategoricalCrossentropy):
    """Token cross-entropy that ignores padding.

    Keras' `SparseCategoricalCrossentropy` with `ignore_class=pad_id` and
    logits in: padded positions contribute nothing, and the default
    `"sum_over_batch_size"` reduction divides by the number of real tokens
    in the batch (not by `B * T`).

    Args:
        from_logits: bool, whether `y_pred` are logits. Defaults to `True`.
        pad_id: int, the target id to ignore. Defaults to 0.
        **kwargs: other `keras.losses.SparseCategoricalCrossentropy` arguments.

    Call arguments:
        y_true: int tensor `[B, T]`, target ids, 0 at padding.
        y_pred: float tensor `[B, T, V]`.

    Returns:
        Scalar float32: mean negative log-likelihood per real token (nats).
    """

    def __init__(self, from_logits=True, pad_id=PAD_ID, name="masked_sparse_categorical_crossentropy", **kwargs):
        kwargs.pop("ignore_class", None)
        super().__init__(from_logits=from_logits, ignore_class=pad_id, name=name, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["pad_id"] = config.pop("ignore_class")
        return config
