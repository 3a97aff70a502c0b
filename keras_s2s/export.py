"""Export a generator for TF Serving (SavedModel) and for phones (TFLite).

Both run the package's own in-graph search (`keras_s2s.inference.search`),
so they decode exactly as `generate` does.
"""

import contextlib
import io
import json
import pathlib
import re

import keras
import numpy as np
import tensorflow as tf

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s import specs
from keras_s2s.inference import strategies
from keras_s2s.inference.generator import Seq2SeqGenerator

QUANTIZATIONS = (None, "dynamic_range", "float16")
# Output order of the .tflite signature (`output_0`, `output_1`, `output_2`).
TFLITE_OUTPUTS = ("ids", "lengths", "scores")


def _check_generator(generator):
    if not isinstance(generator, Seq2SeqGenerator):
        raise TypeError(
            "Export takes the generator from keras_s2s.build_inference_model(model). "
            f"Received: {type(generator).__name__}."
        )
    if not generator.built:
        raise ValueError("The model is not built: call or fit it once before export.")


def _check_tokenizers(generator, source_tokenizer, target_tokenizer):
    """A source that text maps to (`source_spec.takes_text`) takes both
    tokenizers or neither; any other source takes only a target tokenizer."""
    if not generator.source_spec.takes_text:
        if source_tokenizer is not None:
            raise ValueError(
                f"This model reads {generator.source_spec!r}, not text, so it takes no "
                f"`source_tokenizer`. Received: source_tokenizer={type(source_tokenizer).__name__}."
            )
    elif (source_tokenizer is None) != (target_tokenizer is None):
        raise ValueError(
            "Pass both `source_tokenizer` and `target_tokenizer`, or neither. Received: "
            f"source_tokenizer={type(source_tokenizer).__name__}, "
            f"target_tokenizer={type(target_tokenizer).__name__}."
        )
    if target_tokenizer is not None:
        generator.check_tokenizers(source_tokenizer, target_tokenizer)


def _max_source_length(generator, value):
    """The source cut: `value`, or the source spec's default."""
    if value is None:
        return generator.source_spec.max_length
    return _checks.positive_int("max_source_length", value)


def _deterministic(strategy):
    """A served model answers a request the same way every time: sampling
    needs a per-request seed that the signatures do not take."""
    if not getattr(strategy, "deterministic", True):
        raise ValueError(
            "Export needs a deterministic strategy (greedy, beam or your own). Received: "
            f"strategy={strategy!r}; for strategy='sample' sample in Python with "
            "generator.generate(..., strategy='sample', seed=...)."
        )
    return strategy


class _Endpoints:
    """The serving functions, over the generator and tokenizers."""

    def __init__(self, generator, source_tokenizer, target_tokenizer, *, strategy, max_length,
                 max_source_length):
        self.generator = generator
        self.source_tokenizer = source_tokenizer
        self.target_tokenizer = target_tokenizer
        self.strategy = strategy
        self.max_length = max_length
        self.max_source_length = max_source_length

    def _search(self, source_ids, source_lengths=None):
        """Ids `[B, T]` etc. for one sequence per source, `[B, K, T]` for n-best."""
        result = self.generator.search(source_ids, max_length=self.max_length,
                                       strategy=self.strategy, return_attention=False,
                                       source_lengths=source_lengths)
        if self.strategy.num_return_sequences == 1:
            result = {key: value[:, 0] for key, value in result.items()}
        return result

    def generate(self, *inputs):
        """The source spec's signature inputs -> ids, scores, lengths."""
        spec = self.generator.source_spec
        return self._search(*spec.prepare_serving(self.max_source_length, *inputs))

    def generate_text(self, *inputs):
        """The same inputs -> `target_text` and `scores`."""
        out = self.generate(*inputs)
        return {"target_text": self._decode(out["ids"]), "scores": out["scores"]}

    def translate(self, source_text):
        # Cut on the ragged tokens, before padding: one huge string costs no
        # more than a source of max_source_length tokens.
        ids = self.source_tokenizer.encode(source_text, max_length=self.max_source_length)
        return self.generate_text(ids)

    def _decode(self, ids):
        """Text `[B]` from ids `[B, T]`, or `[B, K]` from n-best `[B, K, T]`."""
        if self.strategy.num_return_sequences == 1:
            return self.target_tokenizer.decode(ids)
        shape = tf.shape(ids)
        flat = self.target_tokenizer.decode(tf.reshape(ids, [-1, shape[2]]))
        return tf.reshape(flat, shape[:2])


