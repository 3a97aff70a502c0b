"""`build_seq2seq`: the training model in one call."""

import collections
import inspect
import re
import typing

import keras

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s import specs
from keras_s2s.layers import attention as attention_lib
from keras_s2s.layers.decoders import AttentionLSTMDecoder
from keras_s2s.layers.decoders import LSTMDecoder
from keras_s2s.layers.decoders import PeekyLSTMDecoder
from keras_s2s.layers.encoder import CELLS, Encoder
from keras_s2s.layers.feature_encoder import FeatureEncoder

ENCODER_NAME = "encoder"
DECODER_NAME = "decoder"
INPUT_NAMES = ("source_ids", "target_ids")


def _in_symbolic_scope():
    """Whether Keras is probing shapes (`compute_output_spec` under a
    `keras.SymbolicScope`, as `fit` does to build metrics under a
    distribution strategy, with placeholders of dtype float64 for every
    input). Keras exports the scope class but no public way to ask whether
    one is active, so this one wrapper reads Keras' own function; a Keras
    without it checks everything."""
    try:
        from keras.src.backend.common.symbolic_scope import in_symbolic_scope
    except ImportError:
        return False
    return in_symbolic_scope()


@keras.saving.register_keras_serializable(package="keras_s2s")
class Seq2SeqModel(keras.Model):
    """The functional training model that `build_seq2seq` returns.

    A plain functional `keras.Model` that checks its inputs before Keras
    converts them: Keras would silently cast float ids to int32.

    Call arguments:
        inputs: dict `{"source_ids": int [B, S], "target_ids": int [B, T]}`
            (`"source_features"` float `[B, S, F]` for a feature model, with
            optional `"source_lengths"` int `[B]`, real frames per row).

    Returns:
        Logits float `[B, T, V]`.

    Raises:
        ValueError: missing keys or ids of rank other than 2.
        TypeError: inputs not a dict, or ids that are not integers.
    """

    def __call__(self, inputs, *args, **kwargs):
        names = tuple(self.input) if isinstance(self.input, dict) else INPUT_NAMES
        expected = " and ".join(repr(k) for k in names)
        if not isinstance(inputs, dict):
            raise TypeError(
                f"A seq2seq model takes a dict with keys {expected}. Received: inputs of type "
                f"{type(inputs).__name__}."
            )
        inputs = self._with_absent_lengths(inputs)
        missing = [k for k in names if k not in inputs]
        if missing:
            raise ValueError(
                f"Missing model inputs {missing}. Received keys: {sorted(inputs)}. "
                f"Expected {expected}."
            )
        # Keras' own shape probes carry placeholder dtypes; only real data is checked.
        if not _in_symbolic_scope():
            for key, spec in self._input_specs().items():
                spec.check_batch(inputs[key])  # Keras would silently cast ids to float and back
        return super().__call__(inputs, *args, **kwargs)

    def call(self, inputs, *args, **kwargs):
        # Keras' JAX train step calls `call` without `__call__`: absent lengths are filled here too
        return super().call(self._with_absent_lengths(inputs), *args, **kwargs)

    def _with_absent_lengths(self, inputs):
        """`inputs` with `None` for an absent optional lengths input (the spec's fallback)."""
        if not isinstance(inputs, dict) or not isinstance(self.input, dict):
            return inputs
        optional = {getattr(spec, "lengths_name", None) for spec in self._input_specs().values()}
        return {**{k: None for k in self.input if k in optional}, **inputs}

    def _input_specs(self):
        """`{input name: spec}`: the encoder's source spec and the decoder's target spec."""
        layers = {layer.name: layer for layer in self.layers}
        found = [specs.source_spec_of(layers[ENCODER_NAME]) if ENCODER_NAME in layers else None,
                 specs.target_spec_of(layers[DECODER_NAME]) if DECODER_NAME in layers else None]
        return {spec.name: spec for spec in found if spec is not None}


