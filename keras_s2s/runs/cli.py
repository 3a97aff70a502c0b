"""The `keras-s2s` command line: train, evaluate, predict, export.

    keras-s2s train g2p                      # the main job: G2P on CMUdict
    keras-s2s train dates | addition
    keras-s2s train morse                    # Morse-code audio -> text (float frames in)
    keras-s2s train --tsv pairs.tsv          # any "source<TAB>target" corpus
    keras-s2s evaluate runs/g2p [--split test] [--num-beams 4]
    keras-s2s predict runs/g2p hello world
    keras-s2s export runs/g2p --format saved_model --out exported/

The train flags are derived from the run settings (`keras_s2s.runs.config.FIELDS`:
type, bounds, choices, help) and show the named task's defaults.
"""

import argparse
import dataclasses
import json
import os
import sys

from keras_s2s.runs import config as config_lib
from keras_s2s.runs import tasks as tasks_lib

NONE = "none"  # the flag value of None (e.g. --attention none: no attention)


def _parse_as(field):
    """The argparse `type` of a field: text -> a value its `check` accepts."""
    def parse(text):
        if field.nullable and text == NONE:
            return None
        try:
            value = text if field.type is str else field.type(text)
        except ValueError:
            bounds = f" in {field.bounds()}" if field.type in (int, float) else ""
            raise argparse.ArgumentTypeError(f"setting {field.name!r} must be a {field.type.__name__}{bounds}. "
                                             f"Received: {field.name}={text!r}.") from None
        try:
            return field.check(value, "flag")
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix("flag: ")) from None

    parse.__name__ = field.type.__name__
    return parse


def _field_flags(parser, task):
    """One flag per settable field; a flag not given is absent from the parsed
    namespace (`argparse.SUPPRESS`), so "not given" never reads as `None`."""
    defaults = dataclasses.asdict(tasks_lib.task_config(task, tsv="FILE" if task == "tsv" else None))
    for field in config_lib.FIELDS.values():
        if not field.flag:
            continue
        flag = "--" + field.name.replace("_", "-")
        shown = NONE if defaults[field.name] is None else defaults[field.name]
        text = f"{field.help} (default for {task}: {shown})".replace("%", "%%")
        if field.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=text, default=argparse.SUPPRESS)
            continue
        choices = None if field.choices is None else [*field.choices, *([NONE] if field.nullable else [])]
        parser.add_argument(flag, type=_parse_as(field), help=text, default=argparse.SUPPRESS,
                            metavar="{" + ",".join(choices) + "}" if choices else None)


