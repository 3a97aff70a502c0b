import numpy as np
import pytest

from keras_s2s import datasets
from keras_s2s.data import make_dataset, read_tsv
from keras_s2s.text import CharTokenizer, WordTokenizer


@pytest.fixture(scope="module")
def g2p():
    return datasets.cmudict_g2p()


def test_g2p_split_is_by_word_deterministic_and_disjoint(g2p):
    sizes = {k: len(v) for k, v in g2p.items()}
    print("CMUdict G2P sizes:", sizes, {k: len(set(v.sources)) for k, v in g2p.items()})
    words = {k: set(v.sources) for k, v in g2p.items()}
    assert not (words["train"] & words["dev"]) and not (words["train"] & words["test"])
    assert not (words["dev"] & words["test"])
    total = sum(len(w) for w in words.values())
    assert abs(len(words["dev"]) / total - 1 / 20) < 0.002
    assert abs(len(words["test"]) / total - 2 / 20) < 0.002
    again = datasets.cmudict_g2p()
    assert again["test"].sources == g2p["test"].sources
    # every variant of a test word is kept as a reference; train has one row per variant
    multi = [r for r in g2p["test"].references if len(r) > 1]
    assert len(multi) > 500
    i = g2p["train"].sources.index("tomato")
    assert g2p["train"].sources.count("tomato") == len(g2p["train"].references[i]) > 1


def test_g2p_phonemes_without_and_with_stress(g2p):
    phones = {p for t in g2p["train"].targets for p in t.split()}
    assert len(phones) == 39 and not any(ch.isdigit() for p in phones for ch in p)
    stressed = datasets.cmudict_g2p(stress=True)
    assert any(p.endswith("1") for t in stressed["train"].targets[:100] for p in t.split())


def test_addition_and_dates_are_fixed_and_correct():
    add = datasets.addition()
    assert (len(add["train"]), len(add["test"])) == (45000, 5000)
    for s, t in zip(add["train"].sources[:200], add["train"].targets[:200]):
        a, b = s.split("+")
        assert int(a) + int(b) == int(t) and 0 <= int(a) <= 999
    assert datasets.addition()["test"].sources == add["test"].sources
    # the book's distribution: operand length uniform in 1..3 digits before int() drops leading zeros
    operands = [int(x) for s in add["train"].sources for x in s.split("+")]
    one_digit = np.mean([x < 10 for x in operands])
    # 37% of draws, ~10% once repeated pairs are dropped; uniform 0..999 operands would give 1%
    assert 0.05 < one_digit < 0.2, one_digit
    # each unordered pair once: no test question, nor its mirror, is in train
    pairs = [tuple(sorted(map(int, s.split("+")))) for s in add["train"].sources + add["test"].sources]
    assert len(set(pairs)) == 50000
    small = datasets.addition(num_examples=5050, num_test=50, max_digits=2)  # every pair of 0..99
    assert len({tuple(sorted(map(int, s.split("+")))) for s in small["train"].sources + small["test"].sources}) == 5050
    dates = datasets.dates(num_examples=2000, num_test=200)
    assert len(dates["train"]) == 1800
    assert all(len(t) == 10 and t[4] == "-" for t in dates["train"].targets)
    assert any(not s.isascii() for s in dates["train"].sources)  # several languages
    assert datasets.dates(num_examples=2000, num_test=200)["test"].sources == dates["test"].sources
    # day-first everywhere: one string never maps to two dates
    seen = {}
    for s, t in zip(dates["train"].sources, dates["train"].targets):
        assert seen.setdefault(s, t) == t


def test_unknown_task_and_bad_sizes():
    with pytest.raises(ValueError, match="task='g2q'"):
        datasets.load("g2q")
    with pytest.raises(ValueError, match="num_test"):
        datasets.addition(num_examples=10, num_test=10)
    with pytest.raises(ValueError, match="at most 55, .*max_digits=1.*num_examples=56"):
        datasets.addition(num_examples=56, num_test=5, max_digits=1)
    with pytest.raises(ValueError, match="locales.*'xx_YY'"):
        datasets.dates(num_examples=10, num_test=2, locales=("en_US", "xx_YY"))
    with pytest.raises(ValueError, match="at least one locale"):
        datasets.dates(num_examples=10, num_test=2, locales=())


def test_dates_english_only_keeps_month_first_short_format():
    english = datasets.dates(num_examples=400, num_test=40, locales=("en_US",))
    for s, t in zip(english["train"].sources, english["train"].targets):
        if "/" in s:  # "M/d/yy"
            month, day, _ = s.split("/")
            assert (int(month), int(day)) == (int(t[5:7]), int(t[8:10])), (s, t)
    assert any("/" in s for s in english["train"].sources)
    mixed = datasets.dates(num_examples=400, num_test=40, locales=("en_US", "de_DE"))
    assert not any("/" in s for s in mixed["train"].sources)  # en_US short would be month-first


