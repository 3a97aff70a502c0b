"""Training runs on disk: train, evaluate, predict from a run directory.

A run directory holds everything needed to use a model again:

    config.json               task, model and training settings
    model.keras               the best model (lowest validation loss)
    source_tokenizer.json     tokenizers (keras_s2s.text.load_tokenizer)
    target_tokenizer.json
    source_vocab.txt          vocabularies, one token per line (line i = id i)
    target_vocab.txt
    history.csv               per-epoch losses and metrics (keras CSVLogger)
    metrics.json              dev/test scores of the final model
    attention.png             attention heatmaps of a few test examples
    backup/                   keras BackupAndRestore state (resumes a killed run)
"""

import dataclasses
import json
import pathlib
import time
import warnings

import keras
import numpy as np

from keras_s2s import _checks
from keras_s2s import datasets as datasets_lib
from keras_s2s import evaluation
from keras_s2s import limits
from keras_s2s.data import compile_padding, make_dataset, read_tsv
from keras_s2s.inference import build_inference_model
from keras_s2s.inference import strategies
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy
from keras_s2s.metrics import MaskedAccuracy
from keras_s2s.models import build_seq2seq, load_model, model_options
from keras_s2s.text import CharTokenizer, SubwordTokenizer, WordTokenizer, load_tokenizer


# Model options a text run can set: build_seq2seq's own (models.model_options),
# less those of feature sources and scheduled sampling (its schedule is a Python
# callable: `keras_s2s.callbacks.ScheduledSampling`). Runs default to a
# bidirectional Luong model.
RUN_MODEL_OPTIONS = {name: option for name, option in model_options().items()
                     if name not in ("num_features", "pyramid_layers", "normalize_features",
                                     "scheduled_sampling")}
_RUN_MODEL_DEFAULTS = dict(embedding_dim=64, bidirectional=True, attention="luong", dropout=0.1)
_RUN_FIELDS = [
    ("task", str, "g2p"), ("tsv", str, None), ("source_tokenizer", str, "char"),
    ("target_tokenizer", str, "word"), ("lowercase_source", bool, False),
]
_TRAINING_FIELDS = [
    ("epochs", int, 10), ("batch_size", int, 128), ("learning_rate", float, 2e-3),
    ("lr_schedule", str, "cosine"), ("warmup_steps", int, 0), ("label_smoothing", float, 0.0),
    ("ema_momentum", float, 0.0), ("clipnorm", float, 5.0), ("patience", int, 3),
    ("seed", int, 0), ("max_train_examples", int, None), ("max_eval_examples", int, None),
    ("num_beams", int, 4), ("subword_vocabulary_size", int, 8000), ("dev_fraction", float, 0.05),
]
TrainConfig = dataclasses.make_dataclass(
    "TrainConfig",
    [(name, kind, dataclasses.field(default=default))
     for name, kind, default in _RUN_FIELDS
     + [(name, option.type, _RUN_MODEL_DEFAULTS.get(name, option.default))
        for name, option in RUN_MODEL_OPTIONS.items()]
     + _TRAINING_FIELDS],
)
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = """Settings of a training run (stored as config.json).

    Model fields are `build_seq2seq`'s options (derived from its signature:
    `RUN_MODEL_OPTIONS`), with run defaults `embedding_dim=64`,
    `bidirectional=True`, `attention="luong"`, `dropout=0.1`; `None` is a
    value where `build_seq2seq` takes it (`attention=None`: no attention).
    `source_tokenizer` and `target_tokenizer` are `"char"`, `"word"` or
    `"subword"`; `lr_schedule` is one of `LR_SCHEDULES` (see
    `learning_rate_schedule`; `warmup_steps` 0 means 5% of all steps),
    `label_smoothing` goes to the loss; `ema_momentum` > 0 keeps an
    exponential moving average of the weights (Polyak averaging, Keras'
    `use_ema`), which validation, checkpoints and the saved model use
    (0: off); `num_beams` is the beam width of the final evaluation
    (1 = greedy).
    """
