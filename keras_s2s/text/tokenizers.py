"""Vocabularies and in-graph tokenizers on TensorFlow Text.

Every tokenizer has a fixed vocabulary whose first four tokens are the
special tokens (`<pad>`=0, `<unk>`=1, `<s>`=2, `</s>`=3), encodes strings to
right-padded int32 ids and decodes ids back to strings, in graph (usable
inside `tf.data`, `tf.function` and exported SavedModels). Tokenizers are
`tf.Module`s, so a SavedModel that uses them tracks their lookup tables.

- `CharTokenizer`: Unicode code points (`tensorflow_text.UnicodeCharTokenizer`),
  for spelling tasks (G2P, dates, addition).
- `WordTokenizer`: whitespace-separated tokens (phonemes, words), split with
  core `tf.strings.split` so a serving process needs no TF Text ops.
- `SubwordTokenizer`: WordPiece (`tensorflow_text.FastWordpieceTokenizer`,
  vocabulary learned with TF Text's `bert_vocab_from_dataset`). A serving
  process must load TF Text ops (`import tensorflow_text`).
"""

import collections
import json
import pathlib

import keras
import tensorflow as tf

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.special_tokens import BOS_ID, EOS_ID, PAD_ID, SPECIAL_TOKENS, UNK, UNK_ID

_NUM_SPECIAL = len(SPECIAL_TOKENS)


def _check_texts(texts):
    texts = tf.convert_to_tensor(texts)
    if texts.dtype != tf.string:
        raise TypeError(
            f"`texts` must be strings. Received: texts with dtype {texts.dtype.name}."
        )
    if texts.shape.rank != 1:
        raise ValueError(
            f"`texts` must be a 1-D batch of strings. Received: shape {texts.shape}."
        )
    return texts


def _with_specials(vocabulary):
    """Puts the special tokens first and removes duplicates, keeping order."""
    if isinstance(vocabulary, (str, bytes)) or not hasattr(vocabulary, "__iter__"):
        raise TypeError(
            f"`vocabulary` must be a list of str. Received: {type(vocabulary).__name__}."
        )
    tokens = [str(t) for t in vocabulary]
    if len(tokens) > limits.MAX_VOCAB_SIZE:
        raise ValueError(
            f"`vocabulary` must have at most {limits.MAX_VOCAB_SIZE} tokens "
            f"(keras_s2s.limits.MAX_VOCAB_SIZE). Received: {len(tokens)} tokens."
        )
    if not all(tokens):
        raise ValueError("`vocabulary` must not contain empty tokens.")
    rest = [t for t in dict.fromkeys(tokens) if t not in SPECIAL_TOKENS]
    return list(SPECIAL_TOKENS) + rest


def _counted(counter, max_size, min_count):
    items = [(t, c) for t, c in counter.items() if c >= min_count and t not in SPECIAL_TOKENS]
    items.sort(key=lambda tc: (-tc[1], tc[0]))
    if max_size is not None:
        items = items[: max(0, max_size - _NUM_SPECIAL)]
    return [t for t, _ in items]