def test_make_dataset_shapes_shift_and_bucketing():
    sources = ["ab", "abcdef", "a", "abcd", "abc"] * 20
    targets = ["A B", "A B C D E F", "A", "A B C D", "A B C"] * 20
    st, tt = CharTokenizer.from_texts(sources), WordTokenizer.from_texts(targets)
    ds = make_dataset(sources, targets, st, tt, batch_size=8, shuffle=True, seed=1)
    batches = list(ds)
    assert sum(len(y) for _, y in batches) == 100
    for x, y in batches:
        s, t_in, t_out = (np.asarray(a) for a in (x["source_ids"], x["target_ids"], y))
        assert s.dtype == t_in.dtype == t_out.dtype == np.int32
        assert t_in.shape == t_out.shape and np.all(t_in[:, 0] == 2)
        lengths = (t_out != 0).sum(1)
        np.testing.assert_array_equal(t_out[np.arange(len(t_out)), lengths - 1], 3)
        np.testing.assert_array_equal(t_in[:, 1:][t_out[:, :-1] != 3], t_out[:, :-1][t_out[:, :-1] != 3])
    # bucketing keeps lengths in a batch close: padding is small
    padding = np.mean([np.mean(np.asarray(x["source_ids"]) == 0) for x, _ in batches])
    plain = make_dataset(sources, targets, st, tt, batch_size=8, bucket_by_length=False, seed=1)
    plain_padding = np.mean([np.mean(np.asarray(x["source_ids"]) == 0) for x, _ in plain])
    assert padding < plain_padding
    order = [np.asarray(x["source_ids"]).tolist() for x, _ in make_dataset(
        sources, targets, st, tt, batch_size=8, shuffle=False, bucket_by_length=False)]
    assert order[0][0][:2] == np.asarray(st.encode(["ab"]))[0].tolist()


def test_pad_to_multiple_of_gives_few_shapes_and_the_same_loss():
    import keras

    import keras_s2s
    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    sources = ["ab", "abcdefghij", "a", "abcd", "abc", "abcdefg"] * 8
    targets = ["A B", "A B C D E F G H I J", "A", "A B C D", "A B C", "A B C D E F G"] * 8
    st, tt = CharTokenizer.from_texts(sources), WordTokenizer.from_texts(targets)
    common = dict(batch_size=8, shuffle=False)
    plain = list(make_dataset(sources, targets, st, tt, **common))
    padded = list(make_dataset(sources, targets, st, tt, pad_to_multiple_of=8, **common))
    assert len(plain) == len(padded)
    model = keras_s2s.build_seq2seq(st.vocabulary_size, tt.vocabulary_size, embedding_dim=4, units=8,
                                    attention="luong")
    loss = MaskedSparseCategoricalCrossentropy()
    for (x, y), (xp, yp) in zip(plain, padded):
        shapes = [np.shape(a)[1] for a in (xp["source_ids"], xp["target_ids"], yp)]
        assert all(n % 8 == 0 for n in shapes), shapes
        for a, b in ((x["source_ids"], xp["source_ids"]), (y, yp)):  # the same ids, then zeros
            a, b = np.asarray(a), np.asarray(b)
            np.testing.assert_array_equal(b[:, : a.shape[1]], a)
            assert np.all(b[:, a.shape[1]:] == 0)
        np.testing.assert_allclose(float(loss(yp, model(xp))), float(loss(y, model(x))), rtol=1e-5)
    shapes = {tuple(np.shape(a)[1] for a in (x["source_ids"], y)) for x, y in padded}
    assert shapes <= {(8, 8), (8, 16), (16, 8), (16, 16)}
    with pytest.raises(ValueError, match="pad_to_multiple_of=0"):
        make_dataset(sources, targets, st, tt, pad_to_multiple_of=0, **common)
    keras.backend.clear_session()


def test_make_dataset_errors():
    st = tt = CharTokenizer.from_texts(["a"])
    with pytest.raises(ValueError, match="empty"):
        make_dataset([], [], st, tt, batch_size=2)
    with pytest.raises(ValueError, match="same length.*2 source_texts and 1 target_texts"):
        make_dataset(["a", "b"], ["a"], st, tt, batch_size=2)
    with pytest.raises(ValueError, match="batch_size=0"):
        make_dataset(["a"], ["a"], st, tt, batch_size=0)


def test_read_tsv_skips_and_counts_malformed_lines(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_bytes(
        "\ufeffGo.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\r\n".encode()
        + "no tab here\n".encode()
        + b"bad \xff bytes\tx\n"
        + "\n".encode()
        + "\tempty source\n".encode()
        + "Hello.\t안녕하세요.\n".encode()
    )
    table = read_tsv(path)
    assert table.sources == ["Go.", "Hello."]
    assert table.targets == ["Va !", "안녕하세요."]
    assert table.skipped == 3
    with pytest.raises(FileNotFoundError, match="missing.tsv"):
        read_tsv(tmp_path / "missing.tsv")
