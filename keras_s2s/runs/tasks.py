"""The task registry: what a run trains on, how it is scored, its defaults.

A `Task` names its source kind (`TEXT` or `FRAMES`: how sources become model
inputs), how its splits load from a config, its metrics and its defaults.
`g2p`, `dates`, `addition`, `tsv` and `morse` are entries of `TASKS`; one
config (`TrainConfig`), one `train` and one `Run` serve them all. A task of
your own is one `register_task(Task(...))`.
"""

import dataclasses
import typing

import numpy as np

from keras_s2s import _checks
from keras_s2s import datasets as datasets_lib
from keras_s2s import evaluation
from keras_s2s.data import compile_padding, make_dataset, make_feature_dataset, read_tsv
from keras_s2s.datasets import morse
from keras_s2s.runs.config import FIELDS, TrainConfig, config_from_dict
from keras_s2s.text import CharTokenizer, SubwordTokenizer, WordTokenizer

TOKENIZERS = {"char": CharTokenizer, "word": WordTokenizer, "subword": SubwordTokenizer}


def make_tokenizer(kind, texts, config, lowercase=False):
    """A tokenizer of `kind` ("char", "word" or "subword") fitted on `texts`."""
    if kind == "subword":
        return SubwordTokenizer.from_texts(texts, config.subword_vocabulary_size, lowercase=lowercase)
    return TOKENIZERS[kind].from_texts(texts, lowercase=lowercase)


class TextSource:
    """Sources are strings: a source tokenizer (fitted on the training split)
    turns them into token ids."""

    takes_text = True

    def tokenizer(self, config, train):
        return make_tokenizer(config.source_tokenizer, train.sources, config, config.lowercase_source)

    def model_inputs(self, tokenizer, train):
        """`build_seq2seq`'s source arguments."""
        return {"source_vocab_size": tokenizer.vocabulary_size}

    def adapt(self, model, train, config):
        """Nothing to fit on the data beyond the tokenizer."""

    def dataset(self, split, source_tokenizer, target_tokenizer, **options):
        return make_dataset(split.sources, split.targets, source_tokenizer, target_tokenizer,
                            pad_to_multiple_of=compile_padding(), **options)

    def batch(self, sources, tokenizer, max_source_length):
        """The NumPy batch `generate` reads, and each source's length."""
        ids = tokenizer.encode(list(sources), max_length=max_source_length).numpy()
        return ids, (ids != 0).sum(axis=1)


class FrameSource:
    """Sources are float frames `[S_i, F]` (no source tokenizer); with
    `normalize_features` the encoder's normalization adapts to the training
    frames."""

    takes_text = False

    def tokenizer(self, config, train):
        return None

    def model_inputs(self, tokenizer, train):
        return {"source_vocab_size": None, "num_features": int(np.shape(train.sources[0])[-1])}

    def adapt(self, model, train, config):
        if config.normalize_features:
            model.get_layer("encoder").adapt(train.sources)

    def dataset(self, split, source_tokenizer, target_tokenizer, **options):
        return make_feature_dataset(split.sources, split.targets, target_tokenizer,
                                    pad_to_multiple_of=compile_padding(), **options)

    def batch(self, sources, tokenizer, max_source_length):
        frames, lengths = morse.pad_frames(list(sources))
        return frames[:, :max_source_length], np.minimum(lengths, max_source_length)


TEXT = TextSource()
FRAMES = FrameSource()


@dataclasses.dataclass(frozen=True)
class Task:
    """One entry of the registry.

    Attributes:
        name: the task's name (`keras-s2s train NAME`).
        description: one line for `--help`.
        source: `TEXT` or `FRAMES` (or an object with their methods).
        load: `load(config, names) -> {split name: Split}` with `"train"`,
            `"dev"` and the `test_splits`; `names` (a collection or `None`
            for all) lets a generated dataset render only what is asked.
        test_splits: the splits scored after training beside `"dev"`.
        scores: `scores(predictions, references) -> dict` beyond exact
            match (e.g. WER and PER).
        defaults: settings that differ from the fields' defaults.
        max_length: a fixed decoding length, or `None` to size it from the
            training targets.
    """

    name: str
    description: str
    source: typing.Any
    load: typing.Callable
    test_splits: tuple = ("test",)
    scores: typing.Callable | None = None
    defaults: dict = dataclasses.field(default_factory=dict)
    max_length: int | None = None


TASKS = {}


def register_task(task):
    """Adds `task` to `TASKS` (replacing one of the same name) and returns it.

    Raises:
        ValueError: a default that is not a setting, or not a value of it.
    """
    for key, value in task.defaults.items():
        if key not in FIELDS:
            raise ValueError(f"Task {task.name!r}: unknown default {key!r}. Expected one of {sorted(FIELDS)}.")
        FIELDS[key].check(value, f"task {task.name!r}")
    TASKS[task.name] = task
    return task


def get_task(name):
    """The registered task `name`.

    Raises:
        ValueError: no such task (the message lists them).
    """
    return TASKS[_checks.one_of("task", name, tuple(sorted(TASKS)))]


def task_config(task, tsv=None, **overrides):
    """A `TrainConfig` for a task with its defaults, then `overrides` (every
    given value counts, `None` included: `attention=None` is no attention).

    Raises:
        ValueError: unknown task, `tsv` missing or given with another task,
            or a bad value (named).
    """
    if tsv is not None:
        task = "tsv"
    get_task(task)
    if task == "tsv" and tsv is None:
        raise ValueError("task 'tsv' needs a file: pass tsv=PATH (--tsv PATH).")
    values = {**TASKS[task].defaults, **overrides, "task": task, "tsv": None if tsv is None else str(tsv)}
    return config_from_dict(dataclasses.asdict(TrainConfig(**values)), "training settings")


