import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s import export
from keras_s2s.text import CharTokenizer, WordTokenizer

pytestmark = pytest.mark.slow

SOURCE = CharTokenizer(list("abcdefghijklmnop"))
TARGET = WordTokenizer(["A", "B", "C", "D", "E", "F", "G", "H", "I"])
VARIANTS = {
    "plain": dict(),
    "peeky": dict(peeky=True),
    "bahdanau": dict(attention="bahdanau", bidirectional=True),
    "luong": dict(attention="luong", reverse_source=True),
    "input_feeding": dict(attention="luong_general", input_feeding=True, cell="gru"),
}
MAX_LENGTH = 10


def sharp_generator(**kwargs):
    model = keras_s2s.build_seq2seq(SOURCE.vocabulary_size, TARGET.vocabulary_size,
                                    embedding_dim=8, units=16, **kwargs)
    dense = model.get_layer("decoder").output_dense
    dense.kernel.assign(dense.kernel * 20.0)
    bias = np.zeros(TARGET.vocabulary_size, "float32")
    bias[[0, 2]] = -50.0  # a random model should not emit padding or BOS
    dense.bias.assign(bias)
    return keras_s2s.build_inference_model(model)


def random_sources(n=60, seed=0):
    rng = np.random.default_rng(seed)
    texts = ["".join(rng.choice(list("abcdefghijklmnop"), size=rng.integers(1, 12))) for _ in range(n)]
    return texts, SOURCE.encode(texts).numpy()


@pytest.mark.parametrize("variant", VARIANTS)
def test_keras_saved_model_and_tflite_give_the_same_tokens(variant, tmp_path):
    generator = sharp_generator(**VARIANTS[variant])
    texts, ids = random_sources()
    reference = generator.generate(ids, max_length=MAX_LENGTH)
    saved = export.export_saved_model(generator, tmp_path / "sm", max_length=MAX_LENGTH,
                                      source_tokenizer=SOURCE, target_tokenizer=TARGET)
    loaded = tf.saved_model.load(saved)
    out = loaded.signatures["generate_ids"](source_ids=tf.constant(ids))
    np.testing.assert_array_equal(out["ids"].numpy(), reference["ids"][:, 0])
    np.testing.assert_allclose(out["scores"].numpy(), reference["scores"][:, 0], rtol=1e-4)
    text = loaded.signatures["serving_default"](source_text=tf.constant(texts))["target_text"]
    expected = TARGET.decode(reference["ids"][:, 0]).numpy()
    np.testing.assert_array_equal(text.numpy(), expected)

    path = export.export_tflite(generator, tmp_path / "m.tflite", max_length=MAX_LENGTH,
                                source_tokenizer=SOURCE, target_tokenizer=TARGET)
    assert not [op for op in export.tflite_ops(path) if "FLEX" in op.upper() or "CUSTOM" in op.upper()]
    decoder = export.TFLiteGreedyDecoder(path)
    for row, text in enumerate(texts):
        out = decoder(ids[row, : len(text)])
        np.testing.assert_array_equal(out["ids"], reference["ids"][row, 0])
        assert out["length"] == reference["lengths"][row, 0]
    assert (tmp_path / "m.source_vocab.txt").read_text().splitlines() == SOURCE.vocabulary

    quantized = export.TFLiteGreedyDecoder(export.export_tflite(
        generator, tmp_path / "q.tflite", max_length=MAX_LENGTH, quantization="dynamic_range"))
    agree = total = 0
    for row, text in enumerate(texts):
        ref = reference["ids"][row, 0][: reference["lengths"][row, 0]]
        got = quantized(ids[row, : len(text)])["ids"][: len(ref)]
        agree += int((got == ref).sum())
        total += len(ref)
    assert agree / total >= 0.99, agree / total
    assert (tmp_path / "q.tflite").stat().st_size < (tmp_path / "m.tflite").stat().st_size


def test_beam_saved_model_matches_generate(tmp_path):
    generator = sharp_generator(attention="bahdanau")
    _, ids = random_sources(20, 1)
    reference = generator.generate(ids, max_length=MAX_LENGTH, strategy="beam", num_beams=3)
    path = export.export_saved_model(generator, tmp_path, max_length=MAX_LENGTH, strategy="beam",
                                     num_beams=3)
    out = tf.saved_model.load(path).signatures["generate_ids"](source_ids=tf.constant(ids))
    np.testing.assert_array_equal(out["ids"].numpy(), reference["ids"][:, 0])
    info = json.loads((pathlib.Path(path) / "assets.extra" / "keras_s2s.json").read_text())
    assert info["strategy"] == "beam" and info["num_beams"] == 3
    assert path.endswith("/1")