_NULLABLE = {name for name, option in RUN_MODEL_OPTIONS.items() if option.nullable} | {
    name for name, _, default in _RUN_FIELDS + _TRAINING_FIELDS if default is None}


LR_SCHEDULES = ("cosine", "constant", "warmup_cosine")


def learning_rate_schedule(name, learning_rate, *, total_steps, warmup_steps=None):
    """A learning rate (schedule) by name, from Keras' own schedules.

    - `"constant"`: `learning_rate` throughout.
    - `"cosine"`: `keras.optimizers.schedules.CosineDecay` from
      `learning_rate` to 0 over `total_steps`.
    - `"warmup_cosine"`: linear warm-up from 0 to `learning_rate` over
      `warmup_steps` (Goyal et al. 2017; the Transformer's warm-up), then
      cosine decay to 0 at `total_steps` (`CosineDecay`'s `warmup_target`).

    Args:
        name: one of `LR_SCHEDULES`.
        learning_rate: float > 0, the peak rate.
        total_steps: positive int, optimizer steps of the whole run.
        warmup_steps: positive int, or `None` for 5% of `total_steps` (at
            least 1); at most `total_steps - 1`. `"warmup_cosine"` only.

    Returns:
        A float or a `keras.optimizers.schedules.LearningRateSchedule`.

    Raises:
        ValueError: unknown name or bad step counts.
    """
    _checks.one_of("lr_schedule", name, LR_SCHEDULES)
    total_steps = _checks.positive_int("total_steps", total_steps)
    if name == "constant":
        return learning_rate
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)
    if warmup_steps is None:
        warmup_steps = max(1, total_steps // 20)
    warmup_steps = min(_checks.positive_int("warmup_steps", warmup_steps), max(1, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, total_steps - warmup_steps), warmup_target=learning_rate,
        warmup_steps=warmup_steps)


# Defaults per task; command-line flags override them.
TASK_DEFAULTS = {
    # Label smoothing 0.1, peak learning rate 3e-3, no dropout: dev/test WER 27.75%/29.14% vs 29.83%/31.05%
    # (2e-3, no smoothing, dropout 0.1) at the same cost; chosen on dev WER among three such candidates
    # (benchmarks/g2p_variants.py: `bilstm_luong_ls_lr3_dropout0`), all before layers.Embedding's
    # standard Adam update; with it 28.59%/29.46%.
    "g2p": dict(source_tokenizer="char", target_tokenizer="word", lowercase_source=True,
                label_smoothing=0.1, learning_rate=3e-3, dropout=0.0),
    # Linear attentional layer, sources in reading order: 99.90% at epoch 3 on English dates
    # vs 63.02% with tanh and reversal (benchmarks/dlfs2_ablation.py).
    "dates": dict(source_tokenizer="char", target_tokenizer="char", epochs=6, units=256,
                  bidirectional=False, attention="luong", attention_activation=None, dropout=0.0,
                  reverse_source=False),
    "addition": dict(source_tokenizer="char", target_tokenizer="char", embedding_dim=16, units=128,
                     bidirectional=False, attention=None, peeky=True, reverse_source=True,
                     dropout=0.0, epochs=25, learning_rate=1e-3, batch_size=128),
    "tsv": dict(source_tokenizer="subword", target_tokenizer="subword", embedding_dim=128,
                dropout=0.2, epochs=10),
}
TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "subword": SubwordTokenizer}


def task_config(task, tsv=None, **overrides):
    """A `TrainConfig` for a task with its defaults, then `overrides` (every
    given value counts, `None` included: `attention=None` is no attention).

    Raises:
        ValueError: unknown task, or `--tsv` missing/given wrongly.
    """
    if tsv is not None:
        task = "tsv"
    _checks.one_of("task", task, tuple(TASK_DEFAULTS))
    if task == "tsv" and tsv is None:
        raise ValueError("task 'tsv' needs a file: pass tsv=PATH (--tsv PATH).")
    config = {**TASK_DEFAULTS[task], **overrides}
    config = TrainConfig(task=task, tsv=None if tsv is None else str(tsv), **config)
    return config_from_dict(dataclasses.asdict(config), "training settings")


