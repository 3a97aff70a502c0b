"""Vocabularies and in-graph tokenizers (TensorFlow Text)."""

from keras_s2s.text.tokenizers import CharTokenizer
from keras_s2s.text.tokenizers import SubwordTokenizer
from keras_s2s.text.tokenizers import Tokenizer
from keras_s2s.text.tokenizers import WordTokenizer
from keras_s2s.text.tokenizers import load_tokenizer

__all__ = ["CharTokenizer", "SubwordTokenizer", "Tokenizer", "WordTokenizer", "load_tokenizer"]