FRESH = """
import sys
for blocked in ("keras", "keras_s2s", "tensorflow_text", "tf_keras"):
    sys.modules[blocked] = None  # any import of these now fails
import tensorflow as tf
model = tf.saved_model.load(sys.argv[1])
out = model.signatures["serving_default"](source_text=tf.constant(["abc", "", "xyz!", "ponm"]))
print("|".join(s.decode() for s in out["target_text"].numpy()))
print("LOADED", sorted(m for m in sys.modules if m.split(".")[0] in ("keras", "keras_s2s",
      "tensorflow_text") and sys.modules[m] is not None))
"""


def test_fresh_process_with_only_tensorflow_and_serving_input(tmp_path):
    generator = sharp_generator(attention="luong")
    path = export.export_saved_model(generator, tmp_path, max_length=MAX_LENGTH,
                                     source_tokenizer=SOURCE, target_tokenizer=TARGET,
                                     max_source_length=8)
    script = tmp_path / "serve.py"
    script.write_text(FRESH)
    result = subprocess.run([sys.executable, str(script), path], capture_output=True, text=True,
                            timeout=300, env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "LOADED []"
    outputs = lines[-2].split("|")
    assert np.all(SOURCE.encode(["xyz!"]).numpy() == 1)  # outside the vocabulary: UNK
    expected = TARGET.decode(generator.generate(SOURCE.encode(["abc", "xyz!", "ponm"]).numpy(),
                                                max_length=MAX_LENGTH)["ids"][:, 0]).numpy()
    assert outputs[0] == expected[0].decode() and outputs[1] == ""
    assert outputs[2] == expected[1].decode() and outputs[3] == expected[2].decode()
    # sources longer than max_source_length are truncated to it
    long = "abcdefghijklmnop"
    loaded = tf.saved_model.load(path)
    cut = loaded.signatures["serving_default"](source_text=tf.constant([long, long[:8]]))["target_text"]
    assert cut.numpy()[0] == cut.numpy()[1]


def test_saved_model_cli_runs_serving_default(tmp_path):
    generator = sharp_generator()
    path = export.export_saved_model(generator, tmp_path, max_length=MAX_LENGTH,
                                     source_tokenizer=SOURCE, target_tokenizer=TARGET)
    cli = [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    run = subprocess.run(cli + ["run", "--dir", path, "--tag_set", "serve", "--signature_def",
                                "serving_default", "--input_exprs", "source_text=['abc','fed']"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    expected = TARGET.decode(generator.generate(SOURCE.encode(["abc", "fed"]).numpy(),
                                                max_length=MAX_LENGTH)["ids"][:, 0]).numpy()
    for text in expected:
        assert repr(text)[2:-1] in run.stdout


def test_bad_export_arguments(tmp_path):
    generator = sharp_generator()
    with pytest.raises(ValueError, match="max_length=0"):
        export.export_saved_model(generator, tmp_path, max_length=0)
    with pytest.raises(ValueError, match="max_length=-1"):
        export.export_tflite(generator, tmp_path / "m.tflite", max_length=-1)
    with pytest.raises(ValueError, match="quantization='int4'"):
        export.export_tflite(generator, tmp_path / "m.tflite", max_length=4, quantization="int4")
    with pytest.raises(ValueError, match="strategy='sample'"):
        export.export_saved_model(generator, tmp_path, max_length=4, strategy="sample")
    with pytest.raises(TypeError, match="build_inference_model"):
        export.export_saved_model(generator.model, tmp_path, max_length=4)
    with pytest.raises(ValueError, match="both"):
        export.export_saved_model(generator, tmp_path, max_length=4, source_tokenizer=SOURCE)
    with pytest.raises(ValueError, match="target tokenizer has 4 tokens.*13"):
        export.export_saved_model(generator, tmp_path, max_length=4, source_tokenizer=SOURCE,
                                  target_tokenizer=WordTokenizer([]))
    unbuilt = keras_s2s.build_inference_model(keras_s2s.build_seq2seq(5, 5, embedding_dim=2, units=2))
    unbuilt.model.built = False
    with pytest.raises(ValueError, match="not built"):
        export.export_tflite(unbuilt, tmp_path / "m.tflite", max_length=4)