def read_json(path):
    """Reads a JSON file; any damage is a ValueError naming the file.

    Raises:
        FileNotFoundError: no file. ValueError: not UTF-8, not JSON, or
            nested too deeply to parse.
    """
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except (ValueError, RecursionError, OSError) as error:  # JSON and UTF-8 errors are ValueErrors
        raise ValueError(
            f"{str(path)!r} is not a readable JSON file: {type(error).__name__}: "
            f"{str(error)[:200] or 'empty file'}."
        ) from None


def config_from_dict(values, source="config"):
    """A `TrainConfig` from a dict (a run's config.json "train" section).

    Unknown keys and values of the wrong type are errors; keys it lacks take
    `TrainConfig`'s defaults (settings added after the run was written).

    Raises:
        ValueError: not a dict, unknown keys, or a value of the wrong type
            (the message names `source`, the key and the value).
    """
    if not isinstance(values, dict):
        raise ValueError(f"{source}: the training settings must be a JSON object. "
                         f"Received: {type(values).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{source}: unknown training settings {unknown}. "
                         f"Expected some of {sorted(fields)}.")
    for key, value in values.items():
        expected = fields[key].type
        if value is None and key in _NULLABLE:
            continue
        ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
        if expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
        if not ok:
            raise ValueError(f"{source}: setting {key!r} must be a {expected.__name__}. "
                             f"Received: {key}={value!r}.")
    config = TrainConfig(**values)
    _checks.one_of("task", config.task, tuple(TASK_DEFAULTS))
    _checks.one_of("source_tokenizer", config.source_tokenizer, tuple(TOKENIZERS))
    _checks.one_of("target_tokenizer", config.target_tokenizer, tuple(TOKENIZERS))
    _checks.one_of("lr_schedule", config.lr_schedule, LR_SCHEDULES)
    _checks.non_negative_int("warmup_steps", config.warmup_steps)
    _checks.probability("label_smoothing", config.label_smoothing)
    _checks.probability("ema_momentum", config.ema_momentum)
    for name, cap in (("num_beams", limits.MAX_NUM_SEQUENCES), ("units", limits.MAX_UNITS),
                      ("embedding_dim", limits.MAX_UNITS), ("num_layers", limits.MAX_LAYERS),
                      ("epochs", None), ("batch_size", None)):
        _checks.positive_int(name, getattr(config, name), cap)
    if config.encoder_units is not None:
        _checks.positive_int("encoder_units", config.encoder_units, limits.MAX_UNITS)
    for name in ("learning_rate", "clipnorm"):
        _checks.real(name, getattr(config, name), 0.0, float("inf"), low_inclusive=False)
    return config


def load_splits(config):
    """The train/dev/test `Split`s of a config's task (dev = test if absent)."""
    if config.task == "tsv":
        table = read_tsv(config.tsv)
        if not table.sources:
            raise ValueError(
                f"{config.tsv!r} has no usable 'source<TAB>target' lines "
                f"({table.skipped} malformed lines skipped)."
            )
        rng = np.random.default_rng(config.seed)
        if len(table.sources) < 3:
            raise ValueError(
                f"{config.tsv!r} has {len(table.sources)} usable 'source<TAB>target' line(s); "
                "training needs at least 3 (train, dev and test each get one or more)."
            )
        order = rng.permutation(len(table.sources))
        n_held = max(1, int(len(order) * config.dev_fraction))
        pick = lambda idx: datasets_lib.Split(  # noqa: E731
            [table.sources[i] for i in idx], [table.targets[i] for i in idx],
            [[table.targets[i]] for i in idx])
        splits = {"train": pick(order[2 * n_held:]), "dev": pick(order[:n_held]),
                  "test": pick(order[n_held:2 * n_held])}
    else:
        splits = datasets_lib.load(config.task)
        if "dev" not in splits:
            splits["dev"] = splits["test"]
    if config.max_train_examples:
        splits["train"] = splits["train"].head(config.max_train_examples)
    if config.max_eval_examples:
        splits["dev"] = splits["dev"].head(config.max_eval_examples)
        splits["test"] = splits["test"].head(config.max_eval_examples)
    return splits


