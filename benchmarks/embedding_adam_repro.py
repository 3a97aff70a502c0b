"""Plain Keras (no keras_s2s): Adam on an Embedding differs on the TensorFlow backend.

Keras' TensorFlow backend passes an embedding's gradient to the optimizer as
`tf.IndexedSlices` with one slice per token occurrence, and Keras' Adam
squares it slice by slice (`ops.square` -> `sparse.elementwise_unary`), so a
row that occurs n times in a batch gets `v += (1 - beta_2) * sum_i g_i**2`
instead of `(1 - beta_2) * (sum_i g_i)**2`. JAX and PyTorch compute the
standard update on the summed gradient.

    python benchmarks/embedding_adam_repro.py            # all three backends
    python benchmarks/embedding_adam_repro.py --smoke    # 1 epoch (CI)

What it printed (TF 2.21, Keras 3.15.1, JAX and PyTorch CPU, 2-core CPU):

    tensorflow: loss per epoch [2.439277, 2.142744, 2.09729, 2.084684, 2.084801]; one Adam step vs NumPy: summed-gradient Adam 5.51e-02, per-occurrence Adam 1.05e-06
           jax: loss per epoch [2.451678, 2.194741, 2.105618, 2.089236, 2.084661]; one Adam step vs NumPy: summed-gradient Adam 6.83e-07, per-occurrence Adam 5.51e-02
         torch: loss per epoch [2.451677, 2.194741, 2.105618, 2.089236, 2.08466]; one Adam step vs NumPy: summed-gradient Adam 6.83e-07, per-occurrence Adam 5.51e-02

Prints, per backend, the training loss of a small Embedding + LSTM + Dense
next-token model from identical weights over identical unshuffled batches,
and on TensorFlow the distance of one Adam step from NumPy's Adam on the
summed gradient and from NumPy's Adam on the per-occurrence squares.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

VOCAB, DIM, UNITS, LENGTH = 12, 16, 32, 6


def data(n=512, seed=0):
    """Sequences over 8 ids (every id repeats in every batch); predict the next id."""
    ids = np.random.default_rng(seed).integers(4, VOCAB, size=(n, LENGTH + 1)).astype("int32")
    return ids[:, :-1], ids[:, 1:]


def initial_weights(shapes):
    rng = np.random.default_rng(42)
    return [rng.uniform(-0.1, 0.1, size=shape).astype("float32") for shape in shapes]


def loss_curve(epochs):
    import keras

    inputs = keras.Input((LENGTH,), dtype="int32")
    x = keras.layers.Embedding(VOCAB, DIM)(inputs)
    x = keras.layers.LSTM(UNITS, return_sequences=True)(x)
    model = keras.Model(inputs, keras.layers.Dense(VOCAB)(x))
    model.set_weights(initial_weights([w.shape for w in model.get_weights()]))
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = data()
    history = model.fit(x, y, batch_size=64, epochs=epochs, shuffle=False, verbose=0)
    return [round(float(v), 6) for v in history.history["loss"]]


def numpy_adam_step(start, grads, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, per_occurrence=False):
    """One Adam step (Keras' form) from `start`; `grads` holds (row, gradient) per occurrence."""
    summed, squares = np.zeros_like(start), np.zeros_like(start)
    for row, g in grads:
        summed[row] += g
        squares[row] += g * g
    m = (1 - beta_1) * summed
    v = (1 - beta_2) * (squares if per_occurrence else summed * summed)
    alpha = lr * np.sqrt(1 - beta_2) / (1 - beta_1)
    return start - alpha * m / (np.sqrt(v) + epsilon)


def one_step_against_numpy():
    import keras

    ids = np.array([[1, 1, 2, 1]], "int32")
    coef = np.random.default_rng(0).normal(size=(1, 4, 3)).astype("float32")
    start = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    layer = keras.layers.Embedding(5, 3, embeddings_initializer=keras.initializers.Constant(start))
    inputs = keras.Input((4,), dtype="int32")
    model = keras.Model(inputs, layer(inputs))
    model.compile(keras.optimizers.Adam(0.1),
                  lambda y_true, y_pred: keras.ops.sum(y_pred * keras.ops.convert_to_tensor(coef)))
    model.fit(ids, np.zeros((1, 4, 3), "float32"), epochs=1, verbose=0)
    got = keras.ops.convert_to_numpy(layer.embeddings)
    grads = [(int(row), coef[0, t]) for t, row in enumerate(ids[0])]
    return {"max_abs_diff_from_summed_gradient_adam": float(np.abs(got - numpy_adam_step(start, grads)).max()),
            "max_abs_diff_from_per_occurrence_adam": float(np.abs(
                got - numpy_adam_step(start, grads, per_occurrence=True)).max())}


def run_backend(epochs):
    import keras

    report = {"backend": keras.backend.backend(), "loss": loss_curve(epochs)}
    report.update(one_step_against_numpy())
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="1 epoch instead of 5")
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--out", help="also write the reports as JSON here")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    epochs = 1 if args.smoke else 5
    if args.in_process:
        return run_backend(epochs)
    reports = {}
    for backend in args.backends.split(","):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [sys.executable, __file__, "--in-process"] + (["--smoke"] if args.smoke else [])
        out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        report = reports[backend] = json.loads(out.strip().splitlines()[-1])
        print(f"{backend:>10}: loss per epoch {report['loss']}; one Adam step vs NumPy: "
              f"summed-gradient Adam {report['max_abs_diff_from_summed_gradient_adam']:.2e}, "
              f"per-occurrence Adam {report['max_abs_diff_from_per_occurrence_adam']:.2e}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(reports, f, indent=1)


if __name__ == "__main__":
    main()