def build_parser(task=None):
    """The command line; `task` (a registered task) sets the defaults `train --help` shows (g2p's if unknown)."""
    task = task if task in tasks_lib.TASKS else "g2p"
    parser = argparse.ArgumentParser(prog="keras-s2s", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model and write a run directory")
    train.add_argument("task", nargs="?", help=" | ".join(n for n in tasks_lib.TASKS if n != "tsv")
                       + " (or use --tsv)")
    train.add_argument("--tsv", help="a 'source<TAB>target' file to train on")
    train.add_argument("--run-dir", help="where to write the run (default: runs/TASK)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    _field_flags(train, task)
    num_beams = _parse_as(config_lib.FIELDS["num_beams"])
    evaluate = sub.add_parser("evaluate", help="score a run on its dev/test data")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--split", help="dev, or a test split (default: the task's test splits)")
    evaluate.add_argument("--num-beams", type=num_beams, default=1)
    predict = sub.add_parser("predict", help="convert texts with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--num-beams", type=num_beams, default=1)
    export = sub.add_parser("export", help="export a run for TF Serving or TFLite")
    export.add_argument("run_dir", help="a run directory (with model.keras and tokenizers)")
    export.add_argument("--format", required=True, choices=["saved_model", "tflite"])
    export.add_argument("--out", required=True)
    export.add_argument("--strategy", default="greedy", choices=["greedy", "beam"])
    export.add_argument("--num-beams", type=num_beams, default=4, help="beams, with --strategy beam")
    export.add_argument("--quantization", choices=["dynamic_range", "float16"])
    return parser


def _train(args):
    from keras_s2s.runs.training import train

    if args.task is None and args.tsv is None:
        raise ValueError(f"Name a task ({', '.join(n for n in tasks_lib.TASKS if n != 'tsv')}) or pass --tsv FILE.")
    if args.task is not None and args.tsv is not None:
        raise ValueError(f"Pass a task or --tsv, not both. Received: task={args.task!r}, --tsv={args.tsv!r}.")
    overrides = {k: v for k, v in vars(args).items() if k in config_lib.FIELDS and k not in ("task", "tsv")}
    if "attention" in overrides and overrides["attention"] is None:
        overrides.setdefault("peeky", False)  # no attention: a plain decoder unless --peeky
    config = tasks_lib.task_config(args.task, tsv=args.tsv, **overrides)
    run_dir = args.run_dir or os.path.join("runs", config.task)
    print(f"training {config.task} -> {run_dir}")
    metrics = train(config, run_dir, verbose=0 if args.quiet else 1)
    _print_metrics(metrics, tasks_lib.get_task(config.task))
    print(f"run directory: {run_dir}")
    return 0


def _print_metrics(metrics, task):
    print(f"trained {metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s "
          f"({metrics['parameters']:,} parameters)")
    for name in ("dev", *task.test_splits):
        scores = metrics[name]
        parts = [f"{name}: {scores['examples']} examples", f"exact match {scores['exact_match']:.2%}"]
        parts += [f"{key.upper()} {scores[key]:.2%}" for key in ("cer", "wer", "per") if key in scores]
        parts += [f"{label} {scores[key]:.1f}" for key, label in (("bleu", "BLEU"), ("chrf", "chrF")) if key in scores]
        print("  " + ", ".join(parts))
    for sample in metrics.get("samples", [])[:8]:
        mark = "ok " if sample["prediction"] in sample["references"] else "ERR"
        print(f"  {mark} {sample['source']!r} -> {sample['prediction']!r}"
              f"  (reference: {' | '.join(sample['references'])})")


def _evaluate(args):
    from keras_s2s.runs.run import Run

    run = Run.load(args.run_dir)
    names = ("dev", *run.task.test_splits)
    wanted = run.task.test_splits if args.split is None else (args.split,)
    if not set(wanted) <= set(names):
        raise ValueError(f"Run {args.run_dir!r} has the splits {list(names)}. Received: --split {args.split}.")
    splits = tasks_lib.load_splits(run.config, names=wanted)
    print(json.dumps({name: run.evaluate(splits[name], num_beams=args.num_beams)[0] for name in wanted}, indent=2))
    return 0


def _predict(args):
    from keras_s2s.runs.run import Run

    run = Run.load(args.run_dir)
    if not run.task.source.takes_text:
        raise ValueError(f"{args.run_dir!r} reads {run.generator.source_spec!r}, not text: use the exported "
                         "SavedModel (keras-s2s export) or keras_s2s.runs.Run.translate on frame arrays.")
    for text, out in zip(args.texts, run.translate(args.texts, num_beams=args.num_beams)):
        print(f"{text}\t{out}")
    return 0


def _export_strategy(args):
    """The strategy object `--strategy` and `--num-beams` name (`--num-beams` is beam search's alone)."""
    from keras_s2s.inference import strategies

    return strategies.BeamSearch(num_beams=args.num_beams) if args.strategy == "beam" else strategies.GreedySearch()


def _export(args):
    from keras_s2s import export
    from keras_s2s.runs.run import Run

    run = Run.load(args.run_dir)
    tokenizers = dict(source_tokenizer=run.source_tokenizer, target_tokenizer=run.target_tokenizer)
    if args.format == "saved_model":
        path = export.export_saved_model(run.generator, args.out, max_length=run.max_length,
                                         strategy=_export_strategy(args), **tokenizers)
    else:
        path = export.export_tflite(run.generator, args.out, max_length=run.max_length,
                                    quantization=args.quantization, **tokenizers)
    print(f"exported {args.format} to {path}")
    return 0


COMMANDS = {"train": _train, "evaluate": _evaluate, "predict": _predict, "export": _export}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    task = None  # for `train TASK --help` (and `train --tsv FILE --help`: the tsv task)
    if argv[:1] == ["train"]:
        task = "tsv" if "--tsv" in argv else next(iter(argv[1:2]), None)
    args = build_parser(task).parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, TypeError, OSError) as error:  # bad files and arguments, named
        print(f"keras-s2s {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
