"""The `keras-s2s` command line: train, evaluate, predict, export.

    keras-s2s train g2p                      # the main job: G2P on CMUdict
    keras-s2s train dates | addition
    keras-s2s train morse                    # Morse-code audio -> text (float frames in)
    keras-s2s train --tsv pairs.tsv          # any "source<TAB>target" corpus
    keras-s2s evaluate runs/g2p [--split test] [--num-beams 4]
    keras-s2s predict runs/g2p hello world
    keras-s2s export runs/g2p --format saved_model --out exported/

Arguments are parsed here and passed down as plain values.
"""

import argparse
import dataclasses
import json
import os
import sys


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int >= {low}, received {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an int >= {low}, received {value}")
        return value

    parse.__name__ = f"int >= {low}"
    return parse


_POSITIVE = _int_at_least(1)


def _task_defaults(task):
    """`(task, name -> value)`: the settings a run of `task` trains with (`runs.task_config`), for the
    help; g2p's when no registered task is named."""
    from keras_s2s import runs

    task = task if task in runs.TASK_DEFAULTS else "g2p"
    config = runs.task_config(task, tsv="FILE" if task == "tsv" else None)  # the file is not read here
    return task, dataclasses.asdict(config)


def _model_flags(parser, task=None):
    """Training flags; the model's are derived from `build_seq2seq`'s options
    (`runs.RUN_MODEL_OPTIONS`). A flag not given is absent from the parsed
    namespace (`argparse.SUPPRESS`), so "not given" never reads as `None`.
    The help shows `task`'s defaults (g2p's when none is named)."""
    from keras_s2s import runs

    given = dict(default=argparse.SUPPRESS)
    task, values = _task_defaults(task)

    def default_of(name):
        return f"(default for {task}: {values[name]})"

    parser.add_argument("--run-dir", help="where to write the run (default: runs/TASK)")
    for name, option in runs.RUN_MODEL_OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        if option.type is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, help=option.help, **given)
            continue
        kind = {int: _POSITIVE, float: float, str: str}[option.type]
        choices = option.choices
        if choices is not None and option.nullable:
            choices = (*choices, "none")  # "none" is the value None (e.g. no attention)
        parser.add_argument(flag, type=kind, choices=choices, help=f"{option.help} {default_of(name)}",
                            **given)
    parser.add_argument("--epochs", type=_POSITIVE, help=f"training epochs {default_of('epochs')}", **given)
    parser.add_argument("--batch-size", type=_POSITIVE, help=f"examples per batch {default_of('batch_size')}",
                        **given)
    parser.add_argument("--learning-rate", type=float,
                        help=f"peak Adam learning rate {default_of('learning_rate')}", **given)
    parser.add_argument("--lr-schedule", choices=list(runs.LR_SCHEDULES),
                        help="learning-rate schedule (warmup_cosine: linear warm-up, then cosine decay)",
                        **given)
    parser.add_argument("--warmup-steps", type=_int_at_least(0),
                        help="warm-up steps of warmup_cosine (default: 5%% of all steps)", **given)
    parser.add_argument("--label-smoothing", type=float,
                        help=f"label smoothing of the loss {default_of('label_smoothing')}", **given)
    parser.add_argument("--ema-momentum", type=float,
                        help="momentum of an exponential moving average of the weights, which validation "
                             "and the saved model use (default: 0, off)", **given)
    parser.add_argument("--patience", type=_int_at_least(0),
                        help=f"early-stopping patience in epochs {default_of('patience')}", **given)
    parser.add_argument("--seed", type=_int_at_least(0), help="random seed (default: 0)", **given)
    parser.add_argument("--num-beams", type=_POSITIVE,
                        help=f"beams for the final evaluation (1 = greedy) {default_of('num_beams')}", **given)
    parser.add_argument("--source-tokenizer", choices=["char", "word", "subword"], **given)
    parser.add_argument("--target-tokenizer", choices=["char", "word", "subword"], **given)
    parser.add_argument("--max-train-examples", type=_POSITIVE,
                        help="use only the first N training examples", **given)
    parser.add_argument("--max-eval-examples", type=_POSITIVE,
                        help="evaluate on the first N dev/test examples", **given)