class Tokenizer(tf.Module):
    """Base class: a vocabulary, in-graph `encode` and `decode`, a config.

    Subclasses implement `tokenize(texts) -> tf.RaggedTensor` of int32 ids
    and `detokenize(ids: tf.RaggedTensor) -> tf.string [B]`. To normalize
    text before tokenizing (lowercasing, splitting off punctuation, Unicode
    normalization), subclass one of the tokenizers and override `tokenize`
    with in-graph ops (`tf.strings.regex_replace`,
    `tensorflow_text.normalize_utf8`), so a served model normalizes as
    training did; register the subclass with
    `@keras.saving.register_keras_serializable()` so `load_tokenizer` can
    rebuild it from its file (only registered `Tokenizer` subclasses are
    ever constructed from a file).

    Example:

    ```python
    @keras.saving.register_keras_serializable(package="my_app")
    class NormalizingWordTokenizer(keras_s2s.text.WordTokenizer):
        def tokenize(self, texts):
            texts = tf.strings.regex_replace(tf.strings.lower(texts), r"([?.!,])", r" \1 ")
            return super().tokenize(texts)
    ```

    Attributes:
        vocabulary: list of str, id i is `vocabulary[i]`; specials first.
        vocabulary_size: int V.
    """

    def __init__(self, vocabulary, name=None):
        super().__init__(name=name)
        self.vocabulary = _with_specials(vocabulary)
        self._tokens = tf.constant(self.vocabulary)

    @property
    def vocabulary_size(self):
        return len(self.vocabulary)

    def tokenize(self, texts):
        raise NotImplementedError

    def detokenize(self, ids):
        raise NotImplementedError

    def encode(self, texts, *, add_bos=False, add_eos=False, max_length=None):
        """Strings to right-padded ids, in graph.

        Args:
            texts: tf.string `[B]` (or a list of str).
            add_bos: bool, prepend BOS (id 2). Defaults to `False`.
            add_eos: bool, append EOS (id 3). Defaults to `False`.
            max_length: optional positive int; longer sequences are cut to
                this many ids (EOS included). Defaults to no limit.

        Returns:
            int32 `[B, L]`, 0-padded, L the longest sequence in the batch.
            Characters or words outside the vocabulary map to UNK (id 1).

        Raises:
            TypeError: `texts` are not strings. ValueError: not 1-D.
        """
        ids = self.encode_ragged(texts, add_bos=add_bos, add_eos=add_eos, max_length=max_length)
        return ids.to_tensor(default_value=PAD_ID)

    def encode_ragged(self, texts, *, add_bos=False, add_eos=False, max_length=None):
        """As `encode`, but returns a `tf.RaggedTensor` of int32 `[B, None]`."""
        texts = _check_texts(texts)
        ids = self.tokenize(texts)
        if max_length is not None:
            max_length = _checks.positive_int("max_length", max_length)
            ids = ids[:, : max_length - int(add_bos) - int(add_eos)]
        batch = tf.shape(texts)[:1]
        parts = []
        if add_bos:
            parts.append(tf.RaggedTensor.from_tensor(tf.fill(tf.concat([batch, [1]], 0), BOS_ID)))
        parts.append(ids)
        if add_eos:
            parts.append(tf.RaggedTensor.from_tensor(tf.fill(tf.concat([batch, [1]], 0), EOS_ID)))
        return tf.concat(parts, axis=1) if len(parts) > 1 else ids

    def decode(self, ids):
        """Ids to strings, in graph: stops at the first EOS, drops specials.

        Args:
            ids: int tensor `[B, L]` (or `[B, N, L]`), e.g. `generate`'s ids.

        Returns:
            tf.string `[B]` (or `[B, N]`).
        """
        ids = tf.convert_to_tensor(ids)
        if ids.shape.rank == 3:
            shape = tf.shape(ids)
            flat = self.decode(tf.reshape(ids, [-1, shape[2]]))
            return tf.reshape(flat, shape[:2])
        ids = tf.cast(ids, tf.int32)
        before_eos = tf.equal(tf.cumsum(tf.cast(tf.equal(ids, EOS_ID), tf.int32), axis=1), 0)
        keep = tf.logical_and(before_eos, tf.logical_or(ids >= _NUM_SPECIAL, tf.equal(ids, UNK_ID)))
        keep = tf.logical_and(keep, ids < self.vocabulary_size)
        return self.detokenize(tf.ragged.boolean_mask(ids, keep))

    def trackable_resources(self):
        """The lookup tables and other resources an exported graph needs."""
        return [t for t in (getattr(self, "_table", None), getattr(self, "_wordpiece", None)) if t is not None]

    def get_config(self):
        return {"vocabulary": list(self.vocabulary), "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def save(self, path):
        """Writes the tokenizer as JSON (`keras_s2s.text.load_tokenizer` reads it).

        Raises:
            ValueError: the tokenizer's class is not registered with
                `keras.saving.register_keras_serializable`, so its file could
                not be loaded back.
        """
        name = keras.saving.get_registered_name(type(self))
        if keras.saving.get_registered_object(name) is not type(self):
            raise ValueError(
                f"{type(self).__name__} is not registered, so load_tokenizer could not rebuild "
                "it: decorate the class with @keras.saving.register_keras_serializable()."
            )
        payload = {"class_name": name, "config": self.get_config()}
        pathlib.Path(path).write_text(json.dumps(payload, ensure_ascii=False, indent=1), "utf-8")

    def save_vocabulary(self, path):
        """Writes one token per line, id order (line i is id i)."""
        pathlib.Path(path).write_text("\n".join(self.vocabulary) + "\n", "utf-8")


@keras.saving.register_keras_serializable(package="keras_s2s")
class CharTokenizer(Tokenizer):
    """Character (Unicode code point) tokenizer.

    Splits UTF-8 text into code points with
    `tensorflow_text.UnicodeCharTokenizer` (invalid bytes become U+FFFD) and
    maps each to an id with a static hash table; unknown characters map to
    UNK. Decoding joins characters with no separator; UNK decodes to U+FFFD.
    All ops are core TensorFlow, so an exported SavedModel needs only
    `tensorflow`.

    Args:
        vocabulary: list of single characters (the specials are added first
            if missing).
        lowercase: bool, lowercase input before lookup. Defaults to `False`.
        name: optional module name.

    Raises:
        ValueError: a vocabulary entry other than a special token that is
            not exactly one character.

    Example:

    ```python
    tokenizer = CharTokenizer.from_texts(["hello", "wörld"])
    ids = tokenizer.encode(["hello"], add_eos=True)   # int32 [1, 6]
    tokenizer.decode(ids)                              # [b"hello"]
    ```
    """

    def __init__(self, vocabulary, lowercase=False, name=None):
        super().__init__(vocabulary, name=name)
        chars = self.vocabulary[_NUM_SPECIAL:]
        bad = [c for c in chars if len(c) != 1]
        if bad:
            raise ValueError(
                "CharTokenizer vocabulary entries must be single characters. "
                f"Received: {bad[:5]}."
            )
        self.lowercase = bool(lowercase)
        import tensorflow_text as tf_text  # heavy import, only where used

        self._splitter = tf_text.UnicodeCharTokenizer()
        codepoints = tf.constant([ord(c) for c in chars] or [-1], tf.int32)
        ids = tf.range(_NUM_SPECIAL, _NUM_SPECIAL + max(1, len(chars)), dtype=tf.int32)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(codepoints, ids), default_value=UNK_ID
        )
        display = list(self.vocabulary)
        display[UNK_ID] = "\ufffd"
        self._display = tf.constant(display)

    @classmethod
    def from_texts(cls, texts, max_size=None, min_count=1, lowercase=False):
        """Builds the vocabulary from an iterable of str: the most frequent
        characters (ties by code point), at most `max_size` ids in all."""
        counter = collections.Counter()
        for text in texts:
            counter.update(text.lower() if lowercase else text)
        return cls(_counted(counter, max_size, min_count), lowercase=lowercase)

    def tokenize(self, texts):
        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        codepoints = tf.cast(self._splitter.tokenize(texts), tf.int32)
        return tf.ragged.map_flat_values(self._table.lookup, codepoints)

    def detokenize(self, ids):
        return tf.strings.reduce_join(tf.gather(self._display, ids), axis=-1)

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase}


