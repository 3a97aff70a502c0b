"""Corpus-level evaluation of generated text: G2P WER/PER, exact match, BLEU, chrF."""

import numpy as np
import tensorflow as tf

from keras_s2s import _checks


def _check_pairs(predictions, references):
    predictions, references = list(predictions), list(references)
    _checks.same_length("predictions", predictions, "references", references)
    if not predictions:
        raise ValueError("`predictions` is empty: nothing to evaluate.")
    references = [[r] if isinstance(r, str) else list(r) for r in references]
    empty = [i for i, r in enumerate(references) if not r]
    if empty:
        raise ValueError(f"Every example needs at least one reference. Received none at index {empty[0]}.")
    return predictions, references


def _tokens(texts):
    return tf.ragged.constant([t.split() for t in texts], dtype=tf.string, ragged_rank=1)


def g2p_error_rates(predictions, references):
    """Word and phoneme error rates as the G2P literature defines them.

    - WER: the fraction of words whose prediction equals none of their
      reference pronunciations.
    - PER: for each word, the Levenshtein distance (`tf.edit_distance`) from
      the prediction to its closest reference; summed over words and divided
      by the summed lengths of those closest references (ties: the first).

    Args:
        predictions: list of str, space-separated phonemes per word.
        references: list of lists of str (or of str), every acceptable
            pronunciation per word.

    Returns:
        A dict with `wer` and `per` (floats in [0, 1]; PER may exceed 1 for
        very long outputs), `words` (int) and `phonemes` (int, the
        denominator of PER).

    Raises:
        ValueError: different lengths, no examples, or a word without
            references.

    References:
        Bisani & Ney 2008; Yao & Zweig 2015, Sequence-to-sequence neural net
        models for grapheme-to-phoneme conversion.
    """
    predictions, references = _check_pairs(predictions, references)
    hyp, ref, owner = [], [], []
    for i, (p, refs) in enumerate(zip(predictions, references)):
        for r in refs:
            hyp.append(p)
            ref.append(r)
            owner.append(i)
    distance = tf.edit_distance(
        _tokens(hyp).to_sparse(), _tokens(ref).to_sparse(), normalize=False
    ).numpy()
    ref_length = np.array([len(r.split()) for r in ref])
    owner = np.array(owner)
    errors, lengths = np.zeros(len(predictions)), np.zeros(len(predictions))
    best = np.full(len(predictions), np.inf)
    for d, n, i in zip(distance, ref_length, owner):
        if d < best[i]:
            best[i], errors[i], lengths[i] = d, d, n
    phonemes = int(lengths.sum())
    return {
        "wer": float(np.mean(errors > 0)),
        "per": float(errors.sum() / max(phonemes, 1)),
        "words": len(predictions),
        "phonemes": phonemes,
    }


def exact_match(predictions, references):
    """Fraction of predictions equal to one of their references (whitespace-normalized)."""
    predictions, references = _check_pairs(predictions, references)
    norm = lambda s: " ".join(s.split())  # noqa: E731
    return float(np.mean([norm(p) in {norm(r) for r in refs} for p, refs in zip(predictions, references)]))


def bleu_and_chrf(predictions, references):
    """Corpus BLEU and chrF from sacrebleu (first reference of each example).

    Returns:
        A dict with `bleu` and `chrf` (0-100) and the sacrebleu `signature`s.
    """
    import sacrebleu

    predictions, references = _check_pairs(predictions, references)
    refs = [[r[0] for r in references]]
    bleu = sacrebleu.metrics.BLEU()
    chrf = sacrebleu.metrics.CHRF()
    return {
        "bleu": float(bleu.corpus_score(predictions, refs).score),
        "chrf": float(chrf.corpus_score(predictions, refs).score),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }
