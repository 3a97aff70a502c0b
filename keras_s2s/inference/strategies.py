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

Extending:

- a new way of picking one token (e.g. a repetition penalty, a constrained
  vocabulary): subclass `GreedySearch` and override
  `get_next_token(log_probs, index, seed)`;
- a new search altogether: subclass `SearchStrategy` and override `search`
  (the step-function contract is in `keras_s2s.inference.search`).

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
MAX_SEED = 2**31 - 1
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
               aux_shape=None, seed=None):
        """Runs the search in graph (tensors in, tensors out).

        Args:
            step_fn, initial_state, memory, max_length, bos_id, eos_id,
                pad_id, aux_shape: as `keras_s2s.inference.greedy_search`.
            seed: int32 scalar tensor, for random strategies.

        Returns:
            The dict described in the module docstring (`[B, K, T]` ids).
        """
        raise NotImplementedError(f"{type(self).__name__} must override `search`.")

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

    def search(self, step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0,
               aux_shape=None, seed=None):
        batch = search_lib._batch_size(initial_state)
        k = self.num_return_sequences
        if seed is None:  # no random op in deterministic graphs (TFLite has none builtin)
            seed = 0 if self.deterministic else search_lib.fresh_seed(MAX_SEED)
        seed = ops.cast(seed, "int32")
        ids, scores, lengths, aux = search_lib._loop(
            step_fn,
            lambda log_probs, i: self.get_next_token(log_probs, i, seed),
            search_lib._tile(initial_state, k),
            search_lib._tile(memory, k),
            max_length=max_length,
            bos_id=bos_id,
            eos_id=eos_id,
            pad_id=pad_id,
            aux_shape=aux_shape,
        )
        return search_lib._result(ids, scores, lengths, aux, aux_shape, batch=batch, k=k)


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

    def search(self, step_fn, initial_state, memory, *, max_length, bos_id, eos_id, pad_id=0,
               aux_shape=None, seed=None):
        del seed
        source_mask = None
        if self.coverage_penalty:
            if not isinstance(memory, dict) or "mask" not in memory:
                raise ValueError("`coverage_penalty` needs the source mask: a memory dict with "
                                 "'mask' (as every decoder's `prepare_memory` returns).")
            source_mask = memory["mask"]
        return search_lib.beam_search(
            step_fn, initial_state, memory, max_length=max_length, num_beams=self.num_beams,
            bos_id=bos_id, eos_id=eos_id, pad_id=pad_id, length_penalty=self.length_penalty,
            num_return_sequences=self.num_return_sequences, aux_shape=aux_shape,
            coverage_penalty=self.coverage_penalty, source_mask=source_mask,
        )

    def get_config(self):
        return {"num_beams": self.num_beams, "length_penalty": self.length_penalty,
                "num_return_sequences": self.num_return_sequences,
                "coverage_penalty": self.coverage_penalty}


_BY_NAME = {"greedy": GreedySearch, "sample": SampleSearch, "beam": BeamSearch}


def get(strategy="greedy", **options):
    """A strategy object from a name and its options, or the object itself.

    Args:
        strategy: `"greedy"`, `"sample"`, `"beam"`, or an object with a
            `search` method (a `SearchStrategy`).
        **options: constructor arguments of the named strategy; `None`
            means "not given" (the default). Options of other strategies
            are ignored, so one call site can serve all three names. With a
            strategy object every option must be `None` (set them on the
            object).

    Returns:
        The strategy object.

    Raises:
        TypeError: `strategy` is neither a name nor an object with `search`.
        ValueError: unknown name, options beside an object, bad option values
            (named), or `num_return_sequences > 1` with `"greedy"`.
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
        return GreedySearch()
    cls = _BY_NAME[strategy]
    names = inspect.signature(cls).parameters
    return cls(**{k: v for k, v in given.items() if k in names})


def name_of(strategy):
    """`"greedy"`, `"sample"` or `"beam"` for the package's own classes, else
    the class name (for metadata such as an export's `keras_s2s.json`)."""
    names = {cls: name for name, cls in _BY_NAME.items()}
    return names.get(type(strategy), type(strategy).__name__)
