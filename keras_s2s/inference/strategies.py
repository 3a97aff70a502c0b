"""Search strategies as objects: how a generator turns step logits into ids.

KerasHub's `Sampler` shape: the constructor validates its own arguments,
`get_config` / `from_config` round-trip, and a new strategy is one subclass.

- `GreedySearch()`: the most probable token at every step.
- `SampleSearch(temperature, top_k, top_p, num_return_sequences, seed)`:
  ancestral sampling.
- `BeamSearch(num_beams, length_penalty, num_return_sequences)`: beam search
  with the GNMT length penalty.

Every strategy returns the same structure from `search`: a dict with `ids`
int32 `[B, K, T]`, `scores` float32 `[B, K]`, `lengths` int32 `[B, K]` and,
when `aux_shape` is given, `aux` float32 `[B, K, T, *aux_shape]`; K is
`num_return_sequences` (1 for greedy).

Every strategy runs through the package's one decode loop,
`keras_s2s.inference.search.dynamic_decode`, which calls three hooks:
`initialize` (first tokens, tiled state and memory, the buffers it carries),
`step` (next tokens from one step's log-probabilities) and `finalize` (the
named result). Greedy, sampling and beam search are three sets of hooks.

Extending:

- a new way of picking one token (e.g. a repetition penalty, a constrained
  vocabulary): subclass `GreedySearch` and override
  `get_next_token(log_probs, index, seed)`;
- a new search altogether: subclass `SearchStrategy` and override the three
  hooks (the step-function contract is in `keras_s2s.inference.search`).

Anything with a `search` method of that signature and a
`num_return_sequences` attribute is accepted by `generate` and the exports
(protocol, not type); subclassing `SearchStrategy` gives the rest.
"""

import inspect
import json

import keras
import numpy as np
from keras import ops

from keras_s2s import _checks
from keras_s2s import limits
from keras_s2s.inference import search as search_lib

# The smallest normal float32 (`_checks.float32_normal`): a smaller
# temperature or top_p would round to 0 (or a denormal) in the float32 search
# and sample from the wrong set.
MIN_TEMPERATURE = MIN_TOP_P = float(np.finfo(np.float32).tiny)
MAX_TEMPERATURE = float(np.finfo(np.float32).max)
# ((5 + T) / 6) ** alpha stays finite in float32 for T <= MAX_GENERATION_LENGTH.
MAX_LENGTH_PENALTY = 10.0
MAX_SEED = search_lib.MAX_SEED
NAMES = ("greedy", "sample", "beam")


