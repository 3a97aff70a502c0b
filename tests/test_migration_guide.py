"""Every code block of docs/migrating_from_tfa.md runs, in order, in one namespace."""

import pathlib
import re

import pytest

GUIDE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "migrating_from_tfa.md"


@pytest.mark.slow
def test_every_snippet_of_the_migration_guide_runs():
    blocks = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)
    assert len(blocks) == 6
    namespace = {}
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), namespace)
    assert namespace["history"].history["loss"][0] > 0


def test_the_guide_names_every_tfa_piece_and_default():
    text = GUIDE.read_text()
    for piece in ["BahdanauAttention", "LuongAttention", "AttentionWrapper", "attention_layer_size",
                  "output_attention", "alignment_history", "BasicDecoder", "BeamSearchDecoder",
                  "length_penalty_weight", "coverage_penalty_weight", "tile_batch", "sequence_loss",
                  "dynamic_decode", "maximum_iterations", 'attention="luong_general"', "input_feeding=True",
                  "length_penalty=0.0", "attention_activation=None"]:
        assert piece in text, piece
