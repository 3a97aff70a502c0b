"""`train`: one training run of any registered task, written to a run directory."""

import dataclasses
import json
import pathlib
import time
import warnings

import keras

from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy
from keras_s2s.models import build_seq2seq
from keras_s2s.runs import plots
from keras_s2s.runs.config import MODEL_FIELDS, learning_rate_schedule
from keras_s2s.runs.run import Run
from keras_s2s.runs.tasks import get_task, load_splits, make_tokenizer


def train(config, run_dir, *, verbose=1, log=print):
    """Trains a model for `config`, writes the run directory, evaluates it.

    Uses Keras callbacks: `BackupAndRestore` (a killed run restarted with the
    same command resumes at its last finished epoch), `ModelCheckpoint` of
    the best validation loss, `EarlyStopping(patience)` and `CSVLogger`;
    with `config.ema_momentum > 0`, Adam's `use_ema` and `SwapEMAWeights`, so
    validation, early stopping and the checkpoint see the averaged weights.
    The same for every task: text and frame sources differ only in the
    task's source kind (`keras_s2s.runs.tasks`).

    Returns:
        The metrics dict written to metrics.json: `train_seconds`,
        `epochs_run`, `parameters`, the scores of `"dev"` and of each of the
        task's test splits (`config.num_beams` beams), and `samples` (the
        first test split's first ten predictions).
    """
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    task = get_task(config.task)
    splits = load_splits(config)
    train_split = splits["train"]
    if not train_split.sources:
        raise ValueError(f"Task {config.task!r} has no training examples.")
    log("data: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    source_tokenizer, target_tokenizer = _write_tokenizers_and_config(config, task, train_split, run_dir)
    model = build_seq2seq(
        target_vocab_size=target_tokenizer.vocabulary_size,
        **task.source.model_inputs(source_tokenizer, train_split),
        **{field.name: getattr(config, field.name) for field in MODEL_FIELDS},
    )
    task.source.adapt(model, train_split, config)
    train_data = task.source.dataset(train_split, source_tokenizer, target_tokenizer,
                                     batch_size=config.batch_size, seed=config.seed)
    dev_data = task.source.dataset(splits["dev"], source_tokenizer, target_tokenizer, batch_size=512,
                                   shuffle=False)
    _compile(model, config, steps_per_epoch=int(train_data.cardinality()))
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Bucketed datasets have unknown cardinality; Keras warns at each epoch end.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train_data, validation_data=dev_data, epochs=config.epochs,
                            callbacks=_callbacks(config, run_dir), verbose=verbose, shuffle=False)
    metrics = {"train_seconds": round(time.perf_counter() - start, 1),
               "epochs_run": len(history.history.get("loss", [])),
               "parameters": int(model.count_params())}
    return _evaluate(Run.load(run_dir), splits, metrics, run_dir)


def _compile(model, config, steps_per_epoch):
    """Adam (gradient clipping, optional EMA) on the config's schedule, the masked loss and accuracy."""
    learning_rate = learning_rate_schedule(
        config.lr_schedule, config.learning_rate, total_steps=max(1, steps_per_epoch) * config.epochs,
        warmup_steps=config.warmup_steps or None, alpha=config.lr_alpha)
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=config.clipnorm, use_ema=config.ema_momentum > 0,
                              ema_momentum=config.ema_momentum),
        MaskedSparseCategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[MaskedAccuracy()],
    )


def _write_tokenizers_and_config(config, task, train_split, run_dir):
    """Fits the tokenizers on the training split (none for a source that is
    not text), writes them and config.json; `max_length` is the task's, or
    the longest training target + EOS + a quarter of slack (at least 2)."""
    source_tokenizer = task.source.tokenizer(config, train_split)
    target_tokenizer = make_tokenizer(config.target_tokenizer, train_split.targets, config)
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        if tokenizer is not None:
            tokenizer.save(run_dir / f"{side}_tokenizer.json")
            tokenizer.save_vocabulary(run_dir / f"{side}_vocab.txt")
    max_length = task.max_length
    if max_length is None:
        longest = int(target_tokenizer.encode_ragged(train_split.targets).row_lengths().numpy().max())
        max_length = longest + 1 + max(2, longest // 4)
    (run_dir / "config.json").write_text(json.dumps(
        {"train": dataclasses.asdict(config), "max_length": max_length,
         "source_vocabulary_size": None if source_tokenizer is None else source_tokenizer.vocabulary_size,
         "target_vocabulary_size": target_tokenizer.vocabulary_size}, indent=2))
    return source_tokenizer, target_tokenizer


def _callbacks(config, run_dir):
    """Backup, (EMA swap,) best checkpoint, early stopping, CSV log, in that order.

    With EMA, SwapEMAWeights puts the averaged weights in the model during validation and from each
    epoch's end to the next epoch's start, so the callbacks after it checkpoint and judge them; the
    backup comes before it and so holds the training weights as they are (a resumed run continues them).
    """
    callbacks = [keras.callbacks.BackupAndRestore(str(run_dir / "backup"))]
    if config.ema_momentum > 0:
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    return callbacks + [
        keras.callbacks.ModelCheckpoint(str(run_dir / "model.keras"), monitor="val_loss", save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]


def _evaluate(run, splits, metrics, run_dir):
    """Scores dev and the test splits with `config.num_beams` beams, writes
    metrics.json and the attention plot of four test examples."""
    tests = run.task.test_splits
    for name in ("dev", *tests):
        scores, predictions = run.evaluate(splits[name], num_beams=run.config.num_beams)
        metrics[name] = scores
        if name == tests[0]:
            split = splits[name]
            metrics["samples"] = [{"source": s, "prediction": p, "references": r}
                                  for s, p, r in list(zip(split.sources, predictions, split.references))[:10]
                                  if isinstance(s, str)]
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    if run.generator.has_attention:
        plots.plot_attention(run, splits[tests[0]].head(4), run_dir / "attention.png")
    return metrics
