"""The inference side of a trained encoder-decoder model.

Generation and export accept any pair of layers that honour two protocols
(no type checks; a missing method is a `TypeError` naming it):

- **Encoder**: a Keras layer called on source ids int32 `[B, S]` that returns
  `(outputs, states, mask)`: `outputs` float `[B, S, He]`, `states` a list
  of float `[B, Hs]` (its final state), `mask` bool `[B, S]`, `True` at real
  source tokens. An optional `vocab_size` attribute turns on the id-range
  checks; an optional `reverse_source` attribute (bool) says the outputs are
  in reversed source order (attention is mapped back). An optional
  `source_spec` (`keras_s2s.specs`) says what the source is when it is not
  token ids, e.g. `FloatFrames(F)`: float frames `[B, S, F]` (its `outputs`
  and `mask` may have fewer steps than S, e.g. a pyramidal encoder;
  attention weights are over those steps). Generation and export ask that
  spec how to check, feed and serve the source.
- **Decoder**: a Keras layer with
  `prepare_memory(outputs, states, mask) -> dict` (batch-first tensors,
  always holding `mask`), `get_initial_state(states) -> list`, and
  `step(token_ids [B], state, memory) -> (logits [B, V], state, weights)`
  (`weights` float `[B, S]` or `None`), and a `vocab_size` attribute V. An
  `attention` attribute that is not `None` means `step` returns weights; an
  optional `target_spec` names its target (token ids `target_ids` by default);
  a true `shares_memory` attribute means `step` also takes memory of B rows
  beside tokens and state of B * K rows (row `b * K + k` reads memory row
  `b`), so beam search does not copy the memory K times.

`keras_s2s.Encoder` and the package's decoders honour both.
"""

import keras
import numpy as np
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s import specs
from keras_s2s.inference import strategies as strategies_lib
from keras_s2s.inference.strategies import MAX_SEED
from keras_s2s.layers.decoders import repeat_rows
from keras_s2s.layers.encoder import reverse_padded
from keras_s2s.models import DECODER_NAME, ENCODER_NAME
from keras_s2s.special_tokens import BOS_ID, EOS_ID, PAD_ID

DECODER_METHODS = ("prepare_memory", "get_initial_state", "step")
STRATEGIES = strategies_lib.NAMES


def _blank_empty_sources(result, memory):
    """Rows whose source is all padding give an empty output: ids 0, length
    0, score 0 (and zero attention), on every path (generate, SavedModel,
    TFLite) alike."""
    empty = ops.logical_not(ops.any(ops.cast(memory["mask"], "bool"), axis=1))
    out = {}
    for key, value in result.items():
        where = ops.reshape(empty, [-1] + [1] * (len(value.shape) - 1))
        out[key] = ops.where(where, ops.zeros_like(value), value)
    return out


