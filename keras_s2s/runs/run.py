"""`Run`: a trained model with its tokenizers and config, from a run directory."""

import dataclasses
import pathlib

from keras_s2s import _checks
from keras_s2s import evaluation
from keras_s2s import limits
from keras_s2s.inference import build_inference_model
from keras_s2s.inference import strategies
from keras_s2s.models import load_model
from keras_s2s.runs.config import config_from_dict, read_json
from keras_s2s.runs.tasks import get_task, task_config
from keras_s2s.text import load_tokenizer

# config.json of a Morse run written before the run system was one (keras_s2s 0.1's feature_runs):
# its keys -> today's settings.
_MORSE_V1_KEYS = {"examples": "max_train_examples", "num_test": "max_eval_examples", "epochs": "epochs",
                  "units": "units", "seed": "seed"}


def _stored_settings(stored):
    """The "train" section of a config.json, a 0.1 Morse run's mapped to today's settings."""
    settings = stored["train"]
    if isinstance(settings, dict) and settings.get("task") == "morse" and "examples" in settings:
        config = task_config("morse", **{_MORSE_V1_KEYS[k]: v for k, v in settings.items() if k in _MORSE_V1_KEYS})
        return dataclasses.asdict(config)
    return settings


class Run:
    """A model with its tokenizers and config, loaded from or saved to a run
    directory (the layout is in `keras_s2s.runs`).

    Attributes:
        model: the `Seq2SeqModel`.
        source_tokenizer: a `keras_s2s.text.Tokenizer`, or `None` for a task
            whose sources are not text (frames).
        target_tokenizer: a `Tokenizer`.
        config: the `TrainConfig`.
        task: the registered `Task` of `config.task`.
        max_length: the most target tokens generated.
        generator: the model's `Seq2SeqGenerator`.
    """

    def __init__(self, model, source_tokenizer, target_tokenizer, config, max_length):
        self.max_length = _checks.positive_int("max_length", max_length, limits.MAX_GENERATION_LENGTH)
        self.model = model
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.config = config
        self.task = get_task(config.task)
        self.generator = build_inference_model(model)
        if self.task.source.takes_text and source_tokenizer is None:
            raise ValueError(f"Task {config.task!r} reads text: its run needs a source tokenizer.")
        self.generator.check_tokenizers(source_tokenizer, target_tokenizer)

    @classmethod
    def load(cls, run_dir):
        """Loads a run directory written by `train` (also one of keras_s2s
        0.1, and a 0.1 Morse run).

        Every file is checked before it is used: config.json's keys, types
        and bounds, `max_length` within
        `keras_s2s.limits.MAX_GENERATION_LENGTH`, the model file (safe mode),
        and tokenizer sizes equal to the model's vocabularies.

        Raises:
            FileNotFoundError: the directory or one of its files is missing.
            ValueError: a damaged or inconsistent file, named in the message.
        """
        run_dir = pathlib.Path(run_dir)
        config_path = run_dir / "config.json"
        for path in (config_path, run_dir / "model.keras", run_dir / "target_tokenizer.json"):
            if not path.is_file():
                raise FileNotFoundError(
                    f"{str(run_dir)!r} is not a complete run directory: {path.name} is missing "
                    "(train one with `keras-s2s train`)."
                )
        stored = read_json(config_path)
        missing = [k for k in ("train", "max_length") if not isinstance(stored, dict) or k not in stored]
        if missing:
            raise ValueError(f"{str(config_path)!r} lacks {missing}: it was not written by "
                             "`keras-s2s train`, or was edited.")
        config = config_from_dict(_stored_settings(stored), repr(str(config_path)))
        source_path = run_dir / "source_tokenizer.json"
        if get_task(config.task).source.takes_text and not source_path.is_file():
            raise FileNotFoundError(f"{str(run_dir)!r} is not a complete run directory: "
                                    "source_tokenizer.json is missing.")
        source_tokenizer = load_tokenizer(source_path) if source_path.is_file() else None
        target_tokenizer = load_tokenizer(run_dir / "target_tokenizer.json")
        model = load_model(run_dir / "model.keras")
        try:
            return cls(model, source_tokenizer, target_tokenizer, config, stored["max_length"])
        except (ValueError, TypeError) as error:
            raise type(error)(f"{str(run_dir)!r}: {error}") from None

    def translate(self, sources, *, batch_size=512, num_beams=1, return_attention=False,
                  max_source_length=None):
        """Generates target strings for sources (greedy or beam).

        Sources are the task's: strings (text tasks; cut to
        `max_source_length` tokens on the ragged tokens, before padding, as
        the exported models do; a text with no tokens, e.g. `""`, gives
        `""`) or float frame arrays `[S_i, F]` (frame tasks).

        Args:
            sources: a str (text tasks), or a list of sources.
            batch_size: positive int. Defaults to 512.
            num_beams: int in [1, `limits.MAX_NUM_SEQUENCES`]; 1 is greedy.
                Defaults to 1.
            return_attention: bool. Defaults to `False`.
            max_source_length: positive int. Defaults to the source spec's
                (`keras_s2s.limits.MAX_SOURCE_LENGTH` tokens,
                `MAX_SOURCE_FRAMES` frames).

        Returns:
            A list of str (a str for a str), or `(outputs, list of attention
            arrays [T, S])` with `return_attention`.

        Raises:
            TypeError, ValueError: bad `num_beams`, `batch_size` or sources.
        """
        if isinstance(sources, str):
            result = self.translate([sources], batch_size=batch_size, num_beams=num_beams,
                                    return_attention=return_attention, max_source_length=max_source_length)
            return (result[0][0], result[1]) if return_attention else result[0]
        batch_size = _checks.positive_int("batch_size", batch_size)
        num_beams = _checks.positive_int("num_beams", num_beams, limits.MAX_NUM_SEQUENCES)
        if max_source_length is None:
            max_source_length = self.generator.source_spec.max_length
        max_source_length = _checks.positive_int("max_source_length", max_source_length)
        strategy = strategies.BeamSearch(num_beams) if num_beams > 1 else strategies.GreedySearch()
        reduction = getattr(self.generator.encoder_layer, "time_reduction", 1)
        spec = self.generator.source_spec
        outputs, attentions = [], []
        for start in range(0, len(sources), batch_size):
            batch, lengths = self.task.source.batch(sources[start : start + batch_size], self.source_tokenizer,
                                                    max_source_length)
            # a source spec with lengths (frames) is given them: a zero frame inside one is data
            given = {"source_lengths": lengths} if getattr(spec, "lengths_name", None) else {}
            result = self.generator.generate(batch, max_length=self.max_length, strategy=strategy, **given)
            best = result["ids"][:, 0]
            outputs.extend(s.decode("utf-8") for s in self.target_tokenizer.decode(best).numpy())
            if return_attention and "attention" in result:
                for row, n in enumerate(result["lengths"][:, 0]):
                    steps = -(-int(lengths[row]) // reduction)
                    attentions.append(result["attention"][row, 0, :n, :steps])
        return (outputs, attentions) if return_attention else outputs

    def evaluate(self, split, num_beams=1):
        """Scores on a `Split`: exact match, and the task's own scores (WER and
        PER for G2P, BLEU and chrF for TSV, CER and WER for Morse).

        Returns:
            `(scores dict, predictions list)`.
        """
        predictions = self.translate(split.sources, num_beams=num_beams)
        scores = {"examples": len(predictions),
                  "exact_match": evaluation.exact_match(predictions, split.references)}
        if self.task.scores is not None:
            scores.update(self.task.scores(predictions, split.references))
        return scores, predictions