def _make_tokenizer(kind, texts, config, lowercase=False):
    if kind == "subword":
        return SubwordTokenizer.from_texts(texts, config.subword_vocabulary_size, lowercase=lowercase)
    return TOKENIZERS[kind].from_texts(texts, lowercase=lowercase)


class Run:
    """A model with its tokenizers and config, loaded from or saved to a run directory."""

    def __init__(self, model, source_tokenizer, target_tokenizer, config, max_length):
        self.max_length = _checks.positive_int("max_length", max_length,
                                               limits.MAX_GENERATION_LENGTH)
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.config = config
        self.generator = build_inference_model(model)
        self.generator.check_tokenizers(source_tokenizer, target_tokenizer)

    @classmethod
    def load(cls, run_dir):
        """Loads a run directory written by `train`.

        Every file is checked before it is used: config.json's keys and
        types, `max_length` within `keras_s2s.limits.MAX_GENERATION_LENGTH`,
        the model file (safe mode), and tokenizer sizes equal to the model's
        vocabularies.

        Raises:
            FileNotFoundError: the directory or one of its files is missing.
            ValueError: a damaged or inconsistent file, named in the message.
        """
        run_dir = pathlib.Path(run_dir)
        for name in ("config.json", "model.keras", "source_tokenizer.json", "target_tokenizer.json"):
            if not (run_dir / name).is_file():
                raise FileNotFoundError(
                    f"{str(run_dir)!r} is not a complete run directory: {name} is missing "
                    "(train one with `keras-s2s train`)."
                )
        config_path = run_dir / "config.json"
        stored = read_json(config_path)
        missing = [k for k in ("train", "max_length") if not isinstance(stored, dict) or k not in stored]
        if missing:
            raise ValueError(f"{str(config_path)!r} lacks {missing}: it was not written by "
                             "`keras-s2s train`, or was edited.")
        config = config_from_dict(stored["train"], repr(str(config_path)))
        source_tokenizer = load_tokenizer(run_dir / "source_tokenizer.json")
        target_tokenizer = load_tokenizer(run_dir / "target_tokenizer.json")
        model = load_model(run_dir / "model.keras")
        try:
            return cls(model, source_tokenizer, target_tokenizer, config, stored["max_length"])
        except (ValueError, TypeError) as error:
            raise type(error)(f"{str(run_dir)!r}: {error}") from None

    def translate(self, texts, *, batch_size=512, num_beams=1, return_attention=False,
                  max_source_length=limits.MAX_SOURCE_LENGTH):
        """Generates target strings for source strings (greedy or beam).

        Sources are cut to `max_source_length` tokens (on the ragged tokens,
        before padding), as the exported models do. A text with no tokens
        (e.g. `""`) gives `""`.

        Args:
            texts: a str, or a list of str.
            batch_size: positive int. Defaults to 512.
            num_beams: int in [1, `limits.MAX_NUM_SEQUENCES`]; 1 is greedy.
                Defaults to 1.
            return_attention: bool. Defaults to `False`.
            max_source_length: positive int. Defaults to
                `keras_s2s.limits.MAX_SOURCE_LENGTH`.

        Returns:
            A list of str (a str for a str), or `(outputs, list of attention
            arrays [T, S])` with `return_attention`.

        Raises:
            TypeError, ValueError: bad `num_beams`, `batch_size` or texts.
        """
        if isinstance(texts, str):
            result = self.translate([texts], batch_size=batch_size, num_beams=num_beams,
                                    return_attention=return_attention,
                                    max_source_length=max_source_length)
            return (result[0][0], result[1]) if return_attention else result[0]
        batch_size = _checks.positive_int("batch_size", batch_size)
        num_beams = _checks.positive_int("num_beams", num_beams, limits.MAX_NUM_SEQUENCES)
        max_source_length = _checks.positive_int("max_source_length", max_source_length)
        outputs, attentions = [], []
        strategy = strategies.BeamSearch(num_beams) if num_beams > 1 else strategies.GreedySearch()
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            ids = self.source_tokenizer.encode(chunk, max_length=max_source_length).numpy()
            result = self.generator.generate(ids, max_length=self.max_length, strategy=strategy)
            best = result["ids"][:, 0]
            outputs.extend(s.decode("utf-8") for s in self.target_tokenizer.decode(best).numpy())
            if return_attention and "attention" in result:
                for row, n in enumerate(result["lengths"][:, 0]):
                    attentions.append(result["attention"][row, 0, :n, : int((ids[row] != 0).sum())])
        return (outputs, attentions) if return_attention else outputs

    def evaluate(self, split, num_beams=1):
        """Scores on a `Split`: WER/PER for G2P, exact match always, BLEU/chrF for TSV."""
        predictions = self.translate(split.sources, num_beams=num_beams)
        scores = {"examples": len(predictions),
                  "exact_match": evaluation.exact_match(predictions, split.references)}
        if self.config.task == "g2p":
            scores.update(evaluation.g2p_error_rates(predictions, split.references))
        if self.config.task == "tsv":
            scores.update(evaluation.bleu_and_chrf(predictions, split.references))
        return scores, predictions


def train(config, run_dir, *, verbose=1, log=print):
    """Trains a model for `config`, writes the run directory, evaluates it.

    Uses Keras callbacks: `BackupAndRestore` (a killed run restarted with the
    same command resumes at its last finished epoch), `ModelCheckpoint` of
    the best validation loss, `EarlyStopping(patience)` and `CSVLogger`;
    with `config.ema_momentum > 0`, Adam's `use_ema` and `SwapEMAWeights`, so
    validation, early stopping and the checkpoint see the averaged weights.

    Returns:
        The metrics dict written to metrics.json.
    """
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = load_splits(config)
    train_split = splits["train"]
    if not train_split.sources:
        raise ValueError(f"Task {config.task!r} has no training examples.")
    log("data: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))
    source_tokenizer, target_tokenizer = _write_tokenizers_and_config(config, train_split, run_dir)
    model = build_seq2seq(
        source_tokenizer.vocabulary_size, target_tokenizer.vocabulary_size,
        **{name: getattr(config, name) for name in RUN_MODEL_OPTIONS},
    )
    train_data = make_dataset(train_split.sources, train_split.targets, source_tokenizer,
                              target_tokenizer, batch_size=config.batch_size, seed=config.seed,
                              pad_to_multiple_of=compile_padding())
    learning_rate = learning_rate_schedule(
        config.lr_schedule, config.learning_rate,
        total_steps=max(1, int(train_data.cardinality()) * config.epochs),
        warmup_steps=config.warmup_steps or None)
    model.compile(
        keras.optimizers.Adam(learning_rate, clipnorm=config.clipnorm, use_ema=config.ema_momentum > 0,
                              ema_momentum=config.ema_momentum),
        MaskedSparseCategoricalCrossentropy(label_smoothing=config.label_smoothing),
        metrics=[MaskedAccuracy()],
    )
    dev = splits["dev"]
    dev_data = make_dataset(dev.sources, dev.targets, source_tokenizer, target_tokenizer,
                            batch_size=512, shuffle=False, pad_to_multiple_of=compile_padding())
    callbacks = _run_callbacks(config, run_dir)
    start = time.perf_counter()
    with warnings.catch_warnings():
        # Bucketed datasets have unknown cardinality; Keras warns at each epoch end.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        history = model.fit(train_data, validation_data=dev_data, epochs=config.epochs,
                            callbacks=callbacks, verbose=verbose, shuffle=False)
    train_seconds = time.perf_counter() - start
    metrics = {"train_seconds": round(train_seconds, 1),
               "epochs_run": len(history.history.get("loss", [])),
               "parameters": int(model.count_params())}
    return _evaluate_run(Run.load(run_dir), splits, config, metrics, run_dir)