@keras.saving.register_keras_serializable(package="keras_s2s")
class WordTokenizer(Tokenizer):
    """Whitespace tokenizer (words, or phonemes such as `"HH AH0 L OW1"`).

    Splits on whitespace with core `tf.strings.split` (not a TF Text op) so
    an exported SavedModel needs only `tensorflow`; unknown tokens map to
    UNK; decoding joins tokens with one space (UNK decodes to `<unk>`).

    Args:
        vocabulary: list of tokens without whitespace.
        lowercase: bool. Defaults to `False`.
        name: optional module name.
    """

    def __init__(self, vocabulary, lowercase=False, name=None):
        super().__init__(vocabulary, name=name)
        words = self.vocabulary[_NUM_SPECIAL:]
        bad = [w for w in words if len(w.split()) != 1 or w != w.strip()]
        if bad:
            raise ValueError(f"WordTokenizer tokens must not contain whitespace. Received: {bad[:5]}.")
        self.lowercase = bool(lowercase)
        self._table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(
                tf.constant(words or ["\x00"]),
                tf.range(_NUM_SPECIAL, _NUM_SPECIAL + max(1, len(words)), dtype=tf.int32),
            ),
            default_value=UNK_ID,
        )

    @classmethod
    def from_texts(cls, texts, max_size=None, min_count=1, lowercase=False):
        """Builds the vocabulary from an iterable of str (most frequent first)."""
        counter = collections.Counter()
        for text in texts:
            counter.update((text.lower() if lowercase else text).split())
        return cls(_counted(counter, max_size, min_count), lowercase=lowercase)

    def tokenize(self, texts):
        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        return tf.ragged.map_flat_values(self._table.lookup, tf.strings.split(texts))

    def detokenize(self, ids):
        return tf.strings.reduce_join(tf.gather(self._tokens, ids), axis=-1, separator=" ")

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase}


