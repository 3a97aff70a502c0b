"""Greedy decoding speed: in-graph `generate` vs a keras.io-style Python loop.

The keras.io `lstm_seq2seq` example decodes with one `decoder_model.predict`
call per token from Python. Both paths here use the same trained model and
the same Keras encoder / decoder-step models (`build_inference_model`), so
the only difference is where the loop runs.

    python benchmarks/decode_speed.py            # full run (trains ~1 min on CPU)
    python benchmarks/decode_speed.py --smoke    # tiny, seconds (CI)

Prints a table and writes it as JSON to --out (default: benchmarks/results/decode_speed.json).
"""

import argparse
import json
import os
import pathlib
import platform
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_s2s  # noqa: E402
from _curves import timed  # noqa: E402
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy  # noqa: E402


def reversal_task(n, rng, vocab, min_len, max_len):
    """Sources of random tokens; targets are the reversed sources + EOS."""
    src = np.zeros((n, max_len), "int32")
    tin = np.zeros((n, max_len + 1), "int32")
    tout = np.zeros((n, max_len + 1), "int32")
    for i in range(n):
        length = rng.integers(min_len, max_len + 1)
        s = rng.integers(4, vocab, size=length)
        src[i, :length] = s
        tin[i, 0] = keras_s2s.BOS_ID
        tin[i, 1 : length + 1] = s[::-1]
        tout[i, :length] = s[::-1]
        tout[i, length] = keras_s2s.EOS_ID
    return {"source_ids": src, "target_ids": tin}, tout


def python_loop(generator, source_ids, max_length, call):
    """keras.io-style decoding: one decoder-step model call per token."""
    encoded = call(generator.encoder, source_ids)
    state, memory = encoded["state"], encoded["memory"]
    batch = len(source_ids)
    token = keras.ops.full([batch], keras_s2s.BOS_ID, "int32")
    done = np.zeros(batch, bool)
    out = np.zeros((batch, max_length), "int32")
    for t in range(max_length):
        step = call(generator.decoder_step, {"token_ids": token, "state": state, "memory": memory})
        ids = np.argmax(step["logits"], axis=-1).astype("int32")
        out[:, t] = np.where(done, 0, ids)
        done |= ids == keras_s2s.EOS_ID
        if done.all():
            break
        token = keras.ops.convert_to_tensor(ids)
        state = [keras.ops.convert_to_tensor(s) for s in step["state"]]
    return out


def predict_call(model, inputs):
    return model.predict(inputs, verbose=0, batch_size=len(np.asarray(inputs["token_ids"]))
                         if isinstance(inputs, dict) else None)


def direct_call(model, inputs):
    return model(inputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).parent / "results" / "decode_speed.json"))
    args = parser.parse_args(argv)

    if args.smoke:
        sizes = dict(units=16, embedding_dim=8, train=256, epochs=1, batches=(1, 8), max_len=6, repeats=1)
    else:
        sizes = dict(units=256, embedding_dim=128, train=20000, epochs=3, batches=(1, 256), max_len=12,
                     repeats=3)
    rng = np.random.default_rng(0)
    vocab = 30
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_seq2seq(vocab, vocab, embedding_dim=sizes["embedding_dim"], units=sizes["units"],
                                    bidirectional=True, attention="luong")
    model.compile(keras.optimizers.Adam(3e-3, clipnorm=5.0), MaskedSparseCategoricalCrossentropy())
    x, y = reversal_task(sizes["train"], rng, vocab, 3, sizes["max_len"])
    model.fit(x, y, batch_size=128, epochs=sizes["epochs"], verbose=0)
    generator = keras_s2s.build_inference_model(model)
    max_length = sizes["max_len"] + 1

    rows = []
    for batch in sizes["batches"]:
        src = reversal_task(batch, rng, vocab, 3, sizes["max_len"])[0]["source_ids"]
        graph = generator.generate(src, max_length=max_length)["ids"][:, 0]
        loop = python_loop(generator, src, max_length, direct_call)
        agree = float(np.mean(np.all(graph == loop, axis=1)))
        t_graph = timed(lambda: generator.generate(src, max_length=max_length), sizes["repeats"])
        t_xla = timed(lambda: generator.generate(src, max_length=max_length, jit_compile=True),
                      sizes["repeats"])
        t_predict = timed(lambda: python_loop(generator, src, max_length, predict_call), sizes["repeats"])
        t_call = timed(lambda: python_loop(generator, src, max_length, direct_call), sizes["repeats"])
        rows.append({
            "batch": batch,
            "generate_seq_per_s": batch / t_graph,
            "generate_xla_seq_per_s": batch / t_xla,
            "kerasio_predict_loop_seq_per_s": batch / t_predict,
            "python_call_loop_seq_per_s": batch / t_call,
            "speedup_vs_predict_loop": t_predict / t_graph,
            "speedup_vs_call_loop": t_call / t_graph,
            "xla_speedup_vs_predict_loop": t_predict / t_xla,
            "same_tokens": agree,
        })

    header = ("batch", "generate seq/s", "generate XLA seq/s", "keras.io loop (predict) seq/s",
              "loop (model call) seq/s", "x vs predict loop", "XLA x vs predict loop", "x vs call loop",
              "same tokens")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(f"| {r['batch']} | {r['generate_seq_per_s']:.1f} | {r['generate_xla_seq_per_s']:.1f} | "
              f"{r['kerasio_predict_loop_seq_per_s']:.1f} | {r['python_call_loop_seq_per_s']:.1f} | "
              f"{r['speedup_vs_predict_loop']:.1f} | {r['xla_speedup_vs_predict_loop']:.1f} | "
              f"{r['speedup_vs_call_loop']:.1f} | {r['same_tokens']:.0%} |")
    report = {
        "command": "python benchmarks/decode_speed.py" + (" --smoke" if args.smoke else ""),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                    "gpus": len(tf.config.list_physical_devices("GPU")),
                    "tensorflow": tf.__version__, "keras": keras.__version__},
        "model": {"units": sizes["units"], "embedding_dim": sizes["embedding_dim"],
                  "encoder": "BiLSTM", "attention": "luong", "max_length": max_length},
        "rows": rows,
    }
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(json.dumps(report, indent=2))
    if any(r["same_tokens"] < 1.0 for r in rows):
        print("warning: the Python loop and generate disagree on some sequences", file=sys.stderr)
    return report


if __name__ == "__main__":
    main()
