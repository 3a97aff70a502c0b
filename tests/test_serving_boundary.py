"""The serving boundary, one test per hole found by the attack report (issue 12).

Each test names its row: 1 wrapped ids, 2 memory before truncation, 3
unbounded sizes, 4 sampling numerics, 5 TFLite truncation, 6 CLI errors, 7 run
directory consistency, 8 empty input, 9 tokenizer subclasses.
"""

import json
import pathlib
import shutil
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s import export, limits, runs
from keras_s2s.runs import cli
from keras_s2s.text import CharTokenizer, WordTokenizer, load_tokenizer

SOURCE = CharTokenizer(list("abcdefghijklmnop"))
TARGET = WordTokenizer(["A", "B", "C", "D", "E", "F", "G", "H", "I"])
COMMITTED_RUN = pathlib.Path(__file__).parents[1] / "saved_models" / "g2p" / "run"
FIRST_COMMITTED_RUN = pathlib.Path(__file__).parent / "data" / "g2p_v1" / "run"  # written by an early version
MAX_LENGTH = 8


@pytest.fixture(scope="module")
def generator():
    model = keras_s2s.build_seq2seq(SOURCE.vocabulary_size, TARGET.vocabulary_size, embedding_dim=8,
                                    units=16, attention="luong")
    dense = model.get_layer("decoder").output_dense
    dense.kernel.assign(dense.kernel * 20.0)
    return keras_s2s.build_inference_model(model)


@pytest.fixture(scope="module")
def exported(generator, tmp_path_factory):
    """A SavedModel and a .tflite of `generator`, both reading at most 8 source tokens."""
    root = tmp_path_factory.mktemp("exported")
    saved = export.export_saved_model(generator, root / "sm", max_length=MAX_LENGTH,
                                      source_tokenizer=SOURCE, target_tokenizer=TARGET,
                                      max_source_length=8)
    tflite = export.export_tflite(generator, root / "m.tflite", max_length=MAX_LENGTH,
                                  max_source_length=8)
    return tf.saved_model.load(saved), export.TFLiteGreedyDecoder(tflite)


def greedy(generator, ids):
    return generator.generate(np.asarray(ids, "int32"), max_length=MAX_LENGTH)


