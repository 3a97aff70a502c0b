"""Training throughput: `build_seq2seq` vs the same model written by hand in plain Keras.

Both are BiLSTM encoders (units/2 per direction) + LSTM decoder + Luong dot attention with the
attentional layer tanh(W_c[c; h]), trained on the same CMUdict batches; we report target tokens/s
(real tokens, padding excluded) over the timed epochs and the ratio. Also the peak RSS of the process.

    python benchmarks/train_speed.py --rounds 4   # ~9 min on a 2-core CPU
    python benchmarks/train_speed.py --smoke      # seconds (CI)
"""

import argparse
import resource
import time

from _curves import g2p_batches, save

import keras  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy  # noqa: E402


def plain_keras_model(source_vocab, target_vocab, embedding_dim, units):
    """The same architecture in plain Keras layers, as a user would write it."""
    source_ids = keras.Input((None,), dtype="int32", name="source_ids")
    target_ids = keras.Input((None,), dtype="int32", name="target_ids")
    source_mask = keras.ops.not_equal(source_ids, 0)
    x = keras.layers.Embedding(source_vocab, embedding_dim)(source_ids)
    encoded, fh, fc, bh, bc = keras.layers.Bidirectional(
        keras.layers.LSTM(units // 2, return_sequences=True, return_state=True))(x, mask=source_mask)
    h = keras.layers.Concatenate()([fh, bh])
    c = keras.layers.Concatenate()([fc, bc])
    y = keras.layers.Embedding(target_vocab, embedding_dim)(target_ids)
    decoded = keras.layers.LSTM(units, return_sequences=True)(y, initial_state=[h, c])
    context = keras.layers.Attention()([decoded, encoded], mask=[None, source_mask])
    attentional = keras.layers.Dense(units, activation="tanh", use_bias=False)(
        keras.layers.Concatenate()([context, decoded]))
    logits = keras.layers.Dense(target_vocab)(attentional)
    return keras.Model({"source_ids": source_ids, "target_ids": target_ids}, logits)


def throughput(model, dataset, epochs, tokens_per_epoch):
    model.compile(keras.optimizers.Adam(1e-3, clipnorm=5.0), MaskedSparseCategoricalCrossentropy())
    model.fit(dataset.take(5), epochs=1, verbose=0)  # trace and warm up
    start = time.perf_counter()
    model.fit(dataset, epochs=epochs, verbose=0)
    return tokens_per_epoch * epochs / (time.perf_counter() - start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--examples", type=int, default=40000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="alternating measurements per model")
    args = parser.parse_args(argv)
    if args.smoke:
        args.examples, args.epochs, args.rounds = 512, 1, 1
    dataset, letters, phonemes, tokens = g2p_batches(args.examples)
    embedding_dim, units = (8, 16) if args.smoke else (64, 256)
    keras.utils.set_random_seed(0)
    ours = keras_s2s.build_seq2seq(letters.vocabulary_size, phonemes.vocabulary_size,
                                   embedding_dim=embedding_dim, units=units, bidirectional=True,
                                   attention="luong")
    plain = plain_keras_model(letters.vocabulary_size, phonemes.vocabulary_size, embedding_dim, units)
    assert ours.count_params() == plain.count_params(), (ours.count_params(), plain.count_params())
    rates = {"keras_s2s": [], "plain_keras": []}
    for _ in range(args.rounds):  # alternate, so drift in machine load hits both
        rates["keras_s2s"].append(throughput(ours, dataset, args.epochs, tokens))
        rates["plain_keras"].append(throughput(plain, dataset, args.epochs, tokens))
    best = {k: max(v) for k, v in rates.items()}
    ratio = best["keras_s2s"] / best["plain_keras"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"target tokens/s: keras_s2s {best['keras_s2s']:.0f}, plain Keras {best['plain_keras']:.0f}, "
          f"ratio {ratio:.3f}; parameters {ours.count_params():,}; peak RSS {rss_mb:.0f} MB")
    command = "python benchmarks/train_speed.py" + (" --smoke" if args.smoke else "")
    defaults = parser.parse_args([])
    for option in ("examples", "epochs", "rounds"):
        if not args.smoke and getattr(args, option) != getattr(defaults, option):
            command += f" --{option} {getattr(args, option)}"
    report = {"command": command,
              "examples": args.examples, "epochs_timed": args.epochs, "rounds": args.rounds,
              "parameters": ours.count_params(), "tokens_per_s": rates, "best": best, "ratio": ratio,
              "peak_rss_mb": rss_mb, "goal_ratio": 0.95}
    save("train_speed", report, smoke=args.smoke)
    return report


if __name__ == "__main__":
    main()