def export_saved_model(
    generator,
    export_dir,
    *,
    max_length,
    source_tokenizer=None,
    target_tokenizer=None,
    strategy="greedy",
    max_source_length=None,
    version=1,
    **options,
):
    """Writes a SavedModel for TF Serving under `export_dir/<version>/`.

    Signatures:

    - `serving_default` (with tokenizers; without them it is `generate_ids`,
      as TF Serving needs a default): `source_text` tf.string `[B]`
      -> `target_text` tf.string `[B]` and `scores` float32 `[B]`; with a
      strategy of `num_return_sequences=K > 1` (n-best beam), `target_text`
      `[B, K]` and `scores` `[B, K]`, best first.
      Tokenization and detokenization run in graph; characters or words
      outside the vocabulary map to UNK; a string with no tokens (empty)
      gives an empty output with score 0.
    - `generate_ids`: `source_ids` int32 `[B, S]` (0-padded) -> `ids` int32
      `[B, T]` (0 after EOS), `scores` float32 `[B]`, `lengths` int32 `[B]`:
      the best hypothesis, exactly as `generator.generate` gives it (n-best:
      `[B, K, T]`, `[B, K]`, `[B, K]`). An id
      outside `[0, source_vocab_size)` fails the request with
      `InvalidArgumentError` naming it (negative ids never wrap around).

    The signatures follow the encoder's source spec (`generator.source_spec`,
    see `keras_s2s.specs`); for `FloatFrames(F)` (a `FeatureEncoder`'s) they
    take frames instead:

    - `generate_features`: `source_features` float32 `[B, S, F]` and
      `lengths` int32 `[B]` (real frames per row; frames past them are
      ignored) -> `ids`, `scores`, `lengths` as `generate_ids`. Non-finite
      frames, or lengths outside [0, S], fail the request with
      `InvalidArgumentError`.
    - `serving_default` (with a `target_tokenizer`; else it is
      `generate_features`): the same inputs -> `target_text` and `scores`.

    Sources longer than `max_source_length` tokens (frames) are truncated to
    it, on the ragged tokens before any padding (the README documents this).
    Greedy and beam search use core TensorFlow ops only. With
    `CharTokenizer`/`WordTokenizer` the SavedModel loads in a
    process that imports only `tensorflow`; with `SubwordTokenizer` the
    serving process needs TF Text's ops (`import tensorflow_text`, or a TF
    Serving build with TF Text).

    Args:
        generator: from `keras_s2s.build_inference_model`.
        export_dir: str or path; the version folder is created inside.
        max_length: int in [1, `keras_s2s.limits.MAX_GENERATION_LENGTH`],
            the most target tokens generated.
        source_tokenizer, target_tokenizer: `keras_s2s.text.Tokenizer`s, or
            both `None` (then only `generate_ids`). A feature model takes
            only the `target_tokenizer` (optional).
        strategy: a deterministic strategy object (`GreedySearch()`,
            `BeamSearch(num_beams, length_penalty, num_return_sequences)`,
            your own) or `"greedy"` / `"beam"`. Defaults to `"greedy"`.
        **options: constructor arguments of the named strategy
            (`num_beams`, `length_penalty`, `num_return_sequences` of
            `"beam"`; see `keras_s2s.inference.strategies.get`); not allowed
            beside a strategy object.
        max_source_length: positive int, the longest source read (longer
            ones are truncated). Defaults to
            `keras_s2s.limits.MAX_SOURCE_LENGTH` (256) for ids and
            `MAX_SOURCE_FRAMES` (4096) for frames.
        version: positive int, the version folder's name. Defaults to 1.

    Returns:
        The path of the version folder (str).

    Raises:
        TypeError: `generator` is not a `Seq2SeqGenerator`.
        ValueError: unbuilt model, `max_length` outside its range, unknown
            strategy, a sampling (non-deterministic) strategy, bad strategy
            options, one tokenizer without the other, or tokenizer
            vocabularies that do not match the model.
    """
    _check_generator(generator)
    max_length = _checks.positive_int("max_length", max_length, limits.MAX_GENERATION_LENGTH)
    max_source_length = _max_source_length(generator, max_source_length)
    version = _checks.positive_int("version", version)
    strategy = _deterministic(generator.strategy(strategy, **options))
    _check_tokenizers(generator, source_tokenizer, target_tokenizer)
    endpoints = _Endpoints(generator, source_tokenizer, target_tokenizer, strategy=strategy,
                           max_length=max_length, max_source_length=max_source_length)
    archive = keras.export.ExportArchive()
    for part in (generator.encoder_layer, generator.decoder_layer):
        archive.track(part)
    for tokenizer in (source_tokenizer, target_tokenizer):
        for resource in tokenizer.trackable_resources() if tokenizer is not None else ():
            archive.track(resource)
    spec = generator.source_spec
    inputs = spec.serving_signature()
    archive.add_endpoint(spec.signature_name, endpoints.generate, input_signature=inputs)
    if source_tokenizer is not None:  # text in (a source that text maps to)
        archive.add_endpoint("serving_default", endpoints.translate,
                             input_signature=[tf.TensorSpec([None], tf.string, name="source_text")])
    elif target_tokenizer is not None:  # the source's own inputs, text out
        archive.add_endpoint("serving_default", endpoints.generate_text, input_signature=inputs)
    signatures = [spec.signature_name, "serving_default"]
    path = pathlib.Path(export_dir) / str(version)
    archive.write_out(str(path), verbose=False)
    info = {"max_length": max_length, "max_source_length": max_source_length,
            "strategy": strategies.name_of(strategy),
            "num_return_sequences": strategy.num_return_sequences,
            "strategy_config": keras.saving.serialize_keras_object(strategy),
            "signatures": sorted(signatures)}
    info.update(strategy.get_config())
    (path / "assets.extra").mkdir(exist_ok=True)
    (path / "assets.extra" / "keras_s2s.json").write_text(json.dumps(info, indent=2))
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        if tokenizer is not None:
            tokenizer.save_vocabulary(path / "assets.extra" / f"{side}_vocab.txt")
    return str(path)


