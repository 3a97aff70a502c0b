"""Step-wise generation: the inference builder, search strategy objects and
the in-graph search functions they run."""

from keras_s2s.inference.generator import Seq2SeqGenerator
from keras_s2s.inference.generator import build_inference_model
from keras_s2s.inference.search import DecodeContext
from keras_s2s.inference.search import dynamic_decode
from keras_s2s.inference.search import gnmt_length_penalty
from keras_s2s.inference.search import process_logits
from keras_s2s.inference.strategies import MAX_LENGTH_PENALTY
from keras_s2s.inference.strategies import MAX_SEED
from keras_s2s.inference.strategies import MAX_TEMPERATURE
from keras_s2s.inference.strategies import MIN_TEMPERATURE
from keras_s2s.inference.strategies import MIN_TOP_P
from keras_s2s.inference.strategies import BeamSearch
from keras_s2s.inference.strategies import GreedySearch
from keras_s2s.inference.strategies import SampleSearch
from keras_s2s.inference.strategies import SearchStrategy
from keras_s2s.inference.strategies import beam_search
from keras_s2s.inference.strategies import greedy_search
from keras_s2s.inference.strategies import sample_search

__all__ = [
    "BeamSearch",
    "DecodeContext",
    "GreedySearch",
    "MAX_LENGTH_PENALTY",
    "MAX_SEED",
    "MAX_TEMPERATURE",
    "MIN_TEMPERATURE",
    "MIN_TOP_P",
    "SampleSearch",
    "SearchStrategy",
    "Seq2SeqGenerator",
    "beam_search",
    "build_inference_model",
    "dynamic_decode",
    "gnmt_length_penalty",
    "greedy_search",
    "process_logits",
    "sample_search",
]