def _write_tokenizers_and_config(config, train_split, run_dir):
    """Fits both tokenizers on the training split, writes them and config.json (with `max_length`:
    the longest training target + EOS + a quarter of slack, at least 2)."""
    source_tokenizer = _make_tokenizer(config.source_tokenizer, train_split.sources, config,
                                       config.lowercase_source)
    target_tokenizer = _make_tokenizer(config.target_tokenizer, train_split.targets, config)
    source_tokenizer.save(run_dir / "source_tokenizer.json")
    target_tokenizer.save(run_dir / "target_tokenizer.json")
    source_tokenizer.save_vocabulary(run_dir / "source_vocab.txt")
    target_tokenizer.save_vocabulary(run_dir / "target_vocab.txt")
    longest = int(target_tokenizer.encode_ragged(train_split.targets).row_lengths().numpy().max())
    max_length = longest + 1 + max(2, longest // 4)
    (run_dir / "config.json").write_text(json.dumps(
        {"train": dataclasses.asdict(config), "max_length": max_length,
         "source_vocabulary_size": source_tokenizer.vocabulary_size,
         "target_vocabulary_size": target_tokenizer.vocabulary_size}, indent=2))
    return source_tokenizer, target_tokenizer


def _run_callbacks(config, run_dir):
    """Backup, (EMA swap,) best checkpoint, early stopping, CSV log, in that order.

    With EMA, SwapEMAWeights puts the averaged weights in the model during validation and from each
    epoch's end to the next epoch's start, so the callbacks after it checkpoint and judge them; the
    backup comes before it and so holds the training weights as they are (a resumed run continues them).
    """
    callbacks = [keras.callbacks.BackupAndRestore(str(run_dir / "backup"))]
    if config.ema_momentum > 0:
        callbacks.append(keras.callbacks.SwapEMAWeights(swap_on_epoch=True))
    return callbacks + [
        keras.callbacks.ModelCheckpoint(str(run_dir / "model.keras"), monitor="val_loss",
                                        save_best_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience),
        keras.callbacks.CSVLogger(str(run_dir / "history.csv"), append=True),
    ]


def _evaluate_run(run, splits, config, metrics, run_dir):
    """Scores dev and test with `config.num_beams` beams, writes metrics.json (and the attention plot)."""
    for name in ("dev", "test"):
        scores, predictions = run.evaluate(splits[name], num_beams=config.num_beams)
        metrics[name] = scores
        if name == "test":
            metrics["samples"] = [
                {"source": s, "prediction": p, "references": r}
                for s, p, r in list(zip(splits[name].sources, predictions, splits[name].references))[:10]
            ]
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False))
    if run.generator.has_attention:
        plot_attention(run, splits["test"].sources[:4], run_dir / "attention.png")
    return metrics


def plot_attention(run, texts, path):
    """Saves attention heatmaps (matplotlib) of `texts` to `path` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs, attentions = run.translate(texts, return_attention=True)
    fig, axes = plt.subplots(1, len(texts), figsize=(4 * len(texts), 4), squeeze=False)
    for ax, text, out, weights in zip(axes[0], texts, outputs, attentions):
        ids = run.source_tokenizer.encode([text]).numpy()[0]
        source = [run.source_tokenizer.vocabulary[i] for i in ids]
        target_ids = run.target_tokenizer.encode([out], add_eos=True).numpy()[0][: weights.shape[0]]
        target = [run.target_tokenizer.vocabulary[i] for i in target_ids]
        ax.imshow(weights[: len(target)], cmap="viridis", aspect="auto", vmin=0, vmax=1)
        ax.set_xticks(range(len(source)), source, fontsize=8)
        ax.set_yticks(range(len(target)), target, fontsize=8)
        ax.set_title(f"{text} -> {out}", fontsize=9)
        ax.set_xlabel("source")
    axes[0][0].set_ylabel("output")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