def _check_source_options(source_vocab_size, num_features, pyramid_layers, normalize_features, reverse_source):
    """Token ids or frames, and only the options of that kind of source."""
    if (source_vocab_size is None) == (num_features is None):
        raise ValueError(
            "The source is either token ids (`source_vocab_size`) or float frames "
            "(`num_features`, with source_vocab_size=None). Received: "
            f"source_vocab_size={source_vocab_size!r}, num_features={num_features!r}."
        )
    if num_features is None and (pyramid_layers or normalize_features):
        raise ValueError(
            "`pyramid_layers` and `normalize_features` apply to feature sources "
            f"(`num_features`). Received: pyramid_layers={pyramid_layers!r}, "
            f"normalize_features={normalize_features!r} with token ids."
        )
    if num_features is not None and reverse_source:
        raise ValueError("`reverse_source` applies to token ids, not to feature frames.")


def _check_decoder_options(attention, input_feeding, peeky):
    """Input feeding needs attention; peeky and attention exclude each other."""
    if input_feeding and attention is None:
        raise ValueError(
            "`input_feeding=True` feeds the attentional state back, so it needs "
            "attention. Received: input_feeding=True with attention=None. Pass "
            "attention='luong' (or another attention) or input_feeding=False."
        )
    if peeky and attention is not None:
        raise ValueError(
            "`peeky=True` and `attention` are alternative decoders. Received: "
            f"peeky=True with attention={attention!r}. Choose one."
        )


