import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.text import CharTokenizer, SubwordTokenizer, WordTokenizer, load_tokenizer

UNICODE = ["한국어 문장", "crème brûlée à Zürich", "emoji 😀👍 ok", "plain ascii", ""]


def strings(t):
    return [s.decode("utf-8") for s in np.asarray(t).ravel()]


def test_char_round_trip_unicode():
    tok = CharTokenizer.from_texts(UNICODE)
    assert tok.vocabulary[:4] == ["<pad>", "<unk>", "<s>", "</s>"]
    ids = tok.encode(UNICODE, add_bos=True, add_eos=True)
    assert ids.dtype == tf.int32 and ids.shape[0] == len(UNICODE)
    assert np.all(ids[:, 0] == 2)
    lengths = (np.asarray(ids) != 0).sum(1)
    assert lengths.tolist() == [len(s) + 2 for s in UNICODE]  # code points, not bytes
    assert strings(tok.decode(ids[:, 1:])) == UNICODE


def test_char_unknown_and_lowercase():
    tok = CharTokenizer.from_texts(["abc"], lowercase=True)
    ids = np.asarray(tok.encode(["AbZ"]))
    assert ids.tolist() == [[tok.vocabulary.index("a"), tok.vocabulary.index("b"), 1]]
    assert strings(tok.decode(ids)) == ["ab\ufffd"]


def test_decode_stops_at_eos_and_drops_specials():
    tok = WordTokenizer(["HH", "AH0", "L", "OW1"])
    ids = tok.encode(["HH AH0 L OW1"], add_eos=True)
    assert strings(tok.decode(ids)) == ["HH AH0 L OW1"]
    assert strings(tok.decode([[2, 4, 3, 5, 5]])) == ["HH"]
    batch = tf.constant([[[4, 5, 3, 0]], [[6, 7, 0, 0]]])
    assert strings(tok.decode(batch)) == ["HH AH0", "L OW1"]
    assert strings(tok.decode(tok.encode(["HH XX"]))) == ["HH <unk>"]


def test_word_max_length_and_padding():
    tok = WordTokenizer.from_texts(["a b c d", "a b"])
    ids = np.asarray(tok.encode(["a b c d", "a"], add_bos=True, add_eos=True, max_length=4))
    assert ids.shape == (2, 4)
    assert ids[0].tolist() == [2, tok.vocabulary.index("a"), tok.vocabulary.index("b"), 3]
    assert ids[1].tolist() == [2, tok.vocabulary.index("a"), 3, 0]


def test_vocabulary_order_and_size_limit():
    tok = CharTokenizer.from_texts(["aaab", "bbc"], max_size=6)
    assert tok.vocabulary == ["<pad>", "<unk>", "<s>", "</s>", "a", "b"]


def test_subword_round_trip():
    texts = ["the cat sat on the mat", "the dog sat on the log", "cats and dogs play"] * 30
    tok = SubwordTokenizer.from_texts(texts, vocabulary_size=80)
    ids = tok.encode(["the cats sat", "dogs play"], add_eos=True)
    assert strings(tok.decode(ids)) == ["the cats sat", "dogs play"]
    assert "##s" in tok.vocabulary or "cats" in tok.vocabulary


@pytest.mark.parametrize("cls", [CharTokenizer, WordTokenizer, SubwordTokenizer])
def test_save_and_load(cls, tmp_path):
    texts = ["ab cd", "cd ef"] * 5
    tok = cls.from_texts(texts) if cls is not SubwordTokenizer else cls.from_texts(texts, 40)
    tok.save(tmp_path / "tok.json")
    again = load_tokenizer(tmp_path / "tok.json")
    assert type(again) is cls and again.vocabulary == tok.vocabulary
    np.testing.assert_array_equal(again.encode(texts), tok.encode(texts))
    tok.save_vocabulary(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_text("utf-8").splitlines() == tok.vocabulary


def test_in_graph_in_tf_data():
    tok = CharTokenizer.from_texts(["hello"])
    ds = tf.data.Dataset.from_tensor_slices(["hello", "he"]).batch(2).map(tok.encode)
    assert next(iter(ds)).shape == (2, 5)


def test_bad_input(tmp_path):
    tok = CharTokenizer.from_texts(["abc"])
    with pytest.raises(TypeError, match="strings.*int32"):
        tok.encode([1, 2])
    with pytest.raises(ValueError, match="1-D"):
        tok.encode([["a"]])
    with pytest.raises(ValueError, match="single characters"):
        CharTokenizer(["ab"])
    with pytest.raises(ValueError, match="whitespace"):
        WordTokenizer(["a b"])
    with pytest.raises(FileNotFoundError):
        load_tokenizer(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a keras_s2s tokenizer"):
        load_tokenizer(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="empty"):
        SubwordTokenizer.from_texts([])