def export_tflite(
    generator,
    path,
    *,
    max_length,
    quantization=None,
    source_tokenizer=None,
    target_tokenizer=None,
    max_source_length=None,
    strategy="greedy",
):
    """Writes a `.tflite` with the search inside, TFLite builtin ops only.

    The model's signature `serving_default` takes `source_ids` int32
    `[1, S]` (any S >= 1) and returns `output_0`: ids int32 `[1, T]` (0
    after EOS), `output_1`: lengths int32 `[1]` and `output_2`: scores
    float32 `[1]` (`TFLITE_OUTPUTS` names them): the same tokens as
    `generator.generate(..., strategy=strategy)` and the SavedModel's
    `generate_ids` (with `num_return_sequences=K > 1`: `[1, K, T]`,
    `[1, K]`, `[1, K]`, best first). Sources are truncated in graph to `max_source_length`
    tokens, as in the SavedModel. TFLite has no assertions, so a source
    holding an id outside `[0, source_vocab_size)` (negative ones too) gives
    the empty result (ids all 0, length 0, score 0), never a decoding of
    wrapped-around ids. The search is traced in a `keras.StatelessScope`
    that maps every weight to a constant (frozen), so the `WHILE` body reads
    no resource variables (which fail at invoke in TFLite), and the converter is restricted to
    `TFLITE_BUILTINS` (no Flex/Select TF ops): it runs in the LiteRT
    interpreter (`ai_edge_litert.interpreter.Interpreter`). Vocabulary files
    are written beside it (`<name>.source_vocab.txt`,
    `<name>.target_vocab.txt`) when tokenizers are given; tokenization is
    up to the app.

    For a feature encoder the inputs are `source_features` float32
    `[1, S, F]` and `lengths` int32 `[1]` (real frames; frames past it are
    padding, zeros inside it are data); a source with a non-finite value or
    a length outside [0, S] gives the empty result.

    Args:
        generator: from `keras_s2s.build_inference_model`.
        path: str or path of the `.tflite` file to write.
        max_length: int T in [1, `keras_s2s.limits.MAX_GENERATION_LENGTH`],
            the most tokens generated.
        quantization: `None` (float32), `"dynamic_range"` (int8 weights) or
            `"float16"` (float16 weights). Defaults to `None`.
        source_tokenizer, target_tokenizer: optional, for the vocabulary
            files.
        max_source_length: positive int, source tokens (frames) read.
            Defaults to `keras_s2s.limits.MAX_SOURCE_LENGTH` (256) for ids,
            `MAX_SOURCE_FRAMES` (4096) for frames.
        strategy: a deterministic strategy object or `"greedy"` / `"beam"`
            (default options). Defaults to `"greedy"`.

    Returns:
        The path written (str).

    Raises:
        TypeError: `generator` is not a `Seq2SeqGenerator`.
        ValueError: unbuilt model, `max_length` outside its range, a bad
            `max_source_length`, unknown `quantization`, a sampling
            strategy, or mismatched tokenizers.
    """
    _check_generator(generator)
    max_length = _checks.positive_int("max_length", max_length, limits.MAX_GENERATION_LENGTH)
    max_source_length = _max_source_length(generator, max_source_length)
    _checks.one_of("quantization", quantization, QUANTIZATIONS)
    _check_tokenizers(generator, source_tokenizer, target_tokenizer)
    strategy = _deterministic(generator.strategy(strategy))
    spec = generator.source_spec

    @tf.function(input_signature=spec.tflite_signature())
    def decode(*inputs):
        # TFLite drops assertions: the spec empties a bad source's row instead.
        source = spec.prepare_tflite(max_source_length, *inputs)
        result = generator.search(*source, max_length=max_length, strategy=strategy,
                                  return_attention=False)
        if strategy.num_return_sequences == 1:
            result = {key: value[:, 0] for key, value in result.items()}
        return tuple(result[name] for name in TFLITE_OUTPUTS)

    weights = generator.encoder_layer.weights + generator.decoder_layer.weights
    constants = [(w, tf.constant(keras.ops.convert_to_numpy(w))) for w in weights]
    with keras.StatelessScope(state_mapping=constants):
        frozen = decode.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen], tf.Module())
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "float16":
        converter.target_spec.supported_types = [tf.float16]
    flatbuffer = converter.convert()
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(flatbuffer)
    for side, tokenizer in (("source", source_tokenizer), ("target", target_tokenizer)):
        if tokenizer is not None:
            tokenizer.save_vocabulary(f"{path.with_suffix('')}.{side}_vocab.txt")
    return str(path)


