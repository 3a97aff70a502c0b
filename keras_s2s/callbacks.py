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


class ScheduledSampling(keras.callbacks.Callback):
    """Sets the decoder's scheduled-sampling probability before each epoch.

    The model's decoder must be built with `scheduled_sampling=True`
    (`build_seq2seq(..., scheduled_sampling=True)`): any layer of the model
    with a `sampling_probability` variable is set, so a user's decoder that
    keeps one takes part too. Bengio et al. 2015 ("Scheduled Sampling for
    Sequence Prediction with Recurrent Neural Networks", sec. 2.4) raise the
    probability of feeding the model's own token as training goes on, e.g.
    their inverse sigmoid decay of teacher forcing,
    `lambda epoch: 1 - k / (k + math.exp(epoch / k))`, or a linear ramp,
    `lambda epoch: min(0.25, 0.05 * epoch)`.

    Args:
        schedule: callable `epoch -> probability` (epoch counted from 0), a
            float in [0, 1]: the chance that a step after the first reads the
            model's own token instead of the target's.
        verbose: int, 1 prints the probability at each epoch. Defaults to 0.

    Raises:
        TypeError: `schedule` is not callable.
        ValueError: (at `fit`) no layer of the model has a
            `sampling_probability`, or `schedule` returned a value outside
            [0, 1] or not a number.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"`schedule` must be a callable epoch -> probability. Received: {schedule!r}.")
        self.schedule = schedule
        self.verbose = verbose
        self.history = []

    def _variables(self):
        found = [layer.sampling_probability for layer in self.model.layers
                 if getattr(layer, "sampling_probability", None) is not None]
        if not found:
            raise ValueError("ScheduledSampling needs a decoder built with `scheduled_sampling=True` "
                             "(no layer of the model has a `sampling_probability`).")
        return found

    def on_train_begin(self, logs=None):
        self._variables()  # fails before the first epoch, not after it

    def on_epoch_begin(self, epoch, logs=None):
        value = self.schedule(epoch)
        try:
            probability = float(value)
        except (TypeError, ValueError):
            probability = float("nan")
        if not 0.0 <= probability <= 1.0:  # NaN fails too
            raise ValueError(f"`schedule({epoch})` must return a probability in [0, 1]. Received: {value!r}.")
        for variable in self._variables():
            variable.assign(probability)
        self.history.append(probability)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: scheduled sampling probability {probability:g}.")