# ----------------------------------------------------------------- row 1
def test_row1_negative_ids_are_errors_on_every_path(generator, exported):
    saved, tflite = exported
    with pytest.raises(ValueError, match=r"an id -1\b"):
        greedy(generator, [[-1, 5, 6]])
    with pytest.raises(ValueError, match=r"an id -34\b"):  # the id sent, not a clipped one
        greedy(generator, [[5, -34, 6]])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"source_ids.*\[0, 20\).*Received the id\W+-1\b"):
        saved.signatures["generate_ids"](source_ids=tf.constant([[-1, 5, 6]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Received the id\W+20\b"):
        saved.signatures["generate_ids"](source_ids=tf.constant([[4, 20]]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Received the id -1\."):
        generator.encoder(tf.constant([[-1, 5, 6]]))
    model = generator.model
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"source_ids.*Received the id -1\."):
        model({"source_ids": np.array([[-1, 5]], "int32"), "target_ids": np.array([[2, 4]], "int32")})
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"target_ids.*Received the id -3\."):
        model({"source_ids": np.array([[4, 5]], "int32"), "target_ids": np.array([[2, -3]], "int32")})
    # TFLite has no assertions: the answer is empty, never a pronunciation
    for bad in ([-1, 5, 6], [5, 6, -34], [4, 20]):
        out = tflite(bad)
        assert out["length"] == 0 and not out["ids"].any() and out["score"] == 0.0
    assert tflite([5, 6])["length"] > 0


# ----------------------------------------------------------------- row 2
def test_row2_serving_truncates_before_padding(exported):
    saved, _ = exported
    serve = saved.signatures["serving_default"]
    huge = "abcdefgh" + "p" * 200_000
    out = serve(source_text=tf.constant([huge, "abcdefgh", "abc"]))["target_text"].numpy()
    assert out[0] == out[1]
    # the tokenizer cuts the ragged ids; no [B, 200008] tensor is ever made
    ids = SOURCE.encode([huge, "a"], max_length=8)
    assert ids.shape == (2, 8)


# ----------------------------------------------------------------- row 3
def test_row3_sizes_are_capped_before_allocation(generator, tmp_path):
    for max_length in (limits.MAX_GENERATION_LENGTH + 1, 10**9, 2**31):
        with pytest.raises(ValueError, match=f"max_length.*at most {limits.MAX_GENERATION_LENGTH}"):
            greedy_args = dict(max_length=max_length)
            generator.generate(np.array([[4]], "int32"), **greedy_args)
        with pytest.raises(ValueError, match="at most"):
            export.export_tflite(generator, tmp_path / "x.tflite", max_length=max_length)
    assert generator.generate(np.array([[4]], "int32"), max_length=limits.MAX_GENERATION_LENGTH)[
        "ids"].shape == (1, 1, limits.MAX_GENERATION_LENGTH)
    with pytest.raises(ValueError, match=r"vocab_size.*at most 1048576.*10000000"):
        keras_s2s.build_seq2seq(10**7, 10)
    with pytest.raises(ValueError, match=r"num_return_sequences.*at most"):
        generator.generate(np.array([[4]], "int32"), max_length=4, strategy="sample",
                           num_return_sequences=10**6)
    # a model file that declares a huge vocabulary is refused before any weight is made
    path = tmp_path / "m.keras"
    generator.model.save(path)
    tampered = tmp_path / "huge.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            payload = src.read(item.filename)
            if item.filename == "config.json":
                payload = payload.replace(b'"vocab_size": 20', b'"vocab_size": 10000000')
            dst.writestr(item, payload)
    with pytest.raises(ValueError, match="(?s)could not be loaded.*vocab_size. must be at most 1048576"):
        keras_s2s.load_model(tampered)


# ----------------------------------------------------------------- row 4
def test_row4_sampling_numerics(generator):
    ids = np.array([[4, 5, 6], [7, 8, 0]], "int32")
    reference = greedy(generator, ids)["ids"]
    for seed in range(20):
        out = generator.generate(ids, max_length=MAX_LENGTH, strategy="sample", top_k=1,
                                 temperature=1e-10, seed=seed)
        np.testing.assert_array_equal(out["ids"], reference)
    tiny = float(np.finfo(np.float32).tiny)
    for kwargs, pattern in [
        (dict(top_p=1e-39), r"top_p.*smallest normal float32.*top_p=1e-39"),
        (dict(temperature=1e-39), r"temperature.*smallest normal float32"),
        (dict(temperature=1e39), r"temperature.*temperature=1e\+39"),
        (dict(seed=2**31), r"seed.*2147483647.*seed=2147483648"),
        (dict(seed=-1), r"seed=-1"),
    ]:
        with pytest.raises(ValueError, match=pattern):
            generator.generate(ids, max_length=4, strategy="sample", **kwargs)
    with pytest.raises(ValueError, match=r"length_penalty.*\[0, 10\].*1e\+30"):
        generator.generate(ids, max_length=4, strategy="beam", length_penalty=1e30)
    # the smallest accepted values are well-formed answers
    out = generator.generate(ids, max_length=4, strategy="sample", top_p=tiny, temperature=tiny, seed=3)
    assert np.all(out["ids"] < TARGET.vocabulary_size) and np.all(np.isfinite(out["scores"]))
    beam = generator.generate(ids, max_length=6, strategy="beam", num_beams=3, length_penalty=10.0)
    for row, n in zip(beam["ids"][:, 0], beam["lengths"][:, 0]):
        assert not np.isin(row[:n], [0, 2]).any()  # never PAD or BOS mid-sequence
    samples = [generator.generate(ids, max_length=6, strategy="sample", seed=s, num_return_sequences=8)
               for s in (0, 2**31 - 1)]
    assert not np.array_equal(samples[0]["ids"], samples[1]["ids"])


# ----------------------------------------------------------------- row 5
def test_row5_tflite_truncates_like_the_saved_model(generator, exported):
    saved, tflite = exported
    rng = np.random.default_rng(0)
    for length in (9, 40, 300):
        source = rng.integers(4, SOURCE.vocabulary_size, size=length).astype("int32")
        expected = greedy(generator, source[None, :8])
        out = tflite(source)
        np.testing.assert_array_equal(out["ids"], expected["ids"][0, 0])
        from_saved = saved.signatures["generate_ids"](source_ids=tf.constant(source[None]))
        np.testing.assert_array_equal(from_saved["ids"].numpy()[0], expected["ids"][0, 0])


# ----------------------------------------------------------------- rows 6 and 7
@pytest.fixture
def run_dir(tmp_path):
    target = tmp_path / "run"
    shutil.copytree(COMMITTED_RUN, target)
    return target


def edit_config(run_dir, edit):
    path = run_dir / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))


def predict_error(run_dir, capsys, *args):
    assert cli.main(["predict", str(run_dir), "hello", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("keras-s2s predict: error: ")
    return err


@pytest.mark.slow
def test_row6_bad_run_files_and_arguments_exit_2(run_dir, capsys, tmp_path):
    config = run_dir / "config.json"
    good = config.read_bytes()
    edit_config(run_dir, lambda c: c.pop("max_length"))
    assert "lacks ['max_length']" in predict_error(run_dir, capsys)
    config.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert "config.json' is not a readable JSON file: RecursionError" in predict_error(run_dir, capsys)
    config.write_bytes(b"\xff\xfe{}")
    assert "config.json' is not a readable JSON file: UnicodeDecodeError" in predict_error(run_dir, capsys)
    config.write_bytes(b"")
    assert "config.json' is not a readable JSON file" in predict_error(run_dir, capsys)
    config.write_bytes(good)
    edit_config(run_dir, lambda c: c.update(max_length=10**9))
    assert "max_length" in predict_error(run_dir, capsys)
    config.write_bytes(good)
    edit_config(run_dir, lambda c: c["train"].update(units="256"))
    assert "'units' must be a int. Received: units='256'" in predict_error(run_dir, capsys)
    config.write_bytes(good)
    edit_config(run_dir, lambda c: c["train"].update(evil=1))
    assert "unknown training settings ['evil']" in predict_error(run_dir, capsys)
    config.write_bytes(good)
    for beams in ("0", "-1", "x"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["predict", str(run_dir), "hello", "--num-beams", beams])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert "argument --num-beams: setting 'num_beams' must be" in err and "[1, 256]" in err
    with pytest.raises(ValueError, match="num_beams=0"):
        runs.Run.load(run_dir).translate(["hello"], num_beams=0)
    # TSV corpora: a single line is refused before training, a huge line is skipped
    one = tmp_path / "one.tsv"
    one.write_text("hello\tbonjour\n")
    assert cli.main(["train", "--tsv", str(one), "--run-dir", str(tmp_path / "r1")]) == 2
    assert "1 usable 'source<TAB>target' line(s); training needs at least 3" in capsys.readouterr().err
    assert not (tmp_path / "r1" / "model.keras").exists()
    huge = tmp_path / "huge.tsv"
    huge.write_bytes(b"a" * 1_000_000 + b"\tb\n")
    assert cli.main(["train", "--tsv", str(huge), "--run-dir", str(tmp_path / "r2")]) == 2
    assert "no usable" in capsys.readouterr().err


@pytest.mark.slow
def test_row7_run_directories_are_consistent(run_dir):
    assert runs.Run.load(run_dir).translate("hello")  # the committed run loads
    CharTokenizer(list("abcd")).save(run_dir / "source_tokenizer.json")
    with pytest.raises(ValueError, match="source tokenizer has 8 tokens but the model's source "
                                         "vocabulary has 33"):
        runs.Run.load(run_dir)
    model = run_dir / "model.keras"
    model.write_bytes(model.read_bytes()[:5000])
    with pytest.raises(ValueError, match="truncated or damaged, not a valid `.keras` zip") as caught:
        keras_s2s.load_model(model)
    assert "File not found" not in str(caught.value)


# ----------------------------------------------------------------- row 8
@pytest.mark.slow
def test_row8_empty_input_gives_empty_output_everywhere(generator, exported, run_dir):
    saved, tflite = exported
    for ids in (np.zeros((2, 3), "int32"), np.zeros((2, 0), "int32")):
        for strategy in ("greedy", "beam", "sample"):
            out = generator.generate(ids, max_length=MAX_LENGTH, strategy=strategy, seed=0)
            assert not out["ids"].any() and not out["lengths"].any() and not out["scores"].any()
            assert not out["attention"].any()
    mixed = generator.generate(np.array([[4, 5], [0, 0]], "int32"), max_length=MAX_LENGTH)
    assert mixed["lengths"][0, 0] > 0 and mixed["lengths"][1, 0] == 0
    out = saved.signatures["generate_ids"](source_ids=tf.constant([[0, 0], [4, 5]]))
    assert out["lengths"].numpy()[0] == 0 and out["lengths"].numpy()[1] > 0
    text = saved.signatures["serving_default"](source_text=tf.constant(["", "abc"]))
    assert text["target_text"].numpy()[0] == b"" and text["scores"].numpy()[0] == 0
    assert tflite([])["length"] == 0 and tflite([0, 0])["length"] == 0
    run = runs.Run.load(run_dir)
    assert run.translate("") == "" and run.translate(["", "hello"])[0] == ""
    assert run.translate("hello") == run.translate(["hello"])[0] != ""


# ----------------------------------------------------------------- row 9
@keras.saving.register_keras_serializable(package="keras_s2s_tests")
class NormalizingWordTokenizer(WordTokenizer):
    """Lowercases and splits punctuation off words, in graph (TF NMT tutorial style)."""

    def tokenize(self, texts):
        texts = tf.strings.regex_replace(tf.strings.lower(texts), r"([?.!,])", r" \1 ")
        return super().tokenize(texts)


class UnregisteredTokenizer(WordTokenizer):
    pass


def test_row9_registered_tokenizer_subclasses_reload(tmp_path):
    tokenizer = NormalizingWordTokenizer(["hello", "world", "!", "?"])
    path = tmp_path / "tok.json"
    tokenizer.save(path)
    assert json.loads(path.read_text())["class_name"] == "keras_s2s_tests>NormalizingWordTokenizer"
    loaded = load_tokenizer(path)
    assert type(loaded) is NormalizingWordTokenizer
    np.testing.assert_array_equal(loaded.encode(["Hello, World!"]), [[4, 1, 5, 6]])
    with pytest.raises(ValueError, match="UnregisteredTokenizer is not registered"):
        UnregisteredTokenizer(["a"]).save(tmp_path / "u.json")
    # a file naming another registered class is refused: only Tokenizers are built
    path.write_text(json.dumps({"class_name": "keras_s2s>Encoder", "config": {}}))
    with pytest.raises(ValueError, match="not a registered keras_s2s Tokenizer"):
        load_tokenizer(path)
    path.write_text(json.dumps({"class_name": "Nope", "config": {}}))
    with pytest.raises(ValueError, match="'Nope' is not a registered"):
        load_tokenizer(path)
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(ValueError, match="UnicodeDecodeError"):
        load_tokenizer(path)
    # files written before registered names (bare class names) still load
    assert type(load_tokenizer(FIRST_COMMITTED_RUN / "source_tokenizer.json")) is CharTokenizer


def test_row9_normalizing_tokenizer_serves_what_it_trained(tmp_path):
    source = NormalizingWordTokenizer(["hello", "world", "!"])
    model = keras_s2s.build_seq2seq(source.vocabulary_size, TARGET.vocabulary_size, embedding_dim=4,
                                    units=8)
    generator = keras_s2s.build_inference_model(model)
    path = export.export_saved_model(generator, tmp_path, max_length=4, source_tokenizer=source,
                                     target_tokenizer=TARGET)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    out = serve(source_text=tf.constant(["Hello World!", "hello world !"]))["target_text"].numpy()
    assert out[0] == out[1]
