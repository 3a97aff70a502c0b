"""keras_s2s: RNN sequence-to-sequence models with attention for Keras 3."""

from keras_s2s import callbacks
from keras_s2s import data
from keras_s2s import datasets
from keras_s2s import evaluation
from keras_s2s import export
from keras_s2s import inference
from keras_s2s import layers
from keras_s2s import losses
from keras_s2s import metrics
from keras_s2s import specs
from keras_s2s import text
from keras_s2s.export import export_saved_model
from keras_s2s.export import export_tflite
from keras_s2s.inference import BeamSearch
from keras_s2s.inference import GreedySearch
from keras_s2s.inference import SampleSearch
from keras_s2s.inference import SearchStrategy
from keras_s2s.inference import Seq2SeqGenerator
from keras_s2s.inference import build_inference_model
from keras_s2s.layers import AttentionLSTMDecoder
from keras_s2s.layers import BahdanauAttention
from keras_s2s.layers import BaseAttention
from keras_s2s.layers import Encoder
from keras_s2s.layers import FeatureEncoder
from keras_s2s.layers import LSTMDecoder
from keras_s2s.layers import LuongAttention
from keras_s2s.layers import PeekyLSTMDecoder
from keras_s2s.layers import RNNDecoder
from keras_s2s.models import Seq2SeqModel
from keras_s2s.models import build_seq2seq
from keras_s2s.models import load_model
from keras_s2s.special_tokens import BOS_ID
from keras_s2s.special_tokens import EOS_ID
from keras_s2s.special_tokens import PAD_ID
from keras_s2s.special_tokens import UNK_ID

__version__ = "0.1.0"

__all__ = [
    "AttentionLSTMDecoder",
    "BOS_ID",
    "BahdanauAttention",
    "BaseAttention",
    "BeamSearch",
    "EOS_ID",
    "Encoder",
    "FeatureEncoder",
    "GreedySearch",
    "LSTMDecoder",
    "LuongAttention",
    "PAD_ID",
    "PeekyLSTMDecoder",
    "RNNDecoder",
    "SampleSearch",
    "SearchStrategy",
    "Seq2SeqGenerator",
    "Seq2SeqModel",
    "UNK_ID",
    "build_inference_model",
    "build_seq2seq",
    "callbacks",
    "data",
    "datasets",
    "evaluation",
    "export",
    "export_saved_model",
    "export_tflite",
    "inference",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "specs",
    "text",
]
