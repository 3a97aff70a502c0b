"""Files written by earlier versions keep working: the first committed G2P run
(`tests/data/g2p_v1/run/model.keras`, saved before the decoder refactor; it was
`saved_models/g2p` until the main job's defaults changed) loads and decodes
exactly as the SavedModel and TFLite files exported from it then."""

import pathlib

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s import export
from keras_s2s.runs import Run

COMMITTED = pathlib.Path(__file__).parent / "data" / "g2p_v1"
WORDS = ["hello", "world", "sequence", "attention", "keras", "tensorflow", "zebra", "a"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run():
    return Run.load(COMMITTED / "run")


def test_committed_model_keras_matches_the_committed_saved_model(run):
    ours = run.translate(WORDS)
    served = tf.saved_model.load(str(COMMITTED / "1")).signatures["serving_default"]
    theirs = served(source_text=tf.constant(WORDS))["target_text"].numpy()
    assert ours == [t.decode() for t in theirs]
    assert ours[0] in ("HH AH L OW", "HH EH L OW")  # CMUdict's two, stress removed


def test_committed_model_keras_matches_the_committed_tflite(run):
    ids = run.source_tokenizer.encode([w.lower() for w in WORDS]).numpy()
    reference = run.generator.generate(ids, max_length=run.max_length)
    decoder = export.TFLiteGreedyDecoder(COMMITTED / "g2p.tflite")
    for row, word in enumerate(WORDS):
        got = decoder(ids[row, : len(word)])
        np.testing.assert_array_equal(got["ids"], reference["ids"][row, 0])
