"""The Morse-audio dataset: exact ITU timing, the noise level it promises,
word-disjoint splits, and frames a FeatureEncoder can read."""

import numpy as np
import pytest

from keras_s2s.datasets import morse


def test_keying_follows_itu_timing():
    rng = np.random.default_rng(0)
    # "ab": a = .-  b = -...  at 12 wpm a dit is 0.1 s; letters 3 dits apart, words 7
    got = morse.key_text("ab e", wpm=12, rng=rng, jitter=0.0)
    dit = 0.1
    expected = [(True, 1), (False, 1), (True, 3), (False, 3), (True, 3), (False, 1), (True, 1),
                (False, 1), (True, 1), (False, 1), (True, 1), (False, 7), (True, 1)]
    assert [on for on, _ in got] == [on for on, _ in expected]
    np.testing.assert_allclose([s for _, s in got], [dit * d for _, d in expected])
    with pytest.raises(ValueError, match="No Morse code for '1'"):
        morse.key_text("a1", wpm=12, rng=rng)


@pytest.mark.parametrize("snr_db", [0.0, 10.0, 20.0])
def test_noise_is_at_the_requested_snr(snr_db):
    clean = morse.render("paris", wpm=20, pitch=700, snr_db=300.0, rng=np.random.default_rng(5))
    noisy = morse.render("paris", wpm=20, pitch=700, snr_db=snr_db, rng=np.random.default_rng(5))
    noise = noisy - clean
    measured = 10 * np.log10(0.5 / np.mean(noise.astype(np.float64) ** 2))  # keyed tone power 1/2
    assert abs(measured - snr_db) < 0.2
    keyed = np.abs(clean) > 0.5
    assert 0.15 < keyed.mean() < 0.6  # the tone is on part of the time


def test_splits_are_word_disjoint_deterministic_and_readable():
    splits = morse.morse_audio(60, 12, seed=3)
    assert set(splits) == {"train", "dev", "test_10db", "test_20db"}
    assert not set(splits["test_10db"].texts) & set(splits["train"].texts + splits["dev"].texts)
    assert splits["test_10db"].texts == splits["test_20db"].texts
    assert splits["test_10db"].snr_db == [10.0] * 12
    assert all(5.0 <= level <= 25.0 for level in splits["train"].snr_db)
    features, lengths = splits["train"].padded()
    assert features.shape[-1] == morse.NUM_MEL_BINS and np.all(np.isfinite(features))
    for i, length in enumerate(lengths):  # real frames are never all zero: the padding rule holds
        assert np.all(np.any(features[i, :length] != 0, axis=-1))
    again = morse.morse_audio(60, 12, seed=3)
    np.testing.assert_array_equal(again["dev"].features[4], splits["dev"].features[4])
    # every example holds its two silences (0.1-0.4 s each) and at least one keyed letter
    assert all(len(f) * 0.02 > 0.3 for f in splits["train"].features)