def check_seed(seed):
    """Returns `seed` (int in [0, MAX_SEED] or None), else raises."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"`seed` must be an int or None. Received: seed={seed!r}.")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"`seed` must be in [0, {MAX_SEED}]. Received: seed={seed!r}.")
    return int(seed)


class SearchStrategy:
    """Base class of the search strategies.

    Subclasses override `search` (and `get_config` when their constructor
    takes arguments). The base class holds what every strategy shares.

    Attributes:
        num_return_sequences: int K, sequences returned per source.
        deterministic: bool, whether the same source always gives the same
            output (exports refuse strategies that are not).
        seed: int or None, the default seed of random strategies.
    """

    num_return_sequences = 1
    deterministic = True
    seed = None

    def search(self, step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0,
               aux_shape=None, seed=None, source_mask=None):
        """Runs the search in graph (tensors in, tensors out): the package's
        one decode loop, `keras_s2s.inference.search.dynamic_decode`, driven
        by this object's `initialize` / `step` / `finalize`.

        Args:
            step_fn, initial_state, memory, max_length, bos_id, eos_id,
                pad_id, aux_shape, seed, source_mask: as `dynamic_decode`;
                `source_mask=None` reads `memory["mask"]` when the memory is
                a dict that has one (every decoder's `prepare_memory`).

        Returns:
            The dict described in the module docstring (`[B, K, T]` ids).
        """
        if source_mask is None and isinstance(memory, dict):
            source_mask = memory.get("mask")
        return search_lib.dynamic_decode(
            self, step_fn, initial_state, memory, max_length=max_length, bos_id=bos_id, eos_id=eos_id,
            pad_id=pad_id, aux_shape=aux_shape, seed=seed, source_mask=source_mask)

    def initialize(self, context, initial_state, memory):
        """The loop's hooks (see `dynamic_decode`): a direct subclass of the
        base overrides all three, or `search`."""
        raise NotImplementedError(f"{type(self).__name__} must override `initialize`, `step` and "
                                  "`finalize` (or `search`).")

    def step(self, context, index, log_probs, aux, state, carry):
        raise NotImplementedError(f"{type(self).__name__} must override `step`.")

    def finalize(self, context, carry):
        raise NotImplementedError(f"{type(self).__name__} must override `finalize`.")

    def check_vocabulary(self, vocab_size):
        """Raises ValueError when the strategy cannot run over a target
        vocabulary of `vocab_size` tokens (called by the generator)."""
        del vocab_size

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def cache_key(self):
        """A hashable summary of the graph this strategy builds: its class and
        every attribute of the instance (so a subclass whose attributes are
        not in `get_config` still gets its own graph), the seed excluded (a
        tensor argument)."""
        state = {k: v for k, v in vars(self).items() if k != "seed"}
        return (type(self).__module__, type(self).__qualname__,
                json.dumps(state, sort_keys=True, default=repr))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


@keras.saving.register_keras_serializable(package="keras_s2s")
class GreedySearch(SearchStrategy):
    """Greedy decoding: the most probable token at every step.

    One token per row and step, picked by `get_next_token`; a subclass that
    overrides it (e.g. to forbid repeats) keeps the loop, the buffers, the
    stopping rule and the export path. Returns `ids` `[B, 1, T]`.

    Example:

    ```python
    generator.generate(source_ids, max_length=20, strategy=keras_s2s.GreedySearch())
    ```
    """

    def get_next_token(self, log_probs, index, seed):
        """Picks one token per row.

        Args:
            log_probs: float32 `[N, V]` log-probabilities of the step, PAD and
                BOS already `-inf`.
            index: int32 scalar, the position being generated.
            seed: int32 scalar tensor (for random strategies).

        Returns:
            int32 `[N]` token ids.
        """
        del index, seed
        # top_k, not argmax: Keras' TensorFlow argmax adds a bitwise op that
        # TFLite lacks; both return the lowest index among equal scores.
        return ops.cast(ops.top_k(log_probs, 1)[1][:, 0], "int32")

    def initialize(self, context, initial_state, memory):
        k = self.num_return_sequences
        rows = context.batch * k
        carry = {"ids": ops.zeros([rows, context.max_length], "int32"), "scores": ops.zeros([rows], "float32"),
                 "lengths": ops.zeros([rows], "int32"), "finished": ops.zeros([rows], "bool"),
                 "aux": search_lib.aux_buffer(rows, context)}
        return (ops.full([rows], context.bos_id, "int32"), search_lib._tile(initial_state, k),
                search_lib.tile_memory(memory, k, context), carry)

    def step(self, context, index, log_probs, aux, state, carry):
        finished = carry["finished"]
        allowed = search_lib._forbid(log_probs, [context.pad_id, context.bos_id])
        token = ops.cast(self.get_next_token(allowed, index, context.seed), "int32")
        token = ops.where(finished, context.pad_id, token)
        carry = dict(carry)
        carry["scores"] = carry["scores"] + ops.where(finished, 0.0, search_lib._pick(log_probs, token))
        carry["lengths"] = carry["lengths"] + ops.cast(ops.logical_not(finished), "int32")
        carry["ids"] = search_lib._write(carry["ids"], index, token, context.max_length)
        if context.aux_shape is not None:
            carry["aux"] = search_lib.write_aux(carry["aux"], index, aux, ops.logical_not(finished), context)
        carry["finished"] = ops.logical_or(finished, ops.equal(token, context.eos_id))
        return token, state, carry

    def finalize(self, context, carry):
        return search_lib.by_source({k: v for k, v in carry.items() if k != "finished"}, context)


@keras.saving.register_keras_serializable(package="keras_s2s")
class SampleSearch(GreedySearch):
    """Ancestral sampling with temperature, top-k and nucleus (top-p) filtering.

    Randomness comes from `keras_s2s.inference.search.categorical`, a
    stateless draw seeded with `(seed, index)`: a fixed seed reproduces the
    output exactly (eager and compiled), distinct seeds give independent
    draws; the draws of one seed differ between backends. Scores are the
    log-probabilities under the unfiltered model.

    Args:
        temperature: float in [`MIN_TEMPERATURE`, `MAX_TEMPERATURE`] (the
            normal float32 range); logits are divided by it. Defaults to 1.
        top_k: int >= 0, keep the `top_k` most probable tokens; 0 keeps all.
            Defaults to 0.
        top_p: float in [`MIN_TOP_P`, 1], keep the smallest set of most
            probable tokens of mass >= `top_p` (Holtzman et al. 2020); 1
            keeps all. The best token is always kept. Defaults to 1.
        num_return_sequences: int in [1, `limits.MAX_NUM_SEQUENCES`],
            samples per source. Defaults to 1.
        seed: int in [0, 2**31 - 1] or None (a fresh seed per call).
            `generate(seed=...)` overrides it. Defaults to None.

    Raises:
        TypeError, ValueError: an argument of the wrong type or outside its
            range (named).
    """

    deterministic = False

    def __init__(self, temperature=1.0, top_k=0, top_p=1.0, num_return_sequences=1, seed=None):
        self.temperature = _checks.float32_normal("temperature", _checks.real(
            "temperature", temperature, 0.0, MAX_TEMPERATURE, low_inclusive=False))
        self.top_k = _checks.non_negative_int("top_k", top_k)
        self.top_p = _checks.float32_normal(
            "top_p", _checks.real("top_p", top_p, 0.0, 1.0, low_inclusive=False))
        self.num_return_sequences = _checks.positive_int(
            "num_return_sequences", num_return_sequences, limits.MAX_NUM_SEQUENCES)
        self.seed = check_seed(seed)

    def get_next_token(self, log_probs, index, seed):
        logits = search_lib.process_logits(
            log_probs, temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        return search_lib.categorical(logits, seed, index)

    def get_config(self):
        return {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p,
                "num_return_sequences": self.num_return_sequences, "seed": self.seed}


@keras.saving.register_keras_serializable(package="keras_s2s")
class BeamSearch(SearchStrategy):
    """Beam search with the GNMT length penalty and n-best output.

    Hypotheses are ranked by `log P(Y|X) / lp(Y)`, with
    `lp(Y) = ((5 + |Y|) / 6) ** length_penalty` (Wu et al. 2016, eq. 14);
    finished hypotheses stay in the beam with frozen scores. With
    `num_beams=1` the tokens equal greedy search's. `coverage_penalty=beta`
    adds GNMT's coverage penalty `beta * sum_i log(min(sum_j p_ij, 1))`
    over the real source positions (eq. 14; tfa's `coverage_penalty_weight`;
    attention decoders only).

    Args:
        num_beams: int K in [1, `limits.MAX_NUM_SEQUENCES`], at most the
            target vocabulary size (checked by the generator). Defaults to 4.
        length_penalty: float alpha in [0, 10]; 0 ranks by log-probability.
            Defaults to 0.6.
        num_return_sequences: int N in [1, num_beams], best hypotheses
            returned, best first. Defaults to 1.
        coverage_penalty: float beta in [0, 10]; 0 turns it off. Defaults
            to 0.

    Raises:
        TypeError, ValueError: an argument of the wrong type or outside its
            range, or `num_return_sequences > num_beams`; at search time, a
            coverage penalty with a decoder that returns no attention.

    References:
        Wu et al. Google's Neural Machine Translation System. 2016.
    """

    def __init__(self, num_beams=4, length_penalty=0.6, num_return_sequences=1, coverage_penalty=0.0):
        self.num_beams = _checks.positive_int("num_beams", num_beams, limits.MAX_NUM_SEQUENCES)
        self.length_penalty = _checks.real("length_penalty", length_penalty, 0.0,
                                           MAX_LENGTH_PENALTY)
        self.num_return_sequences = _checks.positive_int(
            "num_return_sequences", num_return_sequences, limits.MAX_NUM_SEQUENCES)
        self.coverage_penalty = _checks.real("coverage_penalty", coverage_penalty, 0.0,
                                             MAX_LENGTH_PENALTY)
        if self.num_return_sequences > self.num_beams:
            raise ValueError(
                "Beam search returns at most `num_beams` hypotheses. Received: "
                f"num_return_sequences={num_return_sequences} > num_beams={num_beams}."
            )

    def check_vocabulary(self, vocab_size):
        if self.num_beams > vocab_size:
            raise ValueError(
                f"`num_beams` must be at most the target vocabulary size {vocab_size}. "
                f"Received: num_beams={self.num_beams}."
            )

    def initialize(self, context, initial_state, memory):
        k, batch = self.num_beams, context.batch
        if self.coverage_penalty:
            if context.source_mask is None:
                raise ValueError("`coverage_penalty` needs `source_mask`, the real source positions (a memory "
                                 "dict with 'mask', as every decoder's `prepare_memory` returns).")
            real = ops.cast(ops.repeat(context.source_mask, k, axis=0), "float32")  # [B * K, S]
        else:
            real = ops.zeros([batch * k, 0], "float32")
        first_beam_only = ops.convert_to_tensor([0.0] + [search_lib._NEG] * (k - 1), "float32")
        carry = {"log_probs": ops.tile(first_beam_only[None, :], [batch, 1]),
                 "scores": ops.zeros([batch, k], "float32"), "finished": ops.zeros([batch, k], "bool"),
                 "lengths": ops.zeros([batch, k], "int32"),
                 "ids": ops.zeros([batch * k, context.max_length], "int32"),
                 "aux": search_lib.aux_buffer(batch * k, context), "real": real, "coverage": ops.zeros_like(real)}
        return (ops.full([batch * k], context.bos_id, "int32"), search_lib._tile(initial_state, k),
                search_lib.tile_memory(memory, k, context), carry)

    def _reorder(self, context, t, parent):
        """Rows `[B * K, ...]` reordered by `parent` `[B, K]` within each source."""
        shape = ops.shape(t)
        grouped = ops.reshape(t, (context.batch, self.num_beams) + tuple(shape[1:]))
        return ops.reshape(search_lib._gather_rows(grouped, parent), shape)

    def _ranked(self, context, total, new_lengths, aux, carry):
        """`log P / lp(Y)` (+ the coverage penalty) of every extension `[B, K, V]`, and the new coverage."""
        ranked = total / search_lib.gnmt_length_penalty(new_lengths, self.length_penalty)[:, :, None]
        coverage = carry["coverage"]
        if self.coverage_penalty:
            if aux is None:
                raise ValueError("`coverage_penalty` needs a step function that returns attention.")
            live = ops.reshape(ops.logical_not(carry["finished"]), [-1, 1])
            coverage = coverage + ops.where(live, ops.cast(aux, "float32"), 0.0)
            capped = ops.minimum(coverage, 1.0)
            logs = ops.where(carry["real"] > 0, ops.log(ops.maximum(capped, 1e-30)), 0.0)
            cp = self.coverage_penalty * ops.reshape(ops.sum(logs, axis=1), [context.batch, self.num_beams])
            ranked = ranked + cp[:, :, None]
        return ranked, coverage

    def step(self, context, index, log_probs, aux, state, carry):
        k, batch, finished = self.num_beams, context.batch, carry["finished"]
        vocab = log_probs.shape[-1] if log_probs.shape[-1] is not None else ops.shape(log_probs)[-1]
        step = ops.reshape(log_probs, [batch, k, vocab])
        pad_only = ops.where(ops.arange(vocab, dtype="int32") == context.pad_id, 0.0, search_lib._NEG)
        step = ops.where(finished[:, :, None], pad_only[None, None, :],
                         search_lib._forbid(step, [context.pad_id, context.bos_id]))
        total = carry["log_probs"][:, :, None] + step  # [B, K, V]
        new_lengths = carry["lengths"] + ops.cast(ops.logical_not(finished), "int32")
        ranked, coverage = self._ranked(context, total, new_lengths, aux, carry)
        top_scores, top_index = ops.top_k(ops.reshape(ranked, [batch, k * vocab]), k=k)
        top_index = ops.cast(top_index, "int32")
        parent, token = top_index // vocab, top_index % vocab
        parent_finished = ops.take_along_axis(finished, parent, axis=1)
        flat_token = ops.reshape(token, [-1])
        reorder = lambda t: self._reorder(context, t, parent)  # noqa: E731
        carry = dict(carry, scores=top_scores,
                     coverage=reorder(coverage) if self.coverage_penalty else coverage,  # [B * K, 0] when off
                     log_probs=ops.take_along_axis(ops.reshape(total, [batch, k * vocab]), top_index, axis=1),
                     lengths=ops.take_along_axis(new_lengths, parent, axis=1),
                     finished=ops.logical_or(parent_finished, ops.equal(token, context.eos_id)),
                     ids=search_lib._write(reorder(carry["ids"]), index, flat_token, context.max_length))
        if context.aux_shape is not None:
            carry["aux"] = search_lib.write_aux(reorder(carry["aux"]), index, reorder(ops.cast(aux, "float32")),
                                                ops.reshape(ops.logical_not(parent_finished), [-1]), context)
        return flat_token, keras.tree.map_structure(reorder, state), carry

    def finalize(self, context, carry):
        n = self.num_return_sequences
        grouped = search_lib.by_source({key: carry[key] for key in ("ids", "aux")}, context)
        return {"ids": grouped["ids"][:, :n], "scores": carry["scores"][:, :n],
                "lengths": carry["lengths"][:, :n], **({"aux": grouped["aux"][:, :n]} if "aux" in grouped else {})}

    def get_config(self):
        return {"num_beams": self.num_beams, "length_penalty": self.length_penalty,
                "num_return_sequences": self.num_return_sequences,
                "coverage_penalty": self.coverage_penalty}


# The search as functions (tensors in, tensors out), for step functions that
# are not a generator's; each builds its strategy and runs the one loop.


def greedy_search(step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0, aux_shape=None):
    """Greedy decoding: the most probable token at every step.

    Args:
        step_fn: see `keras_s2s.inference.search`.
        initial_state: nested batch-first tensors `[B, ...]`.
        memory: nested batch-first tensors `[B, ...]`, constant across steps.
        max_length: positive int, the most tokens generated (EOS included).
        bos_id, eos_id, pad_id: ints, special token ids.
        aux_shape: optional tuple, the per-row shape of `aux`; `None` records
            nothing.

    Returns:
        A dict: `ids` int32 `[B, T]` (pad after EOS), `scores` float32 `[B]`
        (sum of the chosen tokens' log-probabilities, nats), `lengths` int32
        `[B]` (tokens generated, EOS included), and `aux` float32
        `[B, T, *aux_shape]` when `aux_shape` is given (zeros after EOS).
    """
    result = GreedySearch().search(step_fn, initial_state, memory, max_length=max_length, bos_id=bos_id,
                                   eos_id=eos_id, pad_id=pad_id, aux_shape=aux_shape)
    return {key: value[:, 0] for key, value in result.items()}


def sample_search(step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0, temperature=1.0,
                  top_k=0, top_p=1.0, num_return_sequences=1, seed=None, aux_shape=None):
    """Ancestral sampling with temperature, top-k and top-p (`SampleSearch`).

    A fixed `seed` reproduces the output exactly (eager, graph and exported
    models alike); `seed=None` draws a seed.

    Args:
        step_fn, initial_state, memory, max_length, bos_id, eos_id, pad_id,
            aux_shape: as `greedy_search`.
        temperature, top_k, top_p: see `keras_s2s.inference.process_logits`.
        num_return_sequences: positive int K, samples per source.
        seed: int in [0, 2**31) or int32 scalar tensor, or `None`.

    Returns:
        As `greedy_search` with a samples axis: `ids` `[B, K, T]`, `scores`
        `[B, K]` (log-probability under the unfiltered model, nats),
        `lengths` `[B, K]`, `aux` `[B, K, T, ...]`.
    """
    strategy = SampleSearch(temperature=temperature, top_k=top_k, top_p=top_p,
                            num_return_sequences=num_return_sequences)
    return strategy.search(step_fn, initial_state, memory, max_length=max_length, bos_id=bos_id, eos_id=eos_id,
                           pad_id=pad_id, aux_shape=aux_shape, seed=seed)


def beam_search(step_fn, initial_state, memory, *, max_length, num_beams, bos_id, eos_id, pad_id=0,
                length_penalty=0.6, num_return_sequences=1, aux_shape=None, coverage_penalty=0.0,
                source_mask=None):
    """Beam search with the GNMT length and coverage penalties (`BeamSearch`).

    Beams are folded into the batch inside (`[B] -> [B * K]`); callers never
    tile. Extensions are ranked by `log P(Y|X) / lp(Y)`,
    `lp(Y) = ((5 + |Y|) / 6) ** length_penalty`, plus with
    `coverage_penalty=beta > 0` `beta * sum_i log(min(sum_j p_ij, 1))` over
    the real source positions (Wu et al. 2016, eq. 14), `p_ij` being the
    `aux` the step function returns (`[N, S]`). A finished hypothesis keeps
    its score and competes until the end.

    Args:
        step_fn, initial_state, memory, max_length, bos_id, eos_id, pad_id,
            aux_shape: as `greedy_search`.
        num_beams: positive int K (at most V).
        length_penalty: float alpha >= 0; 0 ranks by raw log-probability.
            Defaults to 0.6.
        num_return_sequences: positive int N <= K, hypotheses returned.
        coverage_penalty: float beta >= 0. Defaults to 0 (off).
        source_mask: bool `[B, S]`, real source positions; needed when
            `coverage_penalty > 0` (the memory is not read for it).

    Returns:
        A dict: `ids` int32 `[B, N, T]`, best first (pad after EOS);
        `scores` float32 `[B, N]`, `log P(Y|X) / lp(Y) + cp(X; Y)`; `lengths`
        int32 `[B, N]` (EOS included); `aux` `[B, N, T, ...]` when requested.
    """
    strategy = BeamSearch(num_beams=num_beams, length_penalty=length_penalty,
                          num_return_sequences=num_return_sequences, coverage_penalty=coverage_penalty)
    return search_lib.dynamic_decode(strategy, step_fn, initial_state, memory, max_length=max_length,
                                     bos_id=bos_id, eos_id=eos_id, pad_id=pad_id, aux_shape=aux_shape,
                                     source_mask=source_mask)


_BY_NAME = {"greedy": GreedySearch, "sample": SampleSearch, "beam": BeamSearch}


def get(strategy="greedy", **options):
    """A strategy object from a name and its options, or the object itself.

    Args:
        strategy: `"greedy"`, `"sample"`, `"beam"`, or an object with a
            `search` method (a `SearchStrategy`).
        **options: constructor arguments of the named strategy; `None`
            means "not given" (the default). An option of another strategy
            is an error (never silently dropped). With a strategy object
            every option must be `None` (set them on the object).

    Returns:
        The strategy object.

    Raises:
        TypeError: `strategy` is neither a name nor an object with `search`.
        ValueError: unknown name, options beside an object, an option of
            another strategy (named), bad option values (named), or
            `num_return_sequences > 1` with `"greedy"`.
    """
    given = {k: v for k, v in options.items() if v is not None}
    if not isinstance(strategy, str):
        if not callable(getattr(strategy, "search", None)):
            raise TypeError(
                "`strategy` must be 'greedy', 'sample', 'beam' or a search strategy object "
                f"(keras_s2s.GreedySearch(), ...). Received: {strategy!r}."
            )
        if given:
            raise ValueError(
                f"Pass the options to the strategy's constructor, not beside it. Received: "
                f"strategy={strategy!r} with {', '.join(f'{k}={v!r}' for k, v in given.items())}."
            )
        return strategy
    _checks.one_of("strategy", strategy, NAMES)
    if strategy == "greedy":
        k = given.get("num_return_sequences", 1)
        if k != 1:
            raise ValueError(
                "Greedy search gives one sequence per source. Received: "
                f"num_return_sequences={k!r} with strategy='greedy'. "
                "Use strategy='beam' or 'sample' for several."
            )
        given.pop("num_return_sequences", None)
    cls = _BY_NAME[strategy]
    foreign = sorted(set(given) - set(inspect.signature(cls).parameters))
    if foreign:
        raise ValueError(
            f"{', '.join(f'{k}={given[k]!r}' for k in foreign)} is not an option of strategy={strategy!r} "
            f"(its options: {', '.join(inspect.signature(cls).parameters) or 'none'}). Pass only the named "
            "strategy's options, or a strategy object (keras_s2s.BeamSearch(num_beams=4), ...).")
    return cls(**given)


def name_of(strategy):
    """`"greedy"`, `"sample"` or `"beam"` for the package's own classes, else
    the class name (for metadata such as an export's `keras_s2s.json`)."""
    names = {cls: name for name, cls in _BY_NAME.items()}
    return names.get(type(strategy), type(strategy).__name__)