def build_seq2seq(
    source_vocab_size,
    target_vocab_size,
    *,
    embedding_dim: int = 128,
    units: int = 256,
    cell: str = "lstm",
    num_layers: int = 1,
    bidirectional: bool = False,
    residual: bool = False,
    attention: str | attention_lib.BaseAttention | None = None,
    input_feeding: bool = False,
    attention_activation: str | None = "tanh",
    peeky: bool = False,
    reverse_source: bool = False,
    dropout: float = 0.0,
    scheduled_sampling: bool = False,
    encoder_units: int | None = None,
    num_features: int | None = None,
    pyramid_layers: int = 0,
    normalize_features: bool = False,
    name: str = "seq2seq",
):
    """Builds an RNN encoder-decoder training model (teacher forcing).

    The model is functional, made only of registered layers (an `Encoder`
    named `"encoder"` and a decoder named `"decoder"`), so `model.save` /
    `keras.models.load_model` round-trip with `safe_mode=True` and no
    `custom_objects`, and `keras_s2s.build_inference_model` can find its
    parts. Padding id is 0 on both sides; sequences are right-padded.

    Args:
        source_vocab_size: positive int, source vocabulary size.
        target_vocab_size: positive int, target vocabulary size V.
        embedding_dim: positive int, size of both embeddings. Defaults to 128.
        units: positive int, decoder units H. Defaults to 256.
        cell: `"lstm"` or `"gru"`, for encoder and decoder. Defaults to
            `"lstm"`.
        num_layers: positive int, stacked layers in encoder and decoder.
            Defaults to 1.
        bidirectional: bool, bidirectional encoder layers. Defaults to `False`.
        residual: bool, residual connections between stacked encoder layers
            (GNMT). Defaults to `False`.
        attention: `None` (no attention), `"bahdanau"`, `"luong"` (dot),
            `"luong_general"`, `"luong_concat"`, or a `BaseAttention`
            instance (a user subclass works). Defaults to `None`.
        input_feeding: bool, Luong input feeding; needs `attention`.
            Defaults to `False`.
        attention_activation: activation of the attentional layer
            `W_c [c; h]`, `"tanh"` (Luong et al. 2015, eq. 5) or `None` (linear,
            as tfa's AttentionWrapper). Defaults to `"tanh"`.
        peeky: bool, the peeky decoder (Cho et al. 2014); not combined with
            `attention`. Defaults to `False`.
        reverse_source: bool, reverse the real source tokens (Sutskever et
            al. 2014); padding stays at the end. Defaults to `False`.
        dropout: float in [0, 1). Defaults to 0.
        scheduled_sampling: bool, a decoder trained with scheduled sampling
            (Bengio et al. 2015): it trains step by step and feeds its own
            token with the probability that a
            `keras_s2s.callbacks.ScheduledSampling` callback sets (0 until
            then). Defaults to `False`.
        encoder_units: positive int, units of each encoder layer per
            direction. Defaults to `units // 2` when `bidirectional` (so
            encoder outputs have size `units`, like the decoder) else `units`.
            When the encoder's size differs from `units`, a learned bridge
            maps its final state.
        num_features: positive int F: the source is float feature frames
            `[B, S, F]` (speech, time series) read by a `FeatureEncoder`,
            and `source_vocab_size` must be `None`. Defaults to `None` (ids).
        pyramid_layers: int, time halvings of the `FeatureEncoder` (LAS);
            features only. Defaults to 0.
        normalize_features: bool, a `keras.layers.Normalization` on the
            features (call `model.get_layer("encoder").adapt(features)`
            before training); features only. Defaults to `False`.
        name: model name. Defaults to `"seq2seq"`.

    Returns:
        A `Seq2SeqModel` (a functional `keras.Model`) taking a dict `{"source_ids": int32 [B, S],
        "target_ids": int32 [B, T]}` (`target_ids` are the decoder inputs,
        starting with BOS) and returning logits float `[B, T, V]`. With
        `num_features`, the source key is `"source_features"`, float32
        `[B, S, F]` right-padded with all-zero frames.

    Raises:
        ValueError: non-positive sizes, unknown `cell` or `attention` name,
            `input_feeding` without attention, `peeky` with attention, odd
            `units` with `bidirectional` and no `encoder_units`, or a
            `"luong"` (dot) attention whose query and key sizes differ.
        TypeError: `attention` of a type other than str or `BaseAttention`.

    Example:

    ```python
    model = keras_s2s.build_seq2seq(1000, 1000, units=128, attention="bahdanau")
    model.compile("adam", keras_s2s.losses.MaskedSparseCategoricalCrossentropy())
    ```
    """
    _check_source_options(source_vocab_size, num_features, pyramid_layers, normalize_features, reverse_source)
    if source_vocab_size is not None:
        source_vocab_size = _checks.positive_int("source_vocab_size", source_vocab_size,
                                                 limits.MAX_VOCAB_SIZE)
    target_vocab_size = _checks.positive_int("target_vocab_size", target_vocab_size,
                                             limits.MAX_VOCAB_SIZE)
    units = _checks.positive_int("units", units, limits.MAX_UNITS)
    _check_decoder_options(attention, input_feeding, peeky)
    if encoder_units is None:
        if bidirectional and units % 2:
            raise ValueError(
                "With bidirectional=True the encoder splits `units` between two "
                f"directions, so `units` must be even. Received: units={units}. "
                "Use an even `units` or set `encoder_units`."
            )
        encoder_units = units // 2 if bidirectional else units
    encoder_args = dict(cell=cell, num_layers=num_layers, bidirectional=bidirectional,
                        residual=residual, dropout=dropout, name=ENCODER_NAME)
    if source_vocab_size is not None:
        encoder = Encoder(source_vocab_size, embedding_dim, encoder_units,
                          reverse_source=reverse_source, **encoder_args)
    else:
        encoder = FeatureEncoder(num_features, encoder_units, pyramid_layers=pyramid_layers,
                                 normalize=normalize_features, **encoder_args)
    sources = encoder.source_spec.keras_inputs()
    decoder_args = dict(cell=cell, num_layers=num_layers, dropout=dropout,
                        scheduled_sampling=scheduled_sampling, name=DECODER_NAME)
    if attention is not None:
        attention = attention_lib.get(attention, units)
        decoder = AttentionLSTMDecoder(
            attention, target_vocab_size, embedding_dim, units,
            input_feeding=input_feeding, attention_activation=attention_activation, **decoder_args,
        )
    elif peeky:
        decoder = PeekyLSTMDecoder(target_vocab_size, embedding_dim, units, **decoder_args)
    else:
        decoder = LSTMDecoder(target_vocab_size, embedding_dim, units, **decoder_args)

    target = decoder.target_spec.keras_input()
    spec = encoder.source_spec
    encoder_outputs, encoder_states, source_mask = spec.encode(
        encoder, sources[spec.name], sources.get(spec.lengths_name))
    logits = decoder(target, encoder_outputs, encoder_states, source_mask)
    return Seq2SeqModel({**sources, decoder.target_spec.name: target}, logits, name=name)


