import pytest

from keras_s2s.evaluation import bleu_and_chrf, exact_match, g2p_error_rates


def test_wer_per_hand_computed_with_multiple_references():
    predictions = ["T AH M EY T OW", "K AE T", "D AO G Z", ""]
    references = [
        ["T AH M EY T OW", "T AH M AA T OW"],   # matches variant 1: 0 errors, length 6
        ["K AE T S", "K AA T"],                 # distances 1 (len 4) and 1 (len 3): first -> len 4
        ["D AO G"],                             # 1 insertion, length 3
        ["EY"],                                 # empty output: 1 deletion, length 1
    ]
    scores = g2p_error_rates(predictions, references)
    assert scores["wer"] == pytest.approx(3 / 4)
    assert scores["phonemes"] == 6 + 4 + 3 + 1
    assert scores["per"] == pytest.approx((0 + 1 + 1 + 1) / 14)
    # the closest reference is chosen, not the first
    s = g2p_error_rates(["K AA T"], [["K AE T S", "K AA T"]])
    assert s["wer"] == 0 and s["per"] == 0 and s["phonemes"] == 3
    s = g2p_error_rates(["A B C D"], [["X Y", "A B C"]])
    assert s["per"] == pytest.approx(1 / 3)


def test_exact_match_and_bleu():
    assert exact_match(["a b", "c"], [["a  b"], ["d", "c"]]) == 1.0
    assert exact_match(["a"], ["b"]) == 0.0
    perfect = bleu_and_chrf(["the cat sat on the mat"], [["the cat sat on the mat"]])
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["chrf"] == pytest.approx(100.0)
    partial = bleu_and_chrf(["the cat sat on a mat"], [["the cat sat on the mat"]])
    assert 0 < partial["bleu"] < 100 and "nrefs:1" in partial["bleu_signature"]


def test_errors():
    with pytest.raises(ValueError, match="same length.*2 predictions and 1"):
        g2p_error_rates(["a", "b"], [["a"]])
    with pytest.raises(ValueError, match="empty"):
        g2p_error_rates([], [])
    with pytest.raises(ValueError, match="index 0"):
        g2p_error_rates(["a"], [[]])
