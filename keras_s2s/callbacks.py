"""Keras callbacks for sequence-to-sequence training."""

import keras
import numpy as np

from keras_s2s.inference import build_inference_model


class GenerationAccuracy(keras.callbacks.Callback):
    """Exact-match accuracy of greedy `generate` on held-out data, per epoch.

    Unlike teacher-forced metrics, the model here feeds back its own
    predictions, as at inference time (the "test accuracy" of Deep Learning
    from Scratch 2, ch. 7-8). The value is added to the epoch logs as
    `name` (so `EarlyStopping`, `CSVLogger` and the `History` see it) and
    kept in `self.history`.

    Args:
        source_ids: int array `[N, S]`, 0-padded held-out sources.
        target_ids: int array `[N, T]`, the expected outputs (without BOS;
            EOS and padding are ignored).
        max_length: positive int, generation limit.
        name: log key. Defaults to `"generation_accuracy"`.
        batch_size: sources per `generate` call. Defaults to 1024.
    """

    def __init__(self, source_ids, target_ids, max_length, name="generation_accuracy", batch_size=1024):
        super().__init__()
        self.source_ids = np.asarray(source_ids, "int32")
        self.target_ids = np.asarray(target_ids)
        self.max_length = max_length
        self.name = name
        self.batch_size = batch_size
        self.history = []
        self._generator = None

    def accuracy(self):
        if self._generator is None:
            self._generator = build_inference_model(self.model)
        correct = 0
        for start in range(0, len(self.source_ids), self.batch_size):
            ids = self._generator.generate(self.source_ids[start : start + self.batch_size],
                                           max_length=self.max_length)["ids"][:, 0]
            for row, expected in zip(ids, self.target_ids[start : start + self.batch_size]):
                expected = expected[(expected != 0) & (expected != 3)]
                got = row[(row != 0) & (row != 3)]
                correct += int(len(got) == len(expected) and np.all(got == expected))
        return correct / len(self.source_ids)

    def on_epoch_end(self, epoch, logs=None):
        value = self.accuracy()
        self.history.append(value)
        if logs is not None:
            logs[self.name] = value
