"""tf.data pipelines for teacher forcing, and a TSV reader for parallel text."""

import collections
import pathlib

import numpy as np
import tensorflow as tf

from keras_s2s import _checks
from keras_s2s import limits

TsvData = collections.namedtuple("TsvData", ["sources", "targets", "skipped"])


def read_tsv(path):
    """Reads "source<TAB>target" lines (Anki / Tatoeba / manythings exports).

    UTF-8; extra columns (e.g. attribution) are ignored; a line that is not
    valid UTF-8, has fewer than two columns, an empty source or target, or
    more than `keras_s2s.limits.MAX_TSV_LINE_CHARS` characters (one such
    line would otherwise pad a whole batch to its length) is skipped and
    counted, never fatal. A UTF-8 byte-order mark and Windows
    line ends are accepted.

    Args:
        path: str or path-like.

    Returns:
        `TsvData(sources, targets, skipped)`: two lists of str and the
        number of skipped lines (blank lines are not counted).

    Raises:
        FileNotFoundError: no file at `path`.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No TSV file at {str(path)!r}.")
    sources, targets, skipped = [], [], 0
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for line in raw.split(b"\n"):
        line = line.rstrip(b"\r")
        if not line.strip():
            continue
        if len(line) > 4 * limits.MAX_TSV_LINE_CHARS:  # more bytes than any such line has
            skipped += 1
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            skipped += 1
            continue
        fields = text.split("\t")
        too_long = len(text) > limits.MAX_TSV_LINE_CHARS
        if too_long or len(fields) < 2 or not fields[0].strip() or not fields[1].strip():
            skipped += 1
            continue
        sources.append(fields[0].strip())
        targets.append(fields[1].strip())
    return TsvData(sources, targets, skipped)


def compile_padding():
    """The `pad_to_multiple_of` the package's own runs use: 8 on JAX (whose
    `jit` compiles once per batch shape), else `None` (TensorFlow and PyTorch
    take any shape without recompiling)."""
    import keras

    return 8 if keras.backend.backend() == "jax" else None


def _bucket_boundaries(lengths, num_buckets=8):
    quantiles = np.quantile(lengths, np.linspace(0, 1, num_buckets + 1)[1:-1])
    return sorted({int(q) + 1 for q in quantiles})


def make_dataset(
    source_texts,
    target_texts,
    source_tokenizer,
    target_tokenizer,
    *,
    batch_size,
    shuffle=True,
    bucket_by_length=True,
    seed=0,
    max_length=None,
    pad_to_multiple_of=None,
):
    """A teacher-forcing dataset: `({"source_ids", "target_ids"}, target_out)`.

    Texts are tokenized once, in graph. `target_ids` is `[BOS] + target` and
    `target_out` is `target + [EOS]` (the shift by one of teacher forcing);
    all int32, right-padded with 0 per batch. With `bucket_by_length`,
    examples of similar length are batched together
    (`tf.data.Dataset.bucket_by_sequence_length`, boundaries at length
    quantiles), so batches carry little padding.

    Args:
        source_texts, target_texts: lists of str of equal length.
        source_tokenizer, target_tokenizer: `keras_s2s.text.Tokenizer`s.
        batch_size: positive int.
        shuffle: bool, reshuffle every epoch. Defaults to `True`.
        bucket_by_length: bool. Defaults to `True`.
        seed: int, shuffling seed. Defaults to 0.
        max_length: optional positive int, longest source and target
            sequence kept (longer ones are cut). Defaults to no limit.
        pad_to_multiple_of: optional positive int M: every batch's source
            and target lengths are padded up to a multiple of M, so a
            compiler sees few shapes. Use it on JAX (`jax.jit` compiles once
            per shape: batches padded only to their own longest sequence
            compile anew almost every step; 8 is a good value) and for XLA
            on TensorFlow. The padding is masked, so losses and metrics are
            unchanged. Defaults to `None` (each batch padded to its longest).

    Returns:
        A `tf.data.Dataset` of `(inputs, target_out)`: `inputs["source_ids"]`
        int32 `[B, S]`, `inputs["target_ids"]` int32 `[B, T]`, `target_out`
        int32 `[B, T]`.

    Raises:
        ValueError: empty or mismatched texts, or `batch_size <= 0`.
    """
    batch_size = _checks.positive_int("batch_size", batch_size)
    source_texts, target_texts = list(source_texts), list(target_texts)
    _checks.same_length("source_texts", source_texts, "target_texts", target_texts)
    if not source_texts:
        raise ValueError("The dataset is empty: no source/target pairs were given.")
    sources = source_tokenizer.encode_ragged(source_texts, max_length=max_length)
    targets = target_tokenizer.encode_ragged(
        target_texts, max_length=None if max_length is None else max_length + 1
    )
    return _teacher_forcing(sources, targets, "source_ids", batch_size=batch_size,
                            shuffle=shuffle, bucket_by_length=bucket_by_length, seed=seed,
                            pad_to_multiple_of=pad_to_multiple_of)


def make_feature_dataset(
    features,
    target_texts,
    target_tokenizer,
    *,
    batch_size,
    shuffle=True,
    bucket_by_length=True,
    seed=0,
    pad_to_multiple_of=None,
):
    """A teacher-forcing dataset over float frames (speech, time series):
    `({"source_features", "source_lengths", "target_ids"}, target_out)`.

    As `make_dataset`, with frames in place of source ids: each batch is
    right-padded with all-zero frames and carries each row's length, so a
    frame of zeros inside a sequence (silence, a reading of 0.0, also the
    last one) is data (`keras_s2s.specs.FloatFrames`); buckets group
    examples of similar frame count.

    Args:
        features: list of float arrays `[S_i, F]`.
        target_texts: list of str, as many as `features`.
        target_tokenizer: a `keras_s2s.text.Tokenizer`.
        batch_size, shuffle, bucket_by_length, seed, pad_to_multiple_of:
            as `make_dataset` (frames are padded with all-zero frames).

    Returns:
        A `tf.data.Dataset` of `(inputs, target_out)`:
        `inputs["source_features"]` float32 `[B, S, F]`,
        `inputs["source_lengths"]` int32 `[B]`, `inputs["target_ids"]` and `target_out` int32 `[B, T]`.

    Raises:
        ValueError: empty or mismatched inputs, frames of different sizes F,
            or `batch_size <= 0`.
    """
    batch_size = _checks.positive_int("batch_size", batch_size)
    features, target_texts = list(features), list(target_texts)
    _checks.same_length("features", features, "target_texts", target_texts)
    if not features:
        raise ValueError("The dataset is empty: no feature/target pairs were given.")
    sizes = {np.shape(f)[-1] for f in features}
    if len(sizes) != 1 or any(np.ndim(f) != 2 for f in features):
        raise ValueError(
            "`features` must be float arrays [S_i, F] with one F. Received: ranks "
            f"{sorted({np.ndim(f) for f in features})} and sizes {sorted(sizes)}."
        )
    lengths = np.array([len(f) for f in features], np.int64)
    sources = tf.RaggedTensor.from_row_lengths(
        np.concatenate(features).astype(np.float32), lengths)
    targets = target_tokenizer.encode_ragged(target_texts)
    return _teacher_forcing(sources, targets, "source_features", lengths_key="source_lengths",
                            batch_size=batch_size,
                            shuffle=shuffle, bucket_by_length=bucket_by_length, seed=seed,
                            pad_to_multiple_of=pad_to_multiple_of)


def _pad_time(x, multiple):
    """`x` `[B, L, ...]` padded with zeros on axis 1 up to a multiple of `multiple`."""
    length = tf.shape(x)[1]
    extra = (multiple - length % multiple) % multiple
    paddings = tf.concat([[[0, 0], [0, extra]], tf.zeros([tf.rank(x) - 2, 2], tf.int32)], axis=0)
    return tf.pad(x, paddings)


def _teacher_forcing(sources, targets, source_key, *, batch_size, shuffle, bucket_by_length,
                     seed, pad_to_multiple_of=None, lengths_key=None):
    """Shifted targets, length buckets and padding over ragged sources and
    targets (with `lengths_key`, the sources' lengths under that key too)."""
    if pad_to_multiple_of is not None:
        pad_to_multiple_of = _checks.positive_int("pad_to_multiple_of", pad_to_multiple_of)
    dataset = tf.data.Dataset.from_tensor_slices((sources, targets))
    count = int(sources.nrows())
    if shuffle:
        dataset = dataset.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    def split(source, target):
        bos = tf.fill([1], tf.constant(2, target.dtype))
        eos = tf.fill([1], tf.constant(3, target.dtype))
        return source, tf.shape(source)[0], tf.concat([bos, target], 0), tf.concat([target, eos], 0)

    dataset = dataset.map(split, num_parallel_calls=tf.data.AUTOTUNE)
    if bucket_by_length:
        # The length that buckets see: source + target + EOS.
        lengths = sources.row_lengths().numpy() + targets.row_lengths().numpy() + 1
        boundaries = _bucket_boundaries(lengths)
        dataset = dataset.bucket_by_sequence_length(
            lambda s, n, t_in, t_out: tf.shape(s)[0] + tf.shape(t_out)[0],
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
        )
        # Each bucket yields ceil(n / batch_size) batches; telling tf.data
        # gives Keras a known epoch length (progress bars, no warnings).
        per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"))
        batches = int(np.sum(-(-per_bucket // batch_size)))
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    else:
        dataset = dataset.padded_batch(batch_size)
    if pad_to_multiple_of:
        m = pad_to_multiple_of
        dataset = dataset.map(
            lambda s, n, t_in, t_out: (_pad_time(s, m), n, _pad_time(t_in, m), _pad_time(t_out, m)),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.map(
        lambda s, n, t_in, t_out: ({source_key: s, **({lengths_key: n} if lengths_key else {}),
                                    "target_ids": t_in}, t_out),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset.prefetch(tf.data.AUTOTUNE)
