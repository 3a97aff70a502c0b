import pathlib
import re

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = ci_lines[-1]
    blocks = re.findall(r"```bash\n(.*?)```", readme, re.S)
    assert blocks, "README has no bash block"
    assert command in [line.strip() for line in blocks[0].splitlines()]


def python_block(containing):
    """The README's ```python block holding `containing`."""
    readme = (ROOT / "README.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", readme, re.S) if containing in b]
    assert len(blocks) == 1, containing
    return blocks[0]


def namespace():
    import keras
    import numpy as np
    import tensorflow as tf

    import keras_s2s

    return {"keras": keras, "np": np, "tf": tf, "keras_s2s": keras_s2s}


@pytest.mark.slow
def test_readme_feature_input_snippet_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(python_block("make_feature_dataset(frames"), namespace())
    assert (tmp_path / "export" / "frames" / "1" / "saved_model.pb").is_file()
    assert (tmp_path / "export" / "frames.tflite").is_file()
    assert "(4, 1, 5, " in capsys.readouterr().out


@pytest.mark.slow
def test_readme_encoder_decoder_and_strategy_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope = namespace()
    exec(python_block("class GRUEncoder"), scope)
    assert (tmp_path / "export" / "mine" / "1" / "saved_model.pb").is_file()
    scope["source_ids"] = np.array([[5, 6, 7, 0], [9, 9, 0, 0]], "int32")
    exec(python_block("class NoToken7"), scope)
    assert scope["out"]["ids"].shape == (2, 1, 30) and not np.any(scope["out"]["ids"] == 7)
    exec(python_block("class MeanContextDecoder"), scope)
    decoder = scope["MeanContextDecoder"](1000, 16, 32, cell="gru")
    outputs, states, mask = scope["encoder"](scope["source_ids"])
    target = np.array([[2, 8, 9], [2, 4, 0]], "int32")
    logits = decoder(target, outputs, states, mask)
    memory = decoder.prepare_memory(outputs, states, mask)
    state = decoder.get_initial_state(states)
    for t in range(3):
        step, state, _ = decoder.step(target[:, t], state, memory)
        np.testing.assert_allclose(step, logits[:, t], atol=1e-5)
