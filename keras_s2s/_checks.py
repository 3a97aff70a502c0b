"""Argument checks shared by the package: errors name the argument, the value
received and what was expected."""

import numbers

import numpy as np


def positive_int(name, value):
    """Returns `value` as int if it is a positive integer, else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be a positive int. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value <= 0:
        raise ValueError(f"`{name}` must be a positive int. Received: {name}={value!r}.")
    return int(value)


def non_negative_int(name, value):
    """Returns `value` as int if it is an integer >= 0, else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{name}` must be an int >= 0. Received: {name}={value!r} "
            f"of type {type(value).__name__}."
        )
    if value < 0:
        raise ValueError(f"`{name}` must be an int >= 0. Received: {name}={value!r}.")
    return int(value)


def probability(name, value, *, allow_one=False):
    """Returns `value` as float if it lies in [0, 1) (or [0, 1]), else raises."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float. Received: {name}={value!r}.")
    upper_ok = value <= 1 if allow_one else value < 1
    if not (0 <= value and upper_ok) or np.isnan(value):
        bound = "[0, 1]" if allow_one else "[0, 1)"
        raise ValueError(f"`{name}` must be in {bound}. Received: {name}={value!r}.")
    return float(value)


def one_of(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises ValueError."""
    if value not in choices:
        expected = ", ".join(repr(c) for c in choices)
        raise ValueError(f"Received: {name}={value!r}. Expected one of {expected}.")
    return value


def same_length(first_name, first, second_name, second):
    """Raises ValueError when the sequences `first` and `second` differ in length."""
    if len(first) != len(second):
        raise ValueError(
            f"`{first_name}` and `{second_name}` must have the same length. Received: "
            f"{len(first)} {first_name} and {len(second)} {second_name}."
        )


def check_rank(name, tensor, ranks):
    """Raises ValueError when `tensor`'s static rank is not in `ranks`."""
    rank = len(tensor.shape)
    if rank not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(
            f"`{name}` must have rank {expected}. Received: {name} with shape "
            f"{tuple(tensor.shape)} (rank {rank})."
        )


def check_ids(name, ids, rank=2):
    """Checks token ids: an integer dtype and the given static rank."""
    dtype = str(getattr(ids, "dtype", type(ids).__name__))
    dtype = dtype.replace("<dtype: '", "").replace("'>", "")
    if "int" not in dtype:
        raise TypeError(
            f"`{name}` must hold integer token ids (int32 or int64). "
            f"Received: {name} with dtype {dtype}."
        )
    check_rank(name, ids, (rank,))