def load_splits(config, names=None):
    """The splits of a config's task (`"train"`, `"dev"` and its test
    splits), cut to `max_train_examples` / `max_eval_examples`."""
    splits = get_task(config.task).load(config, names)
    if config.max_train_examples and "train" in splits:
        splits["train"] = splits["train"].head(config.max_train_examples)
    if config.max_eval_examples:
        splits.update({name: split.head(config.max_eval_examples)
                       for name, split in splits.items() if name != "train"})
    return splits


def _bundled(config, names):
    splits = datasets_lib.load(config.task)
    splits.setdefault("dev", splits["test"])
    return splits


def _tsv(config, names):
    table = read_tsv(config.tsv)
    if not table.sources:
        raise ValueError(f"{config.tsv!r} has no usable 'source<TAB>target' lines "
                         f"({table.skipped} malformed lines skipped).")
    if len(table.sources) < 3:
        raise ValueError(
            f"{config.tsv!r} has {len(table.sources)} usable 'source<TAB>target' line(s); "
            "training needs at least 3 (train, dev and test each get one or more)."
        )
    order = np.random.default_rng(config.seed).permutation(len(table.sources))
    n_held = max(1, int(len(order) * config.dev_fraction))

    def pick(idx):
        return datasets_lib.Split([table.sources[i] for i in idx], [table.targets[i] for i in idx],
                                  [[table.targets[i]] for i in idx])

    return {"train": pick(order[2 * n_held:]), "dev": pick(order[:n_held]), "test": pick(order[n_held:2 * n_held])}


MORSE_LETTERS = 6  # the longest word


def _morse(config, names):
    """Words rendered as Morse audio: `max_train_examples` training words
    (20,000 by default), `max_eval_examples` dev and test words per noise
    level (500), test words unseen (`keras_s2s.datasets.morse_audio`)."""
    return morse.morse_audio(config.max_train_examples or 20000, config.max_eval_examples or 500,
                             seed=config.seed, max_letters=MORSE_LETTERS, splits=names)


def _g2p_scores(predictions, references):
    return evaluation.g2p_error_rates(predictions, references)


def letter_error_rates(predictions, references):
    """CER and WER of letter strings (`tf.edit_distance`, through
    `g2p_error_rates` on letters joined by spaces: its PER is the CER)."""
    rates = evaluation.g2p_error_rates([" ".join(p) for p in predictions],
                                       [[" ".join(r) for r in refs] for refs in references])
    return {"cer": rates["per"], "wer": rates["wer"]}


for _task in (
    # Label smoothing 0.1, peak learning rate 3e-3, no dropout: dev/test WER 27.75%/29.14% vs 29.83%/31.05%
    # (2e-3, no smoothing, dropout 0.1) at the same cost; chosen on dev WER among three such candidates
    # (benchmarks/g2p_variants.py: `bilstm_luong_ls_lr3_dropout0`), all before layers.Embedding's
    # standard Adam update; with it 28.59%/29.46%.
    Task("g2p", "English words -> ARPAbet phonemes (CMUdict)", TEXT, _bundled, scores=_g2p_scores,
         defaults=dict(source_tokenizer="char", target_tokenizer="word", lowercase_source=True,
                       label_smoothing=0.1, learning_rate=3e-3, dropout=0.0)),
    # Linear attentional layer, sources in reading order: 99.90% at epoch 3 on English dates
    # vs 63.02% with tanh and reversal (benchmarks/dlfs2_ablation.py).
    Task("dates", "dates in many formats and languages -> ISO dates", TEXT, _bundled,
         defaults=dict(source_tokenizer="char", target_tokenizer="char", epochs=6, units=256,
                       bidirectional=False, attention="luong", attention_activation=None, dropout=0.0,
                       reverse_source=False)),
    Task("addition", "'a+b' -> the sum", TEXT, _bundled,
         defaults=dict(source_tokenizer="char", target_tokenizer="char", embedding_dim=16, units=128,
                       bidirectional=False, attention=None, peeky=True, reverse_source=True, dropout=0.0,
                       epochs=25, learning_rate=1e-3, batch_size=128)),
    Task("tsv", "any 'source<TAB>target' corpus (--tsv FILE)", TEXT, _tsv,
         scores=lambda predictions, references: evaluation.bleu_and_chrf(predictions, references),
         defaults=dict(source_tokenizer="subword", target_tokenizer="subword", embedding_dim=128,
                       dropout=0.2, epochs=10)),
    # The recipe of BENCHMARKS.md's Morse rows: a pyramidal bidirectional 2-layer encoder with feature
    # normalization, Luong general attention, cosine decay from 3e-3 to 5% of it, batches of 64.
    Task("morse", "Morse-code audio (log-mel frames) -> the word", FRAMES, _morse,
         test_splits=("test_10db", "test_20db"), scores=letter_error_rates, max_length=MORSE_LETTERS + 4,
         defaults=dict(target_tokenizer="char", embedding_dim=32, units=128, num_layers=2,
                       pyramid_layers=1, normalize_features=True, attention="luong_general", dropout=0.1,
                       epochs=12, batch_size=64, learning_rate=3e-3, lr_alpha=0.05, patience=12)),
):
    register_task(_task)
