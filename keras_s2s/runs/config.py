"""The settings of a training run: every field written once, with its type,
default, bounds, choices and help; `TrainConfig`, the `keras-s2s train` flags
and the checks of a run's config.json are all derived from `FIELDS`."""

import dataclasses
import json
import math
import numbers
import pathlib

import keras

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.models import model_options

TOKENIZER_KINDS = ("char", "word", "subword")


@dataclasses.dataclass(frozen=True)
class Field:
    """One setting of a run.

    Attributes:
        name: the config key (the flag is `--name-with-dashes`).
        type: `bool`, `int`, `float` or `str`.
        default: the value when neither the task nor the user sets one.
        help: one line for `--help`.
        low, high: bounds of a number (`None`: unbounded); `open_low` /
            `open_high` exclude the bound itself.
        choices: the allowed strings, or `None`.
        nullable: whether `None` is a value (e.g. `attention=None`).
        flag: whether `keras-s2s train` has a flag for it.
    """

    name: str
    type: type
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    choices: tuple | None = None
    nullable: bool = False
    flag: bool = True

    def check(self, value, source="config"):
        """`value` if it is a value of this field, else ValueError naming
        `source`, the field, the value and what was expected."""
        if value is None and self.nullable:
            return value
        if not self._is_type(value):
            raise ValueError(f"{source}: setting {self.name!r} must be a {self.type.__name__}"
                             f"{' or null' if self.nullable else ''}. Received: {self.name}={value!r}.")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{source}: setting {self.name!r} must be one of {list(self.choices)}. "
                             f"Received: {self.name}={value!r}.")
        if self.type in (int, float) and not self._in_bounds(value):
            raise ValueError(f"{source}: setting {self.name!r} must be in {self.bounds()}. "
                             f"Received: {self.name}={value!r}.")
        return float(value) if self.type is float else value

    def bounds(self):
        """The allowed range as text, e.g. `[1, 4096]` or `(0, inf)`."""
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{'(' if self.open_low or self.low is None else '['}{low}, {high}" \
               f"{')' if self.open_high or self.high is None else ']'}"

    def _is_type(self, value):
        if self.type is bool:
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if self.type is int:
            return isinstance(value, numbers.Integral)
        if self.type is float:
            return isinstance(value, numbers.Real) and math.isfinite(value)
        return isinstance(value, self.type)

    def _in_bounds(self, value):
        low_ok = self.low is None or (value > self.low if self.open_low else value >= self.low)
        high_ok = self.high is None or (value < self.high if self.open_high else value <= self.high)
        return low_ok and high_ok


def _positive(cap=None):
    return dict(low=1, high=cap)


# Model fields: build_seq2seq's own options (models.model_options: its signature and docstring), less
# `num_features` (runs read it from the data) and `scheduled_sampling` (its schedule is a Python callable:
# keras_s2s.callbacks.ScheduledSampling). Runs default to a bidirectional Luong model.
_MODEL_DEFAULTS = dict(embedding_dim=64, bidirectional=True, attention="luong", dropout=0.1)
_MODEL_BOUNDS = {
    "embedding_dim": _positive(limits.MAX_UNITS), "units": _positive(limits.MAX_UNITS),
    "encoder_units": _positive(limits.MAX_UNITS), "num_layers": _positive(limits.MAX_LAYERS),
    "pyramid_layers": dict(low=0, high=limits.MAX_LAYERS), "dropout": dict(low=0, high=1, open_high=True),
}
MODEL_FIELDS = tuple(
    Field(name, option.type, _MODEL_DEFAULTS.get(name, option.default), option.help,
          choices=option.choices, nullable=option.nullable, **_MODEL_BOUNDS.get(name, {}))
    for name, option in model_options().items() if name not in ("num_features", "scheduled_sampling"))

