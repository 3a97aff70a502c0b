"""Translate with any TSV parallel corpus ("source<TAB>target", e.g. an Anki/Tatoeba export).

    python examples/translate_tsv.py fra.txt                    # subword tokenizers, BLEU/chrF
    python examples/translate_tsv.py tests/data/en_fr_tiny.tsv --smoke

Malformed lines are skipped and counted. BLEU and chrF come from sacrebleu.
"""

import argparse

from keras_s2s import runs


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("tsv")
    parser.add_argument("--run-dir", default="runs/tsv")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--tokenizer", default="subword", choices=["char", "word", "subword"])
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    overrides = dict(epochs=args.epochs, source_tokenizer=args.tokenizer, target_tokenizer=args.tokenizer)
    if args.smoke:
        overrides.update(epochs=1, units=16, embedding_dim=8, subword_vocabulary_size=200)
    config = runs.task_config("tsv", tsv=args.tsv, **overrides)
    metrics = runs.train(config, args.run_dir, verbose=0 if args.smoke else 1)
    test = metrics["test"]
    print(f"test BLEU {test['bleu']:.1f}  chrF {test['chrf']:.1f}  exact match {test['exact_match']:.2%}")
    for sample in metrics["samples"][:5]:
        print(f"  {sample['source']} -> {sample['prediction']}")
    return metrics


if __name__ == "__main__":
    main()