def build_parser(task=None):
    """The command line; `task` (a name from `runs.TASK_DEFAULTS`) sets the defaults `train --help` shows."""
    parser = argparse.ArgumentParser(prog="keras-s2s", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train a model and write a run directory")
    train.add_argument("task", nargs="?", help="g2p | dates | addition | morse (or use --tsv)")
    train.add_argument("--tsv", help="a 'source<TAB>target' file to train on")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    _model_flags(train, task)
    evaluate = sub.add_parser("evaluate", help="score a run on its dev/test data")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--split", default="test", choices=["dev", "test"])
    evaluate.add_argument("--num-beams", type=_POSITIVE, default=1)
    predict = sub.add_parser("predict", help="convert texts with a trained run")
    predict.add_argument("run_dir")
    predict.add_argument("texts", nargs="+")
    predict.add_argument("--num-beams", type=_POSITIVE, default=1)
    export = sub.add_parser("export", help="export a run for TF Serving or TFLite")
    export.add_argument("run_dir", help="a run directory (with model.keras and tokenizers)")
    export.add_argument("--format", required=True, choices=["saved_model", "tflite"])
    export.add_argument("--out", required=True)
    export.add_argument("--strategy", default="greedy", choices=["greedy", "beam"])
    export.add_argument("--num-beams", type=_POSITIVE, default=4, help="beams, with --strategy beam")
    export.add_argument("--quantization", choices=["dynamic_range", "float16"])
    return parser


_MORSE_FLAGS = ("epochs", "units", "seed", "max_train_examples", "max_eval_examples")


def _train_morse(args):
    from keras_s2s import feature_runs

    given = {k for k in vars(args) if k not in ("command", "task", "tsv", "quiet", "run_dir")}
    if given - set(_MORSE_FLAGS):
        raise ValueError(
            f"`train morse` takes --epochs, --units, --seed, --max-train-examples, "
            f"--max-eval-examples and --run-dir. "
            f"Received: {', '.join('--' + k.replace('_', '-') for k in sorted(given - set(_MORSE_FLAGS)))}."
        )
    options = {k: getattr(args, k) for k in ("epochs", "units", "seed") if k in given}
    if "max_train_examples" in given:
        options["examples"] = args.max_train_examples
    if "max_eval_examples" in given:  # dev words, and test words per noise level
        options["num_test"] = args.max_eval_examples
    run_dir = args.run_dir or os.path.join("runs", "morse")
    print(f"training morse -> {run_dir}")
    metrics = feature_runs.train_morse(run_dir, verbose=0 if args.quiet else 1, **options)
    print(f"trained {metrics['epochs']} epochs in {metrics['train_seconds']:.0f} s "
          f"({metrics['parameters']:,} parameters)")
    _print_morse(metrics["results"])
    print(f"run directory: {run_dir}")
    return 0


def _print_morse(results):
    for name, result in results.items():
        print(f"  {name}: greedy CER {result['greedy']['cer']:.2%} WER {result['greedy']['wer']:.2%}, "
              f"beam 4 CER {result['beam4']['cer']:.2%} WER {result['beam4']['wer']:.2%}")


def _train(args):
    from keras_s2s import runs

    if args.task == "morse":
        return _train_morse(args)
    if args.task is None and args.tsv is None:
        raise ValueError("Name a task (g2p, dates, addition) or pass --tsv FILE.")
    if args.task is not None and args.tsv is not None:
        raise ValueError(f"Pass a task or --tsv, not both. Received: task={args.task!r}, --tsv={args.tsv!r}.")
    fields = {f.name for f in dataclasses.fields(runs.TrainConfig)}
    overrides = {k: v for k, v in vars(args).items() if k in fields and k not in ("task", "tsv")}
    overrides = {k: None if v == "none" else v for k, v in overrides.items()}
    if "attention" in overrides and overrides["attention"] is None:
        overrides.setdefault("peeky", False)  # no attention: a plain decoder unless --peeky
    config = runs.task_config(args.task, tsv=args.tsv, **overrides)
    run_dir = args.run_dir or os.path.join("runs", config.task)
    print(f"training {config.task} -> {run_dir}")
    metrics = runs.train(config, run_dir, verbose=0 if args.quiet else 1)
    _print_metrics(metrics)
    print(f"run directory: {run_dir}")
    return 0


def _print_metrics(metrics):
    print(f"trained {metrics['epochs_run']} epochs in {metrics['train_seconds']:.0f} s "
          f"({metrics['parameters']:,} parameters)")
    for name in ("dev", "test"):
        s = metrics[name]
        parts = [f"{name}: {s['examples']} examples", f"exact match {s['exact_match']:.2%}"]
        if "wer" in s:
            parts += [f"WER {s['wer']:.2%}", f"PER {s['per']:.2%}"]
        if "bleu" in s:
            parts += [f"BLEU {s['bleu']:.1f}", f"chrF {s['chrf']:.1f}"]
        print("  " + ", ".join(parts))
    for sample in metrics.get("samples", [])[:8]:
        mark = "ok " if sample["prediction"] in sample["references"] else "ERR"
        print(f"  {mark} {sample['source']!r} -> {sample['prediction']!r}"
              f"  (reference: {' | '.join(sample['references'])})")


def _evaluate(args):
    from keras_s2s import feature_runs, runs

    if feature_runs.is_morse_run(args.run_dir):
        print(json.dumps(feature_runs.evaluate_morse_run(args.run_dir), indent=2))
        return 0
    run = runs.Run.load(args.run_dir)
    split = runs.load_splits(run.config)[args.split]
    scores, _ = run.evaluate(split, num_beams=args.num_beams)
    print(json.dumps({args.split: scores}, indent=2))
    return 0


def _predict(args):
    from keras_s2s import feature_runs, runs

    if feature_runs.is_morse_run(args.run_dir):
        raise ValueError(f"{args.run_dir!r} transcribes audio frames, not text: use the exported "
                         "SavedModel (keras-s2s export) or keras_s2s.feature_runs.transcribe.")
    run = runs.Run.load(args.run_dir)
    for text, out in zip(args.texts, run.translate(args.texts, num_beams=args.num_beams)):
        print(f"{text}\t{out}")
    return 0


def _export_strategy(args):
    """The strategy object `--strategy` and `--num-beams` name (`--num-beams` is beam search's alone)."""
    from keras_s2s.inference import strategies

    return strategies.BeamSearch(num_beams=args.num_beams) if args.strategy == "beam" else strategies.GreedySearch()


def _export(args):
    from keras_s2s import export, feature_runs, runs

    if feature_runs.is_morse_run(args.run_dir):
        from keras_s2s.inference import build_inference_model

        model, letters, stored = feature_runs.load_morse_run(args.run_dir)
        generator = build_inference_model(model)
        if args.format == "saved_model":
            path = export.export_saved_model(generator, args.out, target_tokenizer=letters,
                                             max_length=stored["max_length"],
                                             strategy=_export_strategy(args))
        else:
            path = export.export_tflite(generator, args.out, max_length=stored["max_length"],
                                        quantization=args.quantization, target_tokenizer=letters)
        print(f"exported {args.format} to {path}")
        return 0
    run = runs.Run.load(args.run_dir)
    if args.format == "saved_model":
        path = export.export_saved_model(
            run.generator, args.out, source_tokenizer=run.source_tokenizer,
            target_tokenizer=run.target_tokenizer, max_length=run.max_length,
            strategy=_export_strategy(args))
    else:
        path = export.export_tflite(
            run.generator, args.out, max_length=run.max_length, quantization=args.quantization,
            source_tokenizer=run.source_tokenizer, target_tokenizer=run.target_tokenizer)
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