LR_SCHEDULES = ("cosine", "constant", "warmup_cosine")
_RUN_FIELDS = (
    Field("task", str, "g2p", "the task (keras_s2s.runs.TASKS)", flag=False),
    Field("tsv", str, None, "a 'source<TAB>target' file (task tsv)", nullable=True, flag=False),
    Field("source_tokenizer", str, "char", "how source text is split", choices=TOKENIZER_KINDS),
    Field("target_tokenizer", str, "word", "how target text is split", choices=TOKENIZER_KINDS),
    Field("lowercase_source", bool, False, "lowercase the source text"),
    Field("subword_vocabulary_size", int, 8000, "the size of subword vocabularies",
          **_positive(limits.MAX_VOCAB_SIZE)),
)
TRAINING_FIELDS = (
    Field("epochs", int, 10, "training epochs", **_positive()),
    Field("batch_size", int, 128, "examples per batch", **_positive()),
    Field("learning_rate", float, 2e-3, "peak Adam learning rate", low=0, open_low=True),
    Field("lr_schedule", str, "cosine", "learning-rate schedule (warmup_cosine: linear warm-up, then "
          "cosine decay)", choices=LR_SCHEDULES),
    Field("lr_alpha", float, 0.0, "the cosine schedules' final learning rate, a fraction of the peak "
          "(Keras' CosineDecay alpha)", low=0, high=1),
    Field("warmup_steps", int, 0, "warm-up steps of warmup_cosine (0: 5% of all steps)", low=0),
    Field("label_smoothing", float, 0.0, "label smoothing of the loss", low=0, high=1, open_high=True),
    Field("ema_momentum", float, 0.0, "momentum of an exponential moving average of the weights, which "
          "validation and the saved model use (0: off)", low=0, high=1, open_high=True),
    Field("clipnorm", float, 5.0, "gradient norm clipping of Adam", low=0, open_low=True),
    Field("patience", int, 3, "early-stopping patience in epochs", low=0),
    Field("seed", int, 0, "random seed", low=0),
    Field("max_train_examples", int, None, "use only the first N training examples", nullable=True,
          **_positive()),
    Field("max_eval_examples", int, None, "evaluate on the first N dev/test examples", nullable=True,
          **_positive()),
    Field("num_beams", int, 4, "beams of the final evaluation (1 = greedy)",
          **_positive(limits.MAX_NUM_SEQUENCES)),
    Field("dev_fraction", float, 0.05, "the share of a TSV corpus held out for dev and again for test",
          low=0, high=0.5, open_low=True, open_high=True),
)
FIELDS = {field.name: field for field in _RUN_FIELDS + MODEL_FIELDS + TRAINING_FIELDS}

TrainConfig = dataclasses.make_dataclass(
    "TrainConfig", [(f.name, f.type, dataclasses.field(default=f.default)) for f in FIELDS.values()])
TrainConfig.__module__ = __name__
TrainConfig.__doc__ = """Settings of a training run (stored in config.json under "train").

    One attribute per entry of `keras_s2s.runs.config.FIELDS` (type, default,
    bounds and help there): the model fields are `build_seq2seq`'s options,
    with run defaults `embedding_dim=64`, `bidirectional=True`,
    `attention="luong"`, `dropout=0.1`; `None` is a value where
    `build_seq2seq` takes it (`attention=None`: no attention). A task's own
    defaults (`keras_s2s.runs.TASKS`) come on top (`task_config`).
    """


def config_from_dict(values, source="config"):
    """A `TrainConfig` from a dict (a run's config.json "train" section),
    every value checked by its `Field`.

    Unknown keys are errors; keys it lacks take the fields' defaults
    (settings added after the run was written).

    Raises:
        ValueError: not a dict, an unknown key, or a value of the wrong type
            or outside its bounds or choices (the message names `source`, the
            key and the value).
    """
    if not isinstance(values, dict):
        raise ValueError(f"{source}: the training settings must be a JSON object. "
                         f"Received: {type(values).__name__}.")
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ValueError(f"{source}: unknown training settings {unknown}. Expected some of {sorted(FIELDS)}.")
    return TrainConfig(**{key: FIELDS[key].check(value, source) for key, value in values.items()})


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


def learning_rate_schedule(name, learning_rate, *, total_steps, warmup_steps=None, alpha=0.0):
    """A learning rate (schedule) by name, from Keras' own schedules.

    - `"constant"`: `learning_rate` throughout.
    - `"cosine"`: `keras.optimizers.schedules.CosineDecay` from
      `learning_rate` to `alpha * learning_rate` over `total_steps`.
    - `"warmup_cosine"`: linear warm-up from 0 to `learning_rate` over
      `warmup_steps` (Goyal et al. 2017; the Transformer's warm-up), then
      cosine decay to `alpha * learning_rate` at `total_steps`
      (`CosineDecay`'s `warmup_target`).

    Args:
        name: one of `LR_SCHEDULES`.
        learning_rate: float > 0, the peak rate.
        total_steps: positive int, optimizer steps of the whole run.
        warmup_steps: positive int, or `None` for 5% of `total_steps` (at
            least 1); at most `total_steps - 1`. `"warmup_cosine"` only.
        alpha: float in [0, 1], the final rate as a fraction of the peak.
            Defaults to 0.

    Returns:
        A float or a `keras.optimizers.schedules.LearningRateSchedule`.

    Raises:
        ValueError: unknown name or bad step counts.
    """
    FIELDS["lr_schedule"].check(name, "learning_rate_schedule")
    FIELDS["lr_alpha"].check(alpha, "learning_rate_schedule")
    total_steps = _checks.positive_int("total_steps", total_steps)
    if name == "constant":
        return learning_rate
    if name == "cosine":
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=alpha)
    if warmup_steps is None:
        warmup_steps = max(1, total_steps // 20)
    warmup_steps = min(_checks.positive_int("warmup_steps", warmup_steps), max(1, total_steps - 1))
    return keras.optimizers.schedules.CosineDecay(
        0.0, max(1, total_steps - warmup_steps), alpha=alpha, warmup_target=learning_rate,
        warmup_steps=warmup_steps)
