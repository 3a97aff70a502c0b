import json

import pytest

from keras_s2s.runs import cli

TINY = ["--epochs", "1", "--units", "16", "--embedding-dim", "8", "--max-train-examples", "400",
        "--max-eval-examples", "40", "--quiet"]


@pytest.mark.slow
def test_train_g2p_smoke_writes_every_run_file(tmp_path, capsys):
    run_dir = tmp_path / "g2p"
    assert cli.main(["train", "g2p", "--run-dir", str(run_dir), *TINY]) == 0
    out = capsys.readouterr().out
    assert "dev: 40 examples" in out and "WER" in out and "PER" in out
    for name in ["config.json", "metrics.json", "model.keras", "source_tokenizer.json",
                 "target_tokenizer.json", "source_vocab.txt", "target_vocab.txt", "history.csv",
                 "attention.png"]:
        assert (run_dir / name).is_file(), name
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert 0 <= metrics["test"]["wer"] <= 1 and metrics["epochs_run"] == 1
    assert (run_dir / "attention.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["predict", str(run_dir), "hello", "ÜNKNOWN-chars"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("hello\t") and len(lines) == 2
    assert cli.main(["evaluate", str(run_dir), "--split", "dev"]) == 0
    assert json.loads(capsys.readouterr().out)["dev"]["examples"] == 40
    assert cli.main(["export", str(run_dir), "--format", "saved_model", "--out", str(tmp_path / "sm")]) == 0
    assert (tmp_path / "sm" / "1" / "saved_model.pb").is_file()
    assert cli.main(["export", str(run_dir), "--format", "tflite", "--out", str(tmp_path / "g2p.tflite"),
                     "--quantization", "dynamic_range"]) == 0
    assert (tmp_path / "g2p.tflite").is_file() and (tmp_path / "g2p.target_vocab.txt").is_file()


@pytest.mark.slow
def test_train_tsv_smoke(tmp_path, capsys):
    import pathlib

    tsv = pathlib.Path(__file__).parent / "data" / "en_fr_tiny.tsv"
    run_dir = tmp_path / "tsv"
    args = ["train", "--tsv", str(tsv), "--run-dir", str(run_dir), "--source-tokenizer", "word",
            "--target-tokenizer", "word", *TINY]
    assert cli.main(args) == 0
    assert "BLEU" in capsys.readouterr().out
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert "chrf" in metrics["test"]


def test_bad_input(tmp_path, capsys):
    assert cli.main(["train", "g2q"]) == 2
    assert "task='g2q'" in capsys.readouterr().err
    assert cli.main(["train"]) == 2
    assert "Name a task" in capsys.readouterr().err
    assert cli.main(["train", "--tsv", str(tmp_path / "none.tsv"), "--run-dir", str(tmp_path / "r")]) == 2
    assert "No TSV file" in capsys.readouterr().err
    empty = tmp_path / "empty.tsv"
    empty.write_text("no tabs\nat all\n")
    assert cli.main(["train", "--tsv", str(empty), "--run-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "no usable" in err and "2 malformed" in err
    assert cli.main(["predict", str(tmp_path), "x"]) == 2
    assert "config.json is missing" in capsys.readouterr().err


def test_model_flags_and_run_fields_come_from_build_seq2seq(capsys):
    import dataclasses
    import inspect

    import keras_s2s
    from keras_s2s import runs

    signature = inspect.signature(keras_s2s.build_seq2seq).parameters
    text_options = [n for n, p in signature.items() if p.kind is p.KEYWORD_ONLY
                    and n not in ("name", "num_features", "scheduled_sampling")]
    fields = [f.name for f in dataclasses.fields(runs.TrainConfig)]
    assert [f for f in fields if f in signature] == text_options  # residual, encoder_units too
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--help"])
    usage = capsys.readouterr().out
    for name in text_options:
        assert "--" + name.replace("_", "-") in usage, name
    assert "GNMT" in usage  # the help is build_seq2seq's docstring (residual's entry)

    def parsed(*argv):
        args = parser.parse_args(["train", "g2p", *argv])
        return {k: v for k, v in vars(args).items() if k in fields}

    assert "attention" not in parsed()  # not given is absent, not None
    assert parsed("--attention", "none")["attention"] is None
    assert parsed("--encoder-units", "32", "--residual")["encoder_units"] == 32
    config = runs.task_config("g2p", attention=None)
    assert config.attention is None and config.bidirectional  # None is a value, not "not given"
    g2p = runs.task_config("g2p")
    assert g2p.attention == "luong"
    # the main job's training (README, BENCHMARKS.md): flags override it, other tasks keep the run defaults
    assert (g2p.label_smoothing, g2p.learning_rate, g2p.dropout) == (0.1, 3e-3, 0.0)
    flags = parsed("--learning-rate", "0.002", "--dropout", "0.1")
    assert flags == {"task": "g2p", "tsv": None, "learning_rate": 0.002, "dropout": 0.1}
    config = runs.task_config("g2p", learning_rate=flags["learning_rate"], dropout=flags["dropout"])
    assert (config.label_smoothing, config.learning_rate, config.dropout) == (0.1, 0.002, 0.1)
    assert runs.task_config("tsv", tsv="x.tsv").label_smoothing == 0.0
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "g2p", "--cell", "rnn"])


@pytest.mark.slow
def test_train_morse_smoke_evaluate_and_export(tmp_path, capsys):
    run_dir = tmp_path / "morse"
    assert cli.main(["train", "morse", "--run-dir", str(run_dir), "--epochs", "1", "--units", "16",
                     "--max-train-examples", "64", "--max-eval-examples", "24", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "test_10db: 24 examples" in out and "CER" in out and "test_20db" in out
    for name in ["config.json", "metrics.json", "model.keras", "target_tokenizer.json", "history.csv",
                 "attention.png"]:
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "source_tokenizer.json").exists()  # frames in: no source text
    assert cli.main(["evaluate", str(run_dir), "--num-beams", "4"]) == 0  # the config's beams
    scores = json.loads(capsys.readouterr().out)
    stored = json.loads((run_dir / "metrics.json").read_text())
    assert scores == {name: stored[name] for name in ("test_10db", "test_20db")}  # the audio renders again exactly
    assert cli.main(["export", str(run_dir), "--format", "saved_model", "--out", str(tmp_path / "sm")]) == 0
    assert (tmp_path / "sm" / "1" / "saved_model.pb").is_file()
    assert cli.main(["export", str(run_dir), "--format", "tflite", "--out", str(tmp_path / "m.tflite")]) == 0
    assert cli.main(["predict", str(run_dir), "x"]) == 2
    assert "not text" in capsys.readouterr().err
    assert cli.main(["evaluate", str(run_dir), "--split", "test"]) == 2
    assert "test_10db" in capsys.readouterr().err  # names the splits it has
    # a run directory of keras_s2s 0.1's feature_runs (its config.json layout) still loads
    from keras_s2s import runs

    (run_dir / "config.json").write_text(json.dumps({"train": {
        "task": "morse", "examples": 64, "epochs": 1, "units": 16, "num_test": 24, "seed": 0}, "max_length": 10}))
    old = runs.Run.load(run_dir)
    assert (old.config.max_train_examples, old.config.max_eval_examples, old.config.units) == (64, 24, 16)
    assert old.max_length == 10 and old.source_tokenizer is None


@pytest.mark.slow
def test_ema_momentum_validates_and_checkpoints_the_averaged_weights(tmp_path):
    import numpy as np

    from keras_s2s import runs
    from keras_s2s.data import compile_padding, make_dataset
    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    tiny = dict(epochs=1, units=16, embedding_dim=8, max_train_examples=256, max_eval_examples=40,
                patience=100, num_beams=1)
    with pytest.raises(ValueError, match="ema_momentum"):
        runs.task_config("addition", ema_momentum=1.0, **tiny)
    saved = {}
    for momentum in (0.0, 0.9):
        config = runs.task_config("addition", ema_momentum=momentum, **tiny)
        run_dir = tmp_path / f"ema_{momentum}"
        runs.train(config, run_dir, verbose=0, log=lambda *a: None)
        run = runs.Run.load(run_dir)
        saved[momentum] = run.model.get_weights()
        assert json.loads((run_dir / "config.json").read_text())["train"]["ema_momentum"] == momentum
        dev = runs.load_splits(config)["dev"]
        dev_data = make_dataset(dev.sources, dev.targets, run.source_tokenizer, run.target_tokenizer,
                                batch_size=512, shuffle=False, pad_to_multiple_of=compile_padding())
        run.model.compile(loss=MaskedSparseCategoricalCrossentropy())
        history = np.genfromtxt(run_dir / "history.csv", delimiter=",", names=True)
        # the checkpoint holds the weights that validation judged best
        np.testing.assert_allclose(run.model.evaluate(dev_data, verbose=0, return_dict=True)["loss"],
                                   history["val_loss"].min(),
                                   rtol=1e-4)
    # The same seed without EMA trains the same weights (the difference was exactly 0 when the swap was left
    # out); the average of these few steps lay 5.5e-3 away at most from them.
    assert max(np.abs(a - b).max() for a, b in zip(saved[0.0], saved[0.9])) > 1e-3


@pytest.mark.parametrize("task", ["dates", "g2p", "morse", None])
def test_train_help_shows_the_tasks_real_defaults(task, capsys):
    from keras_s2s import runs

    with pytest.raises(SystemExit):
        cli.main(["train"] + ([task] if task else []) + ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    named = task or "g2p"
    config = runs.task_config(named)  # what a run of the task trains with
    for flag, name in (("--epochs EPOCHS training epochs", "epochs"),
                       ("--batch-size BATCH_SIZE examples per batch", "batch_size"),
                       ("--learning-rate LEARNING_RATE peak Adam learning rate", "learning_rate"),
                       ("--patience PATIENCE early-stopping patience in epochs", "patience"),
                       ("--dev-fraction DEV_FRACTION the share of a TSV corpus held out", "dev_fraction")):
        assert f"{flag}" in text and f"(default for {named}: {getattr(config, name)})" in \
            text.split(flag, 1)[1][:120], flag
    assert f"(default for {named}: {config.dropout})" in text.rsplit("--dropout DROPOUT", 1)[1][:80]
    assert "the task's" not in text
