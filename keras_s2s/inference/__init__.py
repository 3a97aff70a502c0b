"""Step-wise generation: the inference builder and in-graph search strategies."""

from keras_s2s.inference.generator import Seq2SeqGenerator
from keras_s2s.inference.generator import build_inference_model
from keras_s2s.inference.search import beam_search
from keras_s2s.inference.search import gnmt_length_penalty
from keras_s2s.inference.search import greedy_search
from keras_s2s.inference.search import process_logits
from keras_s2s.inference.search import sample_search

__all__ = [
    "Seq2SeqGenerator",
    "beam_search",
    "build_inference_model",
    "gnmt_length_penalty",
    "greedy_search",
    "process_logits",
    "sample_search",
]