@keras.saving.register_keras_serializable(package="keras_s2s")
class SubwordTokenizer(Tokenizer):
    """WordPiece subwords with `tensorflow_text.FastWordpieceTokenizer`.

    Text is split on whitespace (`tf.strings.split`), then each word into
    WordPiece units (continuations carry the `##` prefix); words that cannot
    be split become UNK. `decode` joins pieces back into words separated by
    one space. The serving process must import `tensorflow_text` for its
    ops.

    Args:
        vocabulary: WordPiece vocabulary (e.g. from `from_texts`).
        lowercase: bool. Defaults to `False`.
        name: optional module name.

    References:
        Wu et al. 2016 (GNMT), sec. 4.1; Song et al. 2021, Fast WordPiece
        Tokenization.
    """

    def __init__(self, vocabulary, lowercase=False, name=None):
        super().__init__(vocabulary, name=name)
        import tensorflow_text as tf_text

        self.lowercase = bool(lowercase)
        self._wordpiece = tf_text.FastWordpieceTokenizer(
            self.vocabulary,
            suffix_indicator="##",
            unknown_token=UNK,
            no_pretokenization=True,
            support_detokenization=True,
            token_out_type=tf.int32,
        )

    @classmethod
    def from_texts(cls, texts, vocabulary_size=8000, lowercase=False):
        """Learns a WordPiece vocabulary of at most `vocabulary_size` tokens
        with TF Text's `bert_vocab_from_dataset`."""
        from tensorflow_text.tools.wordpiece_vocab import bert_vocab_from_dataset as learner

        vocabulary_size = _checks.positive_int("vocabulary_size", vocabulary_size)
        texts = [t.lower() if lowercase else t for t in texts]
        if not texts:
            raise ValueError("`texts` is empty: cannot learn a vocabulary from no text.")
        dataset = tf.data.Dataset.from_tensor_slices(texts).batch(1024)
        vocabulary = learner.bert_vocab_from_dataset(
            dataset,
            vocab_size=vocabulary_size,
            reserved_tokens=list(SPECIAL_TOKENS),
            bert_tokenizer_params={"lower_case": False},
        )
        return cls(vocabulary, lowercase=lowercase)

    def tokenize(self, texts):
        if self.lowercase:
            texts = tf.strings.lower(texts, encoding="utf-8")
        pieces = self._wordpiece.tokenize(tf.strings.split(texts))
        return pieces.merge_dims(1, 2)

    def detokenize(self, ids):
        return self._wordpiece.detokenize(ids)

    def get_config(self):
        return {**super().get_config(), "lowercase": self.lowercase}


# Files written before registered names were saved use the bare class name.
_CLASSES = {c.__name__: c for c in (CharTokenizer, WordTokenizer, SubwordTokenizer)}


def load_tokenizer(path):
    """Reads a tokenizer written by `Tokenizer.save`.

    The file's `class_name` is a registered Keras name (`"keras_s2s>CharTokenizer"`,
    or a user subclass registered with
    `keras.saving.register_keras_serializable`); only `Tokenizer`
    subclasses are constructed.

    Raises:
        FileNotFoundError: no such file. ValueError: not a tokenizer file
            (damaged JSON, invalid UTF-8, an unregistered class, a bad
            config), named in the message.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No tokenizer file at {str(path)!r}.")
    expected = (
        f"expected JSON with 'class_name' (one of {sorted(_CLASSES)} or a registered "
        "Tokenizer subclass) and 'config'"
    )
    try:
        payload = json.loads(path.read_text("utf-8"))
        name = payload["class_name"]
        cls = _CLASSES.get(name) or keras.saving.get_registered_object(name)
        if not (isinstance(cls, type) and issubclass(cls, Tokenizer)):
            raise ValueError(
                f"class {name!r} is not a registered keras_s2s Tokenizer (register a subclass "
                "with @keras.saving.register_keras_serializable() before loading)"
            )
        config = payload["config"]
        if not isinstance(config, dict):
            raise TypeError(f"'config' must be an object, not {type(config).__name__}")
        return cls.from_config(config)
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise ValueError(
            f"{str(path)!r} is not a keras_s2s tokenizer file ({expected}): "
            f"{type(error).__name__}: {str(error)[:300]}."
        ) from None
