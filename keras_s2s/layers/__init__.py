"""Layers of keras_s2s: attention, encoder and decoders."""

from keras_s2s.layers.attention import BahdanauAttention
from keras_s2s.layers.attention import BaseAttention
from keras_s2s.layers.attention import LuongAttention
from keras_s2s.layers.decoders import AttentionLSTMDecoder
from keras_s2s.layers.decoders import InputFeeding
from keras_s2s.layers.decoders import LSTMDecoder
from keras_s2s.layers.decoders import PeekyLSTMDecoder
from keras_s2s.layers.decoders import RNNDecoder
from keras_s2s.layers.embedding import Embedding
from keras_s2s.layers.encoder import Encoder
from keras_s2s.layers.feature_encoder import FeatureEncoder

__all__ = [
    "AttentionLSTMDecoder",
    "BahdanauAttention",
    "BaseAttention",
    "Embedding",
    "Encoder",
    "FeatureEncoder",
    "InputFeeding",
    "LSTMDecoder",
    "LuongAttention",
    "PeekyLSTMDecoder",
    "RNNDecoder",
]
