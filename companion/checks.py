"""Input checks shared by the book's from-scratch code.

Each check raises an error that says what was expected and what was got, so
that bad input fails loudly at the call that received it instead of turning
into a silent wrong answer three layers later.
"""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str, ndim: int | None = None) -> np.ndarray:
    """Return ``x`` as a finite floating-point NumPy array.

    Integer and boolean input is converted to float64; float16/32/64 keep their
    dtype. Raises TypeError for non-numeric input and ValueError for the wrong
    number of dimensions or for NaN/inf entries.
    """
    array = np.asarray(x)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise TypeError(f"{name} must be a numeric array; got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must be real-valued; got dtype {array.dtype}")
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float64)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s); got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite; got {bad} NaN or inf value(s)")
    return array


def check_positive_int(value, name: str) -> int:
    """Return ``value`` if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int; got {type(value).__name__} {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return int(value)


MAX_SEED = 2**32 - 1  # the largest seed every generator of the book accepts (NumPy's legacy one: [0, 2**32))


def check_seed(seed) -> int:
    """Return ``seed`` as an int if it lies in [0, 2**32 - 1], else raise.

    One rule for every seed of the package: ``companion.set_seed``, the data
    splits and the loaders. Raises TypeError for a non-integer (bool included)
    and ValueError outside the range.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int in [0, {MAX_SEED}]; got {type(seed).__name__} {seed!r}")
    if not 0 <= int(seed) <= MAX_SEED:
        raise ValueError(f"seed must be an int in [0, {MAX_SEED}]; got {seed}")
    return int(seed)


def check_rng(rng) -> np.random.Generator:
    """Return a NumPy Generator: ``rng`` itself, or ``numpy.random.default_rng(rng)`` for an int seed.

    What ``rng`` means in every from-scratch initialiser of the book (``nn``,
    ``attention``, ``rnn``) and in the NumPy training loop; a seed follows
    :func:`check_seed`. Anything else raises TypeError.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(check_seed(rng))
    raise TypeError(f"rng must be a numpy.random.Generator or an int seed; got {type(rng).__name__}")

