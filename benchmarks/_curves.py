"""Shared by the DLFS2 benchmarks: train variants, record per-epoch test accuracy, plot."""

import dataclasses
import json
import os
import pathlib
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_s2s  # noqa: E402
from keras_s2s.callbacks import GenerationAccuracy  # noqa: E402
from keras_s2s.data import make_dataset  # noqa: E402
from keras_s2s.losses import MaskedSparseCategoricalCrossentropy  # noqa: E402

RESULTS = pathlib.Path(__file__).parent / "results"


def accuracy_curves(variants, train, test, tokenizer, *, embedding_dim, units, batch_size, epochs,
                    learning_rate, global_clipnorm, max_length, seed=1984):
    """Trains each variant and returns per-epoch greedy test exact match.

    A variant is `build_seq2seq` kwargs plus, for the ablations, the book's set-ups (DLFS2, `common/
    time_layers.py` and ch. 7-8) that are not library options: `initialization="book"` (see
    `book_initialization`), `decoder_state="h"` (see `decoder_from_h`), `source_padding="spaces"`
    (sources padded with spaces to one length, so nothing is masked). Gradients are clipped by their global
    norm, as the book's `clip_grads` does. `ema_momentum=m` (a library option of training runs, not the
    book's) keeps Adam's moving average of the weights, which the per-epoch accuracy then measures.
    """
    results = {}
    for name, options in variants.items():
        options = dict(options)
        initialization = options.pop("initialization", "keras")
        decoder_state = options.pop("decoder_state", "h_and_c")
        ema_momentum = options.pop("ema_momentum", 0.0)
        variant_train, variant_test = train, test
        if options.pop("source_padding", "masked") == "spaces":
            variant_train, variant_test = pad_with_spaces(train, test)
        keras.utils.set_random_seed(seed)
        model = keras_s2s.build_seq2seq(tokenizer.vocabulary_size, tokenizer.vocabulary_size,
                                        embedding_dim=embedding_dim, units=units, **options)
        if decoder_state == "h":
            model = decoder_from_h(model)
        if initialization == "book":
            book_initialization(model, seed)
        model.compile(keras.optimizers.Adam(learning_rate, global_clipnorm=global_clipnorm,
                                            use_ema=ema_momentum > 0, ema_momentum=ema_momentum),
                      MaskedSparseCategoricalCrossentropy())
        dataset = make_dataset(variant_train.sources, variant_train.targets, tokenizer, tokenizer,
                               batch_size=batch_size, bucket_by_length=False, seed=seed)
        accuracy = GenerationAccuracy(tokenizer.encode(variant_test.sources).numpy(),
                                      tokenizer.encode(variant_test.targets).numpy(), max_length=max_length)
        start = time.perf_counter()
        # as in `keras_s2s.runs.train`: the average is in the model from each epoch's end to the next start
        swap = [keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if ema_momentum > 0 else []
        model.fit(dataset, epochs=epochs, callbacks=swap + [accuracy], verbose=0)
        results[name] = {"accuracy": accuracy.history, "seconds": time.perf_counter() - start,
                         "options": {k: str(v) for k, v in variants[name].items()}}
        print(f"{name:22s} final {accuracy.history[-1]:.4f}  " + " ".join(f"{a:.3f}" for a in accuracy.history),
              flush=True)
    return results


def book_initialization(model, seed):
    """Re-draws every weight as the book does: embeddings N(0, 0.01^2), matrices N(0, 1 / fan_in) (its
    `randn(D, H) / sqrt(D)`), biases zero (so no forget-gate bias of 1). For models whose only 1-D
    weights are biases (dot attention or none)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        shape = tuple(weight.shape)
        if "embeddings" in weight.path:
            value = rng.normal(size=shape) / 100
        elif len(shape) == 2:
            value = rng.normal(size=shape) / np.sqrt(shape[0])
        elif weight.name == "bias":
            value = np.zeros(shape)
        else:
            raise ValueError(f"book_initialization does not know the weight {weight.path} {shape}")
        weight.assign(value.astype(weight.dtype))


def decoder_from_h(model):
    """The same model with a decoder whose LSTM starts from the encoder's h and a zero c, as the book's
    decoders do (`self.lstm.set_state(h)`): one `get_initial_state` override of the decoder's class."""
    decoder = model.get_layer("decoder")

    class FromHidden(type(decoder)):
        def get_initial_state(self, encoder_states):
            h, c, *rest = super().get_initial_state(encoder_states)
            return [h, keras.ops.zeros_like(c), *rest]

    decoder = FromHidden.from_config(decoder.get_config())
    source = keras.Input((None,), dtype="int32", name="source_ids")
    target = keras.Input((None,), dtype="int32", name="target_ids")
    outputs, states, mask = model.get_layer("encoder")(source)
    return keras.Model({"source_ids": source, "target_ids": target}, decoder(target, outputs, states, mask),
                       name=model.name)


def pad_with_spaces(*splits):
    """The splits with every source padded with spaces to the longest one, as the book's datasets are."""
    width = max(len(source) for split in splits for source in split.sources)
    return [dataclasses.replace(split, sources=[s.ljust(width) for s in split.sources]) for split in splits]


def g2p_batches(examples, pad_to_multiple_of=None, bucket_by_length=True):
    """The first `examples` CMUdict training pairs as cached batches of 128 (shuffled once, seed 0),
    optionally padded to a multiple of `pad_to_multiple_of` (few shapes for compilers), in length
    buckets unless `bucket_by_length=False` (smoke runs: a few hundred examples fill every bucket's
    batch with a shape of its own, which JAX compiles one by one).

    Returns `(dataset, letters, phonemes, tokens)`: the `tf.data` batches, the two tokenizers, and the
    number of real target tokens (EOS included) in one epoch, for throughput figures."""
    from keras_s2s import datasets
    from keras_s2s.data import make_dataset
    from keras_s2s.text import CharTokenizer, WordTokenizer

    train = datasets.cmudict_g2p()["train"]
    sources, targets = train.sources[:examples], train.targets[:examples]
    letters, phonemes = CharTokenizer.from_texts(sources), WordTokenizer.from_texts(targets)
    dataset = make_dataset(sources, targets, letters, phonemes, batch_size=128, seed=0,
                           pad_to_multiple_of=pad_to_multiple_of, bucket_by_length=bucket_by_length).cache()
    return dataset, letters, phonemes, int(sum(len(t.split()) + 1 for t in targets))


def timed(fn, repeats=2):
    """Best wall time of `repeats` calls of `fn`, after one warm-up call (tracing)."""
    fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def machine():
    return {"platform": platform.platform(), "cpus": os.cpu_count(),
            "gpus": len(tf.config.list_physical_devices("GPU")), "tensorflow": tf.__version__,
            "keras": keras.__version__}


def save(name, report, plot_title=None, smoke=False, merge=False):
    """Writes results/<name>.json and, with a title, results/<name>.png (accuracy per epoch).

    With `merge`, variants already in the file and not rerun are kept, and the file lists every command
    that produced its rows (`commands`)."""
    folder = RESULTS / "smoke" if smoke else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    if merge and path.exists():
        old = json.loads(path.read_text())
        commands = old.get("commands", [old["command"]])
        report = {**report, "results": {**old["results"], **report["results"]},
                  "commands": commands + [c for c in [report["command"]] if c not in commands]}
    report = {**report, "machine": machine()}
    (folder / f"{name}.json").write_text(json.dumps(report, indent=2))
    if plot_title:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for variant, result in report["results"].items():
            curve = result["accuracy"]
            ax.plot(range(1, len(curve) + 1), curve, marker="o", markersize=3, label=variant)
        ax.set_xlabel("epoch")
        ax.set_ylabel("test exact match (greedy)")
        ax.set_title(plot_title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / f"{name}.png", dpi=100)
        plt.close(fig)
    return folder / f"{name}.json"
