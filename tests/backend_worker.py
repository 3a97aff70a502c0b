"""Runs one job on the backend named by KERAS_BACKEND, in its own process
(Keras picks its backend once per process). Used by tests/test_backends.py.

    python tests/backend_worker.py parity DIR
    python tests/backend_worker.py train OUT_DIR
    python tests/backend_worker.py bad_ids [DIR]
    python tests/backend_worker.py optimizer_curves DIR
    python tests/backend_worker.py parity+optimizer_curves+bad_ids DIR   # several jobs, one process

`parity` loads every DIR/NAME.keras that has DIR/NAME.npz inputs and writes
DIR/NAME.BACKEND.npz: the teacher-forced logits,
the logits of the generator's decoder step fed the same tokens one by one,
and the attention layer's context and weights on fixed float inputs.
`optimizer_curves` loads DIR/model.keras once per optimizer of
`OPTIMIZERS`, fits it on fixed unshuffled batches and writes the per-epoch
losses to DIR/curves.BACKEND.json.
`train` fits a small attention model on the reversal task, saves
`model.keras`, and writes the greedy and beam ids it generates.
`bad_ids` prints (and with DIR writes to DIR/bad_ids.BACKEND.txt) the errors
of `fit` and `generate` on an out-of-range id.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from conftest import reversal_data  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy  # noqa: E402

TRAIN_SOURCES = reversal_data(16, 5)[0]["source_ids"]


def parity(directory):
    for name in sorted(os.listdir(directory)):
        stem = os.path.join(directory, name[: -len(".keras")])
        if name.endswith(".keras") and os.path.exists(stem + ".npz"):  # a model with parity inputs
            parity_of(stem + ".keras", stem + ".npz", f"{stem}.{keras.backend.backend()}.npz")


def parity_of(model_path, inputs_path, out_path):
    model = keras.models.load_model(model_path)
    inputs = np.load(inputs_path)
    source, target_in = inputs["source_ids"], inputs["target_ids"]
    logits = model.predict({"source_ids": source, "target_ids": target_in}, verbose=0)
    generator = keras_s2s.build_inference_model(model)
    encoded = generator.encoder(keras.ops.convert_to_tensor(source))
    state, memory = encoded["state"], encoded["memory"]
    steps = []
    for t in range(target_in.shape[1]):
        out = generator.decoder_step({"token_ids": keras.ops.convert_to_tensor(target_in[:, t]),
                                      "state": state, "memory": memory})
        steps.append(keras.ops.convert_to_numpy(out["logits"]))
        state = out["state"]
    attention = model.get_layer("decoder").attention
    context, weights = attention(keras.ops.convert_to_tensor(inputs["query"]),
                                 keras.ops.convert_to_tensor(inputs["value"]),
                                 value_mask=keras.ops.convert_to_tensor(inputs["value_mask"]))
    np.savez(out_path, logits=np.asarray(logits), step_logits=np.stack(steps, axis=1),
             context=keras.ops.convert_to_numpy(context), weights=keras.ops.convert_to_numpy(weights))


def train(out_dir):
    x, y = reversal_data(3000, 0)
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=16, units=48, attention="luong",
                                    bidirectional=True, reverse_source=True)
    model.compile(keras.optimizers.Adam(0.01, clipnorm=5.0), MaskedSparseCategoricalCrossentropy())
    model.fit(x, y, batch_size=64, epochs=4, verbose=0)
    model.save(os.path.join(out_dir, "model.keras"))
    generator = keras_s2s.build_inference_model(model)
    greedy = generator.generate(TRAIN_SOURCES, max_length=7)
    beam = generator.generate(TRAIN_SOURCES, max_length=7, strategy="beam", num_beams=3)
    np.savez(os.path.join(out_dir, "tokens.npz"), greedy=greedy["ids"], beam=beam["ids"],
             backend=keras.backend.backend())


# name -> (optimizer class, constructor arguments), for `optimizer_curves`.
OPTIMIZERS = {  # each compiles a train step per backend; clipnorm with Adam and AdamW, without with RMSprop
    "adam": ("Adam", {"learning_rate": 0.01}),
    "adam_clipnorm": ("Adam", {"learning_rate": 0.01, "clipnorm": 0.5}),
    "adamw_clipnorm": ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.01, "clipnorm": 0.5}),
    "rmsprop": ("RMSprop", {"learning_rate": 0.003}),
}
CURVE_EPOCHS = 3


def optimizer_curves(directory):
    x, y = reversal_data(256, 0)  # 8 ids over batches of 32: every id repeats in every batch
    curves = {}
    for name, (cls, options) in OPTIMIZERS.items():
        model = keras.models.load_model(os.path.join(directory, "model.keras"))
        model.compile(getattr(keras.optimizers, cls)(**options), MaskedSparseCategoricalCrossentropy())
        history = model.fit(x, y, batch_size=32, epochs=CURVE_EPOCHS, shuffle=False, verbose=0)
        curves[name] = [float(loss) for loss in history.history["loss"]]
    with open(os.path.join(directory, f"curves.{keras.backend.backend()}.json"), "w") as f:
        json.dump(curves, f)


def bad_ids(directory=None):
    """`fit` and `generate` on a source id outside the vocabulary: prints the
    error each raised (`type: message`), one per line."""
    lines = []
    x, y = reversal_data(64, 0)
    x["source_ids"][3, 0] = 12  # the vocabulary is [0, 12)
    model = keras_s2s.build_seq2seq(12, 12, embedding_dim=4, units=8)
    model.compile("adam", MaskedSparseCategoricalCrossentropy())
    generator = keras_s2s.build_inference_model(model)
    for name, run in (("fit", lambda: model.fit(x, y, epochs=1, verbose=0)),
                      ("generate", lambda: generator.generate(x["source_ids"], max_length=4))):
        try:
            run()
            lines.append(f"{name}: no error")
        except Exception as error:  # noqa: BLE001 - the test reads what was raised
            message = " ".join(str(error).split())
            lines.append(f"{name}: {type(error).__name__}: {message[:2000]}")
    print("\n".join(lines))
    if directory is not None:
        with open(os.path.join(directory, f"bad_ids.{keras.backend.backend()}.txt"), "w") as f:
            f.write("\n".join(lines))


if __name__ == "__main__":
    jobs, *args = sys.argv[1:]
    for job in jobs.split("+"):  # several jobs share one process (each process start costs seconds)
        {"parity": parity, "train": train, "bad_ids": bad_ids,
         "optimizer_curves": optimizer_curves}[job](*args)
