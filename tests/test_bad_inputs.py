"""Bad input across the public API: each case names its error type and message.

The README's "Errors you may see" section lists the same cases.
"""

import json
import math
import zipfile

import keras
import numpy as np
import pytest

import keras_s2s
from keras_s2s import data, datasets, export, runs
from keras_s2s.text import CharTokenizer, WordTokenizer

SOURCE = CharTokenizer(list("abcdef"))
TARGET = WordTokenizer(["X", "Y", "Z"])


@pytest.fixture(scope="module")
def model():
    return keras_s2s.build_seq2seq(SOURCE.vocabulary_size, TARGET.vocabulary_size, embedding_dim=4,
                                   units=8, attention="bahdanau")


@pytest.fixture(scope="module")
def generator(model):
    return keras_s2s.build_inference_model(model)


IDS = np.array([[4, 5, 6], [7, 0, 0]], "int32")
build = keras_s2s.build_seq2seq


def gen(**kwargs):
    return lambda g, m: g.generate(kwargs.pop("ids", IDS), **{"max_length": 4, **kwargs})


CASES = {
    # builder and layers
    "zero source vocabulary": (lambda g, m: build(0, 5), ValueError, r"source_vocab_size=0"),
    "negative target vocabulary": (lambda g, m: build(5, -1), ValueError, r"target_vocab_size=-1"),
    "zero units": (lambda g, m: build(5, 5, units=0), ValueError, r"units=0"),
    "string units": (lambda g, m: build(5, 5, units="64"), TypeError, r"units='64'"),
    "unknown attention": (lambda g, m: build(5, 5, attention="bahdanu"), ValueError,
                          r"attention='bahdanu'. Expected one of 'bahdanau'"),
    "foreign attention layer": (lambda g, m: build(5, 5, attention=keras.layers.Attention()),
                                TypeError, r"BaseAttention"),
    "unknown cell": (lambda g, m: build(5, 5, cell="rnn"), ValueError, r"cell='rnn'"),
    "input feeding without attention": (lambda g, m: build(5, 5, input_feeding=True), ValueError,
                                        r"input_feeding=True with attention=None"),
    "peeky with attention": (lambda g, m: build(5, 5, peeky=True, attention="luong"), ValueError,
                             r"peeky=True with attention='luong'"),
    "bidirectional with odd units": (lambda g, m: build(5, 5, units=15, bidirectional=True),
                                     ValueError, r"must be even.*units=15"),
    "dot attention with mismatched sizes": (
        lambda g, m: build(5, 5, units=8, bidirectional=True, encoder_units=8, attention="luong"),
        ValueError, r"query size 8, key size 16"),
    "dropout above 1": (lambda g, m: build(5, 5, dropout=1.5), ValueError, r"dropout.*1.5"),
    "NaN dropout": (lambda g, m: build(5, 5, dropout=math.nan), ValueError, r"dropout=nan"),
    "unknown Luong score": (lambda g, m: keras_s2s.LuongAttention("dott"), ValueError,
                            r"score='dott'. Expected one of 'dot', 'general', 'concat'"),
    # the training model
    "float ids": (lambda g, m: m({"source_ids": IDS.astype("float32"), "target_ids": IDS}),
                  TypeError, r"source_ids.*float32"),
    "rank-3 ids": (lambda g, m: m({"source_ids": IDS, "target_ids": IDS[..., None]}), ValueError,
                   r"target_ids.*rank 2.*rank 3"),
    "missing input": (lambda g, m: m({"source_ids": IDS}), ValueError, r"Missing model inputs \['target_ids'\]"),
    "list instead of dict": (lambda g, m: m([IDS, IDS]), TypeError, r"dict with keys"),
    # generation
    "max_length 0": (gen(max_length=0), ValueError, r"max_length=0"),
    "unknown strategy": (gen(strategy="topk"), ValueError, r"strategy='topk'"),
    "zero beams": (gen(strategy="beam", num_beams=0), ValueError, r"num_beams=0"),
    "more beams than tokens": (gen(strategy="beam", num_beams=99), ValueError, r"num_beams=99"),
    "top_p 0": (gen(strategy="sample", top_p=0.0), ValueError, r"top_p=0.0"),
    "negative top_k": (gen(strategy="sample", top_k=-1), ValueError, r"top_k=-1"),
    "NaN temperature": (gen(strategy="sample", temperature=math.nan), ValueError, r"temperature=nan"),
    "infinite length penalty": (gen(strategy="beam", length_penalty=math.inf), ValueError,
                                r"length_penalty=inf"),
    "id beyond the vocabulary": (gen(ids=np.array([[4, 10]], "int32")), ValueError, r"\[0, 10\).*id 10"),
    "negative id": (gen(ids=np.array([[-2, 4]], "int32")), ValueError, r"id -2"),
    "float ids to generate": (gen(ids=IDS.astype("float64")), TypeError, r"source_ids.*float64"),
    "rank-1 ids to generate": (gen(ids=IDS[0]), ValueError, r"source_ids.*rank 1"),
    "inference from a foreign model": (
        lambda g, m: keras_s2s.build_inference_model(keras.Sequential([keras.layers.Dense(2)])),
        ValueError, r"built by keras_s2s.build_seq2seq"),
    # tokenizers and export
    "vocabulary mismatch at export": (
        lambda g, m: export.export_saved_model(g, "/tmp/never", max_length=4, source_tokenizer=SOURCE,
                                               target_tokenizer=WordTokenizer(["X"])),
        ValueError, r"target tokenizer has 5 tokens but the model's target vocabulary has 7"),
    "unknown quantization": (lambda g, m: export.export_tflite(g, "/tmp/never.tflite", max_length=4,
                                                               quantization="int4"),
                             ValueError, r"quantization='int4'"),
    "export max_length 0": (lambda g, m: export.export_tflite(g, "/tmp/never.tflite", max_length=0),
                            ValueError, r"max_length=0"),
    "numbers to a tokenizer": (lambda g, m: SOURCE.encode([1, 2]), TypeError, r"strings.*int32"),
    "2-D texts to a tokenizer": (lambda g, m: SOURCE.encode([["a"]]), ValueError, r"1-D"),
    # data
    "unknown task": (lambda g, m: datasets.load("g2q"), ValueError, r"task='g2q'"),
    "empty dataset": (lambda g, m: data.make_dataset([], [], SOURCE, TARGET, batch_size=2), ValueError,
                      r"empty"),
    "missing TSV": (lambda g, m: data.read_tsv("/nonexistent.tsv"), FileNotFoundError, r"No TSV file"),
    "missing run directory": (lambda g, m: runs.Run.load("/nonexistent"), FileNotFoundError,
                              r"config.json is missing"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input(case, generator, model):
    fn, error, message = CASES[case]
    with pytest.raises(error, match=message):
        fn(generator, model)


def test_at_least_30_cases():
    assert len(CASES) >= 30


def test_inputs_that_must_not_fail(generator):
    # empty strings, characters outside the vocabulary and over-long texts
    ids = SOURCE.encode(["", "zzz😀", "abc" * 100], max_length=16).numpy()
    assert ids.shape == (3, 16) and np.all(ids[0] == 0) and np.all(ids[1, :4] == 1)
    out = generator.generate(ids, max_length=4)
    assert np.all(np.isfinite(out["scores"]))
    assert np.all(np.isfinite(generator.generate(np.zeros((2, 0), "int32"), max_length=3)["scores"]))


def test_truncated_and_tampered_model_files(model, tmp_path, capsys):
    good = tmp_path / "m.keras"
    model.save(good)
    assert keras_s2s.load_model(good).count_params() == model.count_params()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ValueError, match="could not be loaded.*truncated"):
        keras_s2s.load_model(truncated)
    # tampered: the config now asks for a Lambda layer carrying code
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(payload)
                layer = config["config"]["layers"][-1]
                layer["class_name"] = "Lambda"
                layer["module"] = "keras.layers"
                layer.pop("registered_name", None)
                layer["config"] = {"name": "decoder", "function": {
                    "class_name": "__lambda__", "config": {"code": "print('pwned')", "defaults": None,
                                                           "closure": None}}}
                payload = json.dumps(config).encode()
            dst.writestr(item, payload)
    with pytest.raises(ValueError, match="safe mode") as caught:
        keras_s2s.load_model(tampered)
    assert "safe_mode" in str(caught.value.__cause__)  # Keras refused the code, not a parse error
    assert "pwned" not in capsys.readouterr().out
    with pytest.raises(FileNotFoundError, match="No model file"):
        keras_s2s.load_model(tmp_path / "none.keras")
    (tmp_path / "x.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="Expected a `.keras` file"):
        keras_s2s.load_model(tmp_path / "x.h5")
