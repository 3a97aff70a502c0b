"""Per-word latency of an exported G2P `.tflite` in the LiteRT interpreter (batch 1).

    python benchmarks/tflite_latency.py saved_models/g2p/g2p.tflite --words 2000
    python benchmarks/tflite_latency.py --smoke        # exports a tiny untrained model first (CI)

Words come from the CMUdict test split; each is tokenized with the vocabulary file
written beside the model (`<name>.source_vocab.txt`) and decoded in one `invoke`.
"""

import argparse
import json
import os
import pathlib
import platform
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from keras_s2s import datasets  # noqa: E402
from keras_s2s.export import TFLiteGreedyDecoder  # noqa: E402
from keras_s2s.special_tokens import UNK_ID  # noqa: E402


def tiny_model(folder):
    import keras_s2s
    from keras_s2s.text import CharTokenizer, WordTokenizer

    split = datasets.cmudict_g2p()["train"]
    letters = CharTokenizer.from_texts(split.sources[:2000])
    phonemes = WordTokenizer.from_texts(split.targets[:2000])
    model = keras_s2s.build_seq2seq(letters.vocabulary_size, phonemes.vocabulary_size,
                                    embedding_dim=8, units=16, bidirectional=True, attention="luong")
    generator = keras_s2s.build_inference_model(model)
    return keras_s2s.export_tflite(generator, folder / "tiny.tflite", max_length=20,
                                   source_tokenizer=letters, target_tokenizer=phonemes)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", help="a .tflite written by keras_s2s.export_tflite")
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", help="write the result as JSON here")
    parser.add_argument("--run-dir", help="the run the model came from: also report token agreement with Keras")
    args = parser.parse_args(argv)
    if args.smoke:
        args.model = tiny_model(pathlib.Path(tempfile.mkdtemp()))
        args.words = 20
    if not args.model:
        parser.error("give a .tflite path or --smoke")
    path = pathlib.Path(args.model)
    vocab_file = path.with_suffix("").as_posix() + ".source_vocab.txt"
    vocabulary = pathlib.Path(vocab_file).read_text("utf-8").split("\n")
    index = {token: i for i, token in enumerate(vocabulary) if token}
    words = datasets.cmudict_g2p()["test"].sources[: args.words]
    decoder = TFLiteGreedyDecoder(path, num_threads=args.threads)
    encoded = [np.array([index.get(ch, UNK_ID) for ch in word], np.int32) for word in words]
    decoder(encoded[0])  # warm-up
    times, outputs = [], []
    for ids in encoded:
        start = time.perf_counter()
        outputs.append(decoder(ids)["ids"])
        times.append(time.perf_counter() - start)
    times = np.array(times) * 1000
    result = {
        "command": "python benchmarks/tflite_latency.py " + ("--smoke" if args.smoke else f"{path} --words {args.words}"),
        "model": str(path), "model_bytes": path.stat().st_size, "words": len(words),
        "threads": args.threads, "ms_per_word_mean": float(times.mean()),
        "ms_per_word_p50": float(np.percentile(times, 50)), "ms_per_word_p90": float(np.percentile(times, 90)),
        "words_per_s": float(1000 / times.mean()), "machine": platform.platform(), "cpus": os.cpu_count(),
    }
    if args.run_dir:
        from keras_s2s.runs import Run

        run = Run.load(args.run_dir)
        keras_ids = run.generator.generate(run.source_tokenizer.encode(words).numpy(),
                                           max_length=len(outputs[0]))["ids"][:, 0]
        same = [np.array_equal(a, b) for a, b in zip(outputs, keras_ids)]
        result["same_tokens_as_keras"] = float(np.mean(same))
        result["command"] += f" --run-dir {args.run_dir}"
    print(json.dumps(result, indent=2))
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