ModelOption = collections.namedtuple("ModelOption", ["default", "type", "nullable", "help", "choices"])
_CHOICES = {"cell": CELLS, "attention": attention_lib.ATTENTION_NAMES}


def model_options():
    """`build_seq2seq`'s options, read from its own signature and docstring
    (the one place they are listed; `runs.TrainConfig` and the command-line
    flags are derived from it).

    Returns:
        A dict `name -> ModelOption(default, type, nullable, help, choices)`
        in signature order, without `name`: `type` is `bool`, `int`,
        `float` or `str` (the plain type a run file or a flag holds),
        `nullable` whether `None` is a value (e.g. `attention=None`: no
        attention), `help` the first sentence of the docstring entry,
        `choices` a tuple of allowed strings or `None`.
    """
    helps = _docstring_args(build_seq2seq.__doc__)
    options = {}
    for parameter in inspect.signature(build_seq2seq).parameters.values():
        if parameter.kind is not parameter.KEYWORD_ONLY or parameter.name == "name":
            continue
        kinds = typing.get_args(parameter.annotation) or (parameter.annotation,)
        plain = next(t for t in (bool, int, float, str) if t in kinds)
        options[parameter.name] = ModelOption(
            parameter.default, plain, type(None) in kinds, helps[parameter.name],
            _CHOICES.get(parameter.name))
    return options


def _docstring_args(doc):
    """`{argument: first sentence}` from a Google-style `Args:` section."""
    section = doc.split("Args:", 1)[1].split("\n\n", 1)[0]
    entries = re.findall(r"^ {8}(\w+): (.*?)(?=^ {8}\w+:|\Z)", section, flags=re.M | re.S)
    first = (re.split(r"(?<! al)\. ", " ".join(text.split()))[0] for _, text in entries)
    return {name: sentence.rstrip(".") for (name, _), sentence in zip(entries, first)}


def load_model(path):
    """Loads a `.keras` file saved from a `build_seq2seq` model, safely.

    `keras.models.load_model(path, safe_mode=True)`: no Lambda layers or
    pickled code are ever executed, so a file from an untrusted source cannot
    run code. Errors from a damaged file are reported as one clear error.

    Args:
        path: str or path-like of a `.keras` file.

    Returns:
        The `Seq2SeqModel`.

    Raises:
        FileNotFoundError: no file at `path`.
        ValueError: the file is truncated, tampered with, not a Keras model,
            holds code that safe mode refuses to run, or is not a seq2seq
            model built by `build_seq2seq`.
    """
    import os
    import pathlib
    import zipfile

    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    if path.suffix != ".keras":
        raise ValueError(f"Expected a `.keras` file. Received: {str(path)!r}.")
    try:  # a .keras file is a zip archive: check it whole before Keras reads it
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(
            f"{str(path)!r} could not be loaded as a Keras model: it is truncated or damaged, "
            f"not a valid `.keras` zip archive ({type(error).__name__}: {error})."
        ) from None
    if damaged is not None:
        raise ValueError(
            f"{str(path)!r} could not be loaded as a Keras model: it is damaged, the "
            f"archive member {damaged!r} fails its CRC check."
        )
    try:
        model = keras.models.load_model(os.fspath(path), safe_mode=True)
    except Exception as error:  # zipfile, JSON, h5 and Keras errors alike
        raise ValueError(
            f"{str(path)!r} could not be loaded as a Keras model: it may be truncated, "
            f"tampered with, or hold code that safe mode refuses to run. "
            f"Cause: {type(error).__name__}: {error}"
        ) from error
    layers = {layer.name for layer in model.layers}
    if not isinstance(model, Seq2SeqModel) or not {ENCODER_NAME, DECODER_NAME} <= layers:
        raise ValueError(
            f"{str(path)!r} holds a {type(model).__name__} with layers {sorted(layers)}, "
            "not a model built by keras_s2s.build_seq2seq."
        )
    return model
