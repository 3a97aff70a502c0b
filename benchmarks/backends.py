"""The G2P model on TensorFlow, JAX and PyTorch, side by side on one machine.

For each backend, in its own process (Keras picks its backend once per process):
- training: `build_seq2seq(embedding_dim=64, units=256, bidirectional=True, num_layers=2,
  attention="luong")` (2-layer BiLSTM encoder, 128 per direction; 2-layer LSTM-256 decoder; Luong
  dot attention) on the same CMUdict batches of 128, padded to multiples of 8
  (`make_dataset(pad_to_multiple_of=8)`, as JAX needs: `jax.jit` compiles once per shape);
  target tokens/s (padding excluded) over one epoch, after a warm-up epoch that compiles;
- decoding: greedy and 4-beam `generate` on 512 test words in one batch, words/s, best of two
  runs after one that compiles (one run in `--smoke`).
Each backend compiles as Keras does by default: `fit` under `jax.jit` on JAX, `tf.function` on
TensorFlow, eagerly on PyTorch; `generate` under `tf.function`, `jax.jit`, eagerly on PyTorch.

    python benchmarks/backends.py             # ~10 min on a 2-core CPU
    python benchmarks/backends.py --smoke     # a tiny model, seconds per backend (CI)
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

BACKENDS = ("tensorflow", "jax", "torch")


def worker(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    import keras_s2s
    from keras_s2s import datasets
    from keras_s2s.losses import MaskedSparseCategoricalCrossentropy

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _curves import g2p_batches

    dataset, letters, phonemes, tokens = g2p_batches(args.examples, pad_to_multiple_of=8,
                                                     bucket_by_length=not args.smoke)
    embedding_dim, units = (8, 16) if args.smoke else (64, 256)
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_seq2seq(letters.vocabulary_size, phonemes.vocabulary_size,
                                    embedding_dim=embedding_dim, units=units, bidirectional=True,
                                    num_layers=2, attention="luong")
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=5.0), MaskedSparseCategoricalCrossentropy())
    model.fit(dataset, epochs=1, verbose=0)  # compiles every batch shape (JAX) and warms up
    start = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0)
    train_seconds = time.perf_counter() - start

    words = datasets.cmudict_g2p()["test"].sources[: args.words]
    ids = letters.encode(words).numpy()
    generator = keras_s2s.build_inference_model(model)
    rates, outputs = {}, {}
    for name, options in (("greedy", {}), ("beam4", dict(strategy="beam", num_beams=4))):
        outputs[name] = generator.generate(ids, max_length=24, **options)["ids"]  # compiles
        best = float("inf")
        for _ in range(1 if args.smoke else 2):
            start = time.perf_counter()
            generator.generate(ids, max_length=24, **options)
            best = min(best, time.perf_counter() - start)
        rates[name] = len(words) / best
    report = {"backend": keras.backend.backend(), "keras": keras.__version__,
              "train_tokens_per_s": tokens / train_seconds, "train_seconds": train_seconds,
              "parameters": model.count_params(), "decode_words_per_s": rates, "words": len(words),
              "jit_compile": str(model.jit_compile)}
    if report["backend"] == "jax":
        import jax

        report["jax"] = jax.__version__
    if report["backend"] == "torch":
        import torch

        report["torch"] = torch.__version__
    with open(args.out, "w") as f:
        json.dump(report, f)
    print(json.dumps(report), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--examples", type=int, default=6400)
    parser.add_argument("--words", type=int, default=512)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.examples, args.words = 128, 8
    if args.worker:
        return worker(args)
    rows = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend in args.backends:
            out = os.path.join(folder, f"{backend}.json")
            command = [sys.executable, __file__, "--worker", "--out", out, "--examples", str(args.examples),
                       "--words", str(args.words)] + (["--smoke"] if args.smoke else [])
            env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
            subprocess.run(command, check=True, env=env)
            with open(out) as f:
                rows[backend] = json.load(f)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _curves import save

    command = "python benchmarks/backends.py" + (" --smoke" if args.smoke else "")
    if args.backends != list(BACKENDS):
        command += " --backends " + " ".join(args.backends)
    if not args.smoke and args.examples != 6400:
        command += f" --examples {args.examples}"
    report = {"command": command, "examples": args.examples, "words": args.words, "results": rows}
    return save("backends", report, smoke=args.smoke)


if __name__ == "__main__":
    main()