class TFLiteGreedyDecoder:
    """Runs an exported `.tflite` in the LiteRT interpreter, one source at a time
    (whatever strategy was exported: greedy by default, or beam).

    Args:
        path: the `.tflite` file from `export_tflite`.
        num_threads: interpreter threads. Defaults to 1.

    Call arguments:
        source_ids: int sequence `[S]` (no padding needed), or float frames
            `[S, F]` for a model exported from a feature encoder.
        length: int, the real frames of `source_ids` (frames only).
            Defaults to `None`: up to the last frame not all zero (the
            `FloatFrames` fallback, as `generate`).

    Returns:
        A dict of NumPy arrays: `ids` int32 `[T]`, `length` int, `score` float.
    """

    def __init__(self, path, num_threads=1):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
        self._runner = self.interpreter.get_signature_runner()
        inputs = self._runner.get_input_details()
        self._has_lengths = "lengths" in inputs  # frames come with their length
        ((self._input, details),) = ((k, v) for k, v in inputs.items() if k != "lengths")
        self._dtype = details["dtype"]
        self._example_shape = tuple(details["shape_signature"][2:])  # () for ids, (F,) for frames

    def __call__(self, source_ids, length=None):
        source = np.asarray(source_ids, self._dtype).reshape(1, -1, *self._example_shape)
        feed = {}
        if self._has_lengths:
            if length is None:  # the fallback of keras_s2s.specs.FloatFrames
                length = int(specs.FloatFrames.fallback_lengths(source)[0])
            feed["lengths"] = np.array([length], np.int32)
        elif length is not None:
            raise ValueError(f"This model reads token ids and takes no `length`. Received: length={length!r}.")
        if source.shape[1] == 0:
            source = np.zeros((1, 1, *source.shape[2:]), source.dtype)
        out = self._runner(**{self._input: source}, **feed)
        ids, lengths, scores = (out[f"output_{i}"] for i in range(len(TFLITE_OUTPUTS)))
        return {"ids": ids[0], "length": int(lengths[0]), "score": float(scores[0])}


def tflite_ops(path):
    """The operator names in a `.tflite` file (to check for Flex/custom ops),
    read from the report of `tf.lite.experimental.Analyzer` (public API; it
    prints, so its output is captured)."""
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        tf.lite.experimental.Analyzer.analyze(model_path=str(path))
    return sorted(set(re.findall(r"^\s*Op#\d+ (\w+)\(", report.getvalue(), flags=re.M)))