class _EncodeLayer(keras.layers.Layer):
    """source -> {"state": [...], "memory": {...}} (not serialized)."""

    def __init__(self, encoder, decoder, source_spec, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.source_spec = source_spec

    def call(self, source, lengths=None):
        source = self.source_spec.check_in_graph(source)  # whatever the encoder checks itself
        outputs, states, mask = self.source_spec.encode(self.encoder, source, lengths)
        return {
            "state": self.decoder.get_initial_state(states),
            "memory": self.decoder.prepare_memory(outputs, states, mask),
        }


class _StepLayer(keras.layers.Layer):
    """One decoder step; attention weights in the source's own order."""

    def __init__(self, decoder, reverse_source, **kwargs):
        super().__init__(**kwargs)
        self.decoder = decoder
        self.reverse_source = reverse_source

    def call(self, token_ids, state, memory):
        logits, state, weights = self.decoder.step(token_ids, state, memory)
        result = {"logits": logits, "state": state}
        if weights is not None:
            if self.reverse_source:  # back to the source's order
                weights = reverse_padded(weights, repeat_rows(memory["mask"], weights))
            result["attention"] = weights
        return result


class Seq2SeqGenerator:
    """Step-wise generation from an encoder-decoder model, on its weights.

    Made by `keras_s2s.build_inference_model(model)` (or `(encoder=...,
    decoder=...)`): any pair honouring the protocols of this module.
    Nothing is copied: the generator calls the model's own encoder and
    decoder layers, so further training updates it.

    Attributes:
        encoder: `keras.Model` from `source_ids` int32 `[B, S]` to a dict
            `{"state": [...], "memory": {...}}`: the decoder's initial state (a
            list of float `[B, H]`) and the per-source tensors every step reads
            (always `mask` bool `[B, S]`; attention decoders add `values` and
            `keys`, peeky decoders `context`).
        decoder_step: `keras.Model` from a dict `{"token_ids": int32 [B],
            "state": [...], "memory": {...}}` to `{"logits": float [B, V],
            "state": [...]}` plus `"attention"` float `[B, S]` (in the
            source's order, also with `reverse_source`) for attention decoders.
        has_attention: bool.
        step_fn: `step_fn(token_ids, state, memory, index) -> (logits,
            state, attention)`, the step function of
            `keras_s2s.inference.search` over this model; its
            `shares_memory` attribute is the decoder's (beam search then
            keeps one memory row per source).
        source_spec: what the encoder reads (`keras_s2s.specs.TokenIds`
            int32 `[B, S]` named `source_ids`, `FloatFrames` float32
            `[B, S, F]` named `source_features`, or the encoder's own).
        target_spec: what the decoder writes (`TokenIds`, `target_ids`).
        source_vocab_size, target_vocab_size: ints (`source_vocab_size` is
            `None` for a source without one, e.g. frames).

    Example, driving the decoder yourself (e.g. an interactive chatbot that
    shows tokens as they come):

    ```python
    generator = keras_s2s.build_inference_model(model)
    encoded = generator.encoder(source_ids)             # once per source
    state, memory = encoded["state"], encoded["memory"]
    token = keras.ops.full([len(source_ids)], keras_s2s.BOS_ID, "int32")
    for _ in range(20):
        out = generator.decoder_step({"token_ids": token, "state": state, "memory": memory})
        token = keras.ops.cast(keras.ops.argmax(out["logits"], axis=-1), "int32")
        state = out["state"]
        print(token)                                     # stop at keras_s2s.EOS_ID

    Keras does not accept NumPy arrays mixed with tensors in one nested
    input, so keep `token_ids` a tensor (as above).
    ```
    """

    def __init__(self, model=None, *, encoder=None, decoder=None):
        if model is not None and not isinstance(model, keras.layers.Layer):
            raise TypeError(
                "build_inference_model expects a keras.Model holding an encoder and a decoder. "
                f"Received: {type(model).__name__}."
            )
        encoder = encoder if encoder is not None else _find_part(model, ENCODER_NAME)
        decoder = decoder if decoder is not None else _find_part(model, DECODER_NAME)
        if encoder is None or decoder is None:
            found = sorted(layer.name for layer in getattr(model, "layers", []))
            raise ValueError(
                "build_inference_model needs the model's encoder and decoder: layers (or "
                "attributes) named 'encoder' and 'decoder', as in models built by "
                "keras_s2s.build_seq2seq, or pass them: build_inference_model(encoder=..., "
                "decoder=...). Received: model "
                f"{getattr(model, 'name', None)!r} with layers {found}."
            )
        _check_protocols(encoder, decoder)
        self.model = model
        self.encoder_layer = encoder
        self.decoder_layer = decoder
        self.has_attention = getattr(decoder, "attention", None) is not None
        self.source_spec = specs.source_spec_of(encoder)
        self.target_spec = specs.target_spec_of(decoder)
        self.source_vocab_size = getattr(self.source_spec, "vocab_size", None)
        self.target_vocab_size = decoder.vocab_size
        self._encode = _EncodeLayer(encoder, decoder, self.source_spec, name="encode")
        self._step = _StepLayer(decoder, bool(getattr(encoder, "reverse_source", False)), name="step")
        self.step_fn = self._make_step_fn(bool(getattr(decoder, "shares_memory", False)))
        self._functions = {}
        self.encoder, self.decoder_step = self._make_models()

    def check_tokenizers(self, source_tokenizer, target_tokenizer):
        """Raises ValueError when a tokenizer's vocabulary size differs from
        the model's (a source tokenizer is not checked when the encoder
        declares no `vocab_size`, and may then be `None`)."""
        for side, tokenizer, size in (
            ("source", source_tokenizer, self.source_vocab_size),
            ("target", target_tokenizer, self.target_vocab_size),
        ):
            if size is not None and tokenizer is not None and tokenizer.vocabulary_size != size:
                raise ValueError(
                    f"The {side} tokenizer has {tokenizer.vocabulary_size} tokens but the model's "
                    f"{side} vocabulary has {size}. Use the tokenizers the model was trained with."
                )

    @property
    def built(self):
        """Whether the model (or the encoder and decoder) has weights (called or fitted once)."""
        parts = [self.encoder_layer, self.decoder_layer]
        if self.model is not None:
            parts.append(self.model)
        return all(part.built for part in parts)

    def _make_models(self):
        spec = self.source_spec
        sources = spec.keras_inputs()
        encoded = self._encode(sources[spec.name], sources.get(spec.lengths_name))
        # a source of one input (ids) is the encoder's input itself; frames come with lengths
        encoder = keras.Model(sources if len(sources) > 1 else sources[spec.name], encoded,
                              name="inference_encoder")

        def like(t, name):
            return keras.Input(batch_shape=t.shape, dtype=t.dtype, name=name)

        state = [like(t, f"state_{i}") for i, t in enumerate(encoded["state"])]
        memory = {k: like(t, f"memory_{k}") for k, t in encoded["memory"].items()}
        token_ids = keras.Input(batch_shape=(None,), dtype="int32", name="token_ids")
        outputs = self._step(token_ids, state, memory)
        decoder_step = keras.Model(
            {"token_ids": token_ids, "state": state, "memory": memory},
            outputs,
            name="inference_decoder_step",
        )
        return encoder, decoder_step

    # ------------------------------------------------------------ in graph
    def _make_step_fn(self, shares_memory):
        """`step_fn`: the step function of `keras_s2s.inference.search` for
        this model, its `shares_memory` attribute the decoder's."""
        def step_fn(token_ids, state, memory, index):
            del index
            out = self._step(token_ids, state, memory)
            return out["logits"], out["state"], out.get("attention")

        step_fn.shares_memory = shares_memory
        return step_fn

    def strategy(self, strategy="greedy", **options):
        """The strategy object for `strategy` (a name or an object) and its
        options (see `keras_s2s.inference.strategies.get`), checked against
        this model's target vocabulary."""
        strategy = strategies_lib.get(strategy, **options)
        check = getattr(strategy, "check_vocabulary", None)
        if check is not None:
            check(self.target_vocab_size)
        return strategy

    def search(self, source_ids, source_lengths=None, *, max_length, strategy="greedy", seed=None,
               return_attention=True, **options):
        """The traceable core of `generate`: tensors in, tensors out.

        Use it inside your own `tf.function` (also with `jit_compile=True`),
        `jax.jit` (pass the weights through `keras.StatelessScope` if they
        may change, as `generate` does) or export. Arguments are those of
        `generate`, but only the strategy (its constructor) and the ids'
        range (checked by the encoder) are checked here; `source_ids` must
        be an int32 tensor `[B, S]` (frames: float32 `[B, S, F]`, with
        `source_lengths` int32 `[B]` or None) and `seed` an int32 scalar
        tensor or None. A source of only
        padding gives an empty output. With `return_attention=False` no
        attention buffer is kept (exports that return ids only).

        Returns:
            A dict of tensors: `ids` int32 `[B, K, T]`, `scores` float32
            `[B, K]`, `lengths` int32 `[B, K]`, and `attention` float32
            `[B, K, T, S]` for attention decoders when requested.
        """
        strategy = self.strategy(strategy, **options)
        source_ids = ops.convert_to_tensor(source_ids, self.source_spec.dtype)
        encoded = self._encode(source_ids, source_lengths)
        memory_steps = ops.shape(encoded["memory"]["mask"])[1]
        aux_shape = (memory_steps,) if self.has_attention and return_attention else None
        result = strategy.search(
            self.step_fn, encoded["state"], encoded["memory"], max_length=max_length,
            bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID, aux_shape=aux_shape, seed=seed,
        )
        if "aux" in result:
            result["attention"] = result.pop("aux")
        return _blank_empty_sources(result, encoded["memory"])

    # ------------------------------------------------------------ user API
    def generate(
        self,
        source_ids,
        *,
        max_length,
        strategy="greedy",
        seed=None,
        jit_compile=False,
        source_lengths=None,
        **options,
    ):
        """Generates target ids for a batch of sources, in one compiled graph.

        Args:
            source_ids: a batch of the encoder's source (`source_spec`,
                which checks it): int array or tensor `[B, S]`, right-padded
                with 0, ids in `[0, source_vocab_size)`; for `FloatFrames(F)`,
                float frames `[B, S, F]` right-padded with all-zero frames
                (finite values).
            max_length: int T in [1, `keras_s2s.limits.MAX_GENERATION_LENGTH`],
                the most tokens generated per sequence (EOS included).
            strategy: a strategy object (`keras_s2s.GreedySearch()`,
                `SampleSearch(...)`, `BeamSearch(...)` or your own subclass),
                the one carrier of its options; or the shortcut `"greedy"`,
                `"sample"` or `"beam"`, built with `**options` by
                `keras_s2s.inference.strategies.get`. Defaults to `"greedy"`.
            seed: int in [0, 2**31 - 1], makes sampling reproducible;
                distinct seeds give distinct draws. Overrides the strategy's
                own `seed`. Defaults to `None` (the strategy's seed, else a
                fresh seed each call).
            jit_compile: bool, compile the search with XLA on TensorFlow. On
                JAX the search always runs under `jax.jit` (XLA); on PyTorch
                it runs eagerly without gradients. Defaults to `False`.
            source_lengths: for frame sources, int array `[B]`, real frames
                per row (a frame of zeros inside a length is data). Defaults
                to `None`: trailing all-zero frames are padding (the
                `FloatFrames` fallback). Token ids take none.
            **options: constructor arguments of the named strategy only
                (`temperature`, `top_k`, `top_p` of `SampleSearch`;
                `num_beams`, `length_penalty`, `coverage_penalty` of
                `BeamSearch`; `num_return_sequences` of both). An option of
                another strategy, or any option beside a strategy object, is
                a `ValueError`.

        Returns:
            A dict of NumPy arrays, the same for every strategy: `ids` int32
            `[B, K, T]` (0 after EOS; K = `num_return_sequences`, 1 for
            greedy); `scores` float32 `[B, K]`, log-probabilities in nats
            (summed for greedy and sample, divided by the length penalty for
            beam, best first); `lengths` int32 `[B, K]`, tokens up to and
            including EOS; and for attention decoders `attention` float32
            `[B, K, T, S']` (S' = the encoder's memory steps: S, or fewer
            for a pyramidal `FeatureEncoder`), each row summing to 1 over the real source tokens
            (zeros after EOS), in the source's own order. PAD and BOS are
            never generated. A source of only padding (or with no time
            steps) gives an empty output: ids all 0, length 0, score 0.

        Raises:
            TypeError: non-integer ids, arguments of the wrong type, or a
                `strategy` that is neither a name nor a strategy object.
            ValueError: ids of rank other than 2 or outside the vocabulary
                (the message names the first such id), `max_length` outside
                [1, MAX_GENERATION_LENGTH], unknown `strategy`, a strategy
                option outside its range (see the strategy classes),
                `num_beams` above the target vocabulary size, or a `seed`
                outside [0, 2**31 - 1].
        """
        source = self.source_spec.prepare(source_ids, source_lengths)
        max_length = _checks.positive_int("max_length", max_length, limits.MAX_GENERATION_LENGTH)
        strategy = self.strategy(strategy, **options)
        seed = strategies_lib.check_seed(seed)
        if seed is None:
            seed = getattr(strategy, "seed", None)
        if seed is None:
            seed = int(np.random.randint(0, MAX_SEED + 1))
        cache_key = getattr(strategy, "cache_key", None)
        key = (max_length, bool(jit_compile), cache_key()) if cache_key else None
        function = self._functions.get(key) if key else None
        if function is None:
            function = self._compile(max_length, strategy, bool(jit_compile))
            if key:  # a strategy without `cache_key` (protocol only) is traced per call
                self._functions[key] = function
        result = function(*source, np.int32(seed))
        return {k: ops.convert_to_numpy(v) for k, v in result.items()}

    def _compile(self, max_length, strategy, jit_compile):
        """`(*source, seed) -> result` for the backend (`source`: the tuple of
        `source_spec.prepare`): the search traced once per strategy and
        length (TensorFlow `tf.function`, JAX `jax.jit`), or run eagerly
        without gradients (PyTorch)."""

        def run(*args):
            *source, seed = args  # source: the ids, or the frames and their lengths
            return self.search(*source, max_length=max_length, strategy=strategy, seed=seed)

        backend = keras.backend.backend()
        if backend == "tensorflow":
            import tensorflow as tf

            # The search builds its own while loop: nothing for AutoGraph to convert.
            traced = tf.function(
                tf.autograph.experimental.do_not_convert(run),
                input_signature=[*self.source_spec.tensor_specs(), tf.TensorSpec([], tf.int32)],
                jit_compile=jit_compile,
            )
            return lambda *args: traced(*(tf.constant(a) for a in args))
        if backend == "jax":
            import jax

            # Weights are arguments, not constants baked into the trace, so
            # the compiled search follows further training (keras.StatelessScope).
            variables = self._variables()

            def stateless(values, *args):
                with keras.StatelessScope(state_mapping=list(zip(variables, values))):
                    return run(*args)

            compiled = jax.jit(stateless)
            return lambda *args: compiled([v.value for v in variables], *args)
        if backend == "torch":
            import torch

            def eager(*args):
                with torch.no_grad():
                    return run(*(ops.convert_to_tensor(a) for a in args))

            return eager
        raise NotImplementedError(f"generate does not support the {backend!r} backend.")

    def _variables(self):
        """Every variable the encoder and decoder read (deduplicated)."""
        seen, variables = set(), []
        for layer in (self.encoder_layer, self.decoder_layer):
            for v in layer.variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    variables.append(v)
        return variables


def _find_part(model, name):
    """The layer `name` of a functional model, or the attribute of a subclassed one."""
    if model is None:
        return None
    part = getattr(model, name, None)
    if isinstance(part, keras.layers.Layer):
        return part
    return {layer.name: layer for layer in getattr(model, "layers", [])}.get(name)


def _check_protocols(encoder, decoder):
    """TypeError naming what an encoder or decoder lacks (no type checks)."""
    if not callable(encoder):
        raise TypeError(
            "The encoder must be a callable Keras layer returning (outputs, states, mask). "
            f"Received: {type(encoder).__name__}."
        )
    missing = [m for m in DECODER_METHODS if not callable(getattr(decoder, m, None))]
    if not hasattr(decoder, "vocab_size"):
        missing.append("vocab_size (attribute)")
    if missing:
        raise TypeError(
            f"The decoder {type(decoder).__name__} does not honour the decoder protocol: it lacks "
            f"{', '.join(missing)}. A decoder needs prepare_memory(outputs, states, mask), "
            "get_initial_state(states), step(token_ids, state, memory) and vocab_size "
            "(see keras_s2s.inference.generator)."
        )


def build_inference_model(model=None, *, encoder=None, decoder=None):
    """Builds the inference side of an encoder-decoder model, sharing its weights.

    Args:
        model: a `keras.Model` whose encoder and decoder are layers named
            `"encoder"` and `"decoder"` (as `keras_s2s.build_seq2seq` makes,
            also reloaded from its `.keras` file) or attributes of those
            names (a subclassed model). Optional when both parts are given.
        encoder: optional layer honouring the encoder protocol (module
            docstring); overrides the model's.
        decoder: optional layer honouring the decoder protocol; overrides
            the model's.

    Returns:
        A `Seq2SeqGenerator` with `encoder` and `decoder_step` Keras models
        and `generate(source_ids, max_length=..., strategy=...)`.

    Raises:
        TypeError: `model` is not a Keras model or layer, or the encoder or
            decoder lacks a method of its protocol (named).
        ValueError: no encoder or decoder could be found.

    Example, a hand-made model:

    ```python
    generator = keras_s2s.build_inference_model(encoder=my_encoder, decoder=my_decoder)
    generator.generate(source_ids, max_length=20, strategy="beam", num_beams=4)
    ```
    """
    return Seq2SeqGenerator(model, encoder=encoder, decoder=decoder)
