"""An RNN encoder over float feature frames (speech, time series)."""

import keras
import numpy as np
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.layers.encoder import RNNStack
from keras_s2s.specs import FloatFrames
from keras_s2s.specs import frame_mask
from keras_s2s.specs import mask_from_lengths  # noqa: F401 (their home before 0.2)


@keras.saving.register_keras_serializable(package="keras_s2s")
class FeatureEncoder(RNNStack):
    """A stack of LSTM/GRU layers over float feature frames (log-mel
    spectrograms, sensor readings), with optional pyramidal time reduction
    and feature normalization. It honours the encoder protocol, so it trains
    with `model.fit`, generates and exports like the id `Encoder`.

    Padding: give `lengths` (real frames per row) and the frames past them
    are padding while a frame of zeros inside them is data. Without lengths,
    trailing all-zero frames are taken for padding (`frame_mask`, the
    fallback of `keras_s2s.specs.FloatFrames`). `make_feature_dataset`,
    `generate(..., source_lengths=...)`, the SavedModel and TFLite pass
    lengths.

    Pyramidal reduction (Chan et al. 2016, Listen, Attend and Spell, eq. 5):
    with `pyramid_layers=P`, the outputs of layers 0..P-1 have consecutive
    pairs of frames concatenated before layers 1..P read them, so the memory
    has `ceil(S / 2**P)` steps (faster attention, shorter alignments).

    Normalization: with `normalize=True`, a `keras.layers.Normalization`
    scales every feature to zero mean and unit variance; call `adapt` on the
    training features (real frames only) before training. Padding frames
    stay zero.

    Args:
        num_features: positive int F, features per frame.
        units: positive int, units of each RNN layer per direction.
        cell: `"lstm"` or `"gru"`. Defaults to `"lstm"`.
        num_layers: positive int, stacked RNN layers. Defaults to 1.
        bidirectional: bool. Defaults to `False`.
        residual: bool, residual connections between stacked layers of the
            same time resolution. Defaults to `False`.
        dropout: float in [0, 1), on every RNN input. Defaults to 0.
        pyramid_layers: int in [0, num_layers - 1], time halvings. Defaults
            to 0.
        normalize: bool, feature normalization. Defaults to `False`.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        features: float tensor `[B, S, F]`, right-padded.
        lengths: int tensor `[B]`, real frames per row, or `None` (trailing
            all-zero frames are padding). Defaults to `None`.
        training: bool, enables dropout.

    Returns:
        A tuple `(outputs, states, mask)`: `outputs` float
        `[B, ceil(S / 2**P), H]` with `H = units * (2 if bidirectional else
        1)`, zeros at padding; `states` the top layer's final state (`[h, c]`
        or `[h]`, each `[B, H]`); `mask` bool `[B, ceil(S / 2**P)]`.

    Raises:
        ValueError: sizes outside their ranges, unknown `cell`, a bad
            `pyramid_layers`, or features whose rank is not 3 or whose last
            axis is not `num_features`.
        TypeError: integer (id) features.

    References:
        Chan, Jaitly, Le, Vinyals. Listen, Attend and Spell. ICASSP 2016.
    """

    def __init__(
        self,
        num_features,
        units,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        residual=False,
        dropout=0.0,
        pyramid_layers=0,
        normalize=False,
        **kwargs,
    ):
        super().__init__(units, cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                         residual=residual, dropout=dropout, **kwargs)
        self.num_features = _checks.positive_int("num_features", num_features, limits.MAX_UNITS)
        self.source_spec = FloatFrames(self.num_features)
        self.pyramid_layers = _checks.non_negative_int("pyramid_layers", pyramid_layers)
        if self.pyramid_layers >= self.num_layers:
            raise ValueError(
                "`pyramid_layers` halves time between stacked layers, so it must be at most "
                f"num_layers - 1 = {self.num_layers - 1}. Received: "
                f"pyramid_layers={pyramid_layers} with num_layers={num_layers}."
            )
        self.normalize = bool(normalize)
        self.normalization = None
        if self.normalize:
            self.normalization = keras.layers.Normalization(
                axis=-1, dtype="float32", name="normalization")

    @property
    def time_reduction(self):
        """Source frames per memory step: `2 ** pyramid_layers`."""
        return 2**self.pyramid_layers

    def adapt(self, features):
        """Computes the normalization statistics from real frames only.

        Args:
            features: float array `[N, S, F]` right-padded with zero frames,
                or a list of `[S_i, F]` arrays.

        Raises:
            ValueError: the encoder was made with `normalize=False`, or no
                real frame was given.
        """
        if self.normalization is None:
            raise ValueError("`adapt` needs an encoder made with normalize=True.")
        if isinstance(features, (list, tuple)):
            frames = np.concatenate([np.asarray(f, "float32").reshape(-1, self.num_features)
                                     for f in features])
        else:
            features = np.asarray(features, "float32")
            frames = features[np.asarray(frame_mask(features))]
        if not len(frames):
            raise ValueError("`adapt` received no real (non-padding) frame.")
        self.normalization.adapt(frames)

    def build(self, features_shape, lengths_shape=None):
        if self.normalization is not None and not self.normalization.built:
            self.normalization.build((None, self.num_features))  # frames; broadcasts over time
        self._build_stack(self.num_features, self.pyramid_layers)

    def call(self, features, lengths=None, training=None):
        self.source_spec.check_batch(features, "features")
        features = ops.cast(features, "float32")
        mask = self.source_spec.mask(features, lengths)
        x = features
        if self.normalization is not None:
            x = self.normalization(x) * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        x = ops.cast(x, self.compute_dtype)
        return self._run_stack(x, mask, training, self.pyramid_layers)

    def compute_output_shape(self, features_shape, lengths_shape=None):
        return super().compute_output_shape(features_shape)

    def _memory_length(self, length):
        return None if length is None else -(-length // self.time_reduction)

    def get_config(self):
        config = super().get_config()
        config.update({"num_features": self.num_features, "pyramid_layers": self.pyramid_layers,
                       "normalize": self.normalize})
        return config

