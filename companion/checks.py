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


def check_text(text, name: str = "text") -> str:
    """Return ``text`` if it is one str, else raise TypeError (what a tokenizer takes)."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str; got {type(text).__name__} {text!r:.60}")
    return text


def check_texts(texts, name: str = "texts", *, allow_blank: bool = True, allow_empty: bool = False) -> list[str]:
    """Return ``texts`` as a list of str, else raise.

    The one rule for a collection of texts everywhere in the package: any iterable
    of str (a list, a tuple, a generator, a NumPy array of str), but not one str.
    TypeError for a single string or a non-string element; ValueError for no
    texts at all (unless ``allow_empty``: one part of a split may be empty) and,
    with ``allow_blank=False``, for an empty or whitespace-only text (a corpus to
    split); a tokenizer or an encoder accepts a blank text and gives it no tokens.
    """
    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__iter__"):
        raise TypeError(f"{name} must be an iterable of str (a list of texts); got {type(texts).__name__}")
    texts = list(texts)
    if not texts and not allow_empty:
        raise ValueError(f"{name} must hold at least one text; got none")
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{index}] must be a str; got {type(text).__name__} {text!r}")
        if not allow_blank and not text.strip():
            raise ValueError(f"{name}[{index}] must be a non-empty string; got {text!r}")
    return [str(text) for text in texts]


def check_labels(labels, n: int, num_classes: int | None = None, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int64 array of n class ids in [0, num_classes), else raise.

    TypeError for labels that are not integers (booleans count as 0/1), ValueError
    for a shape other than (n,) or a class id outside [0, num_classes) (or below 0
    when ``num_classes`` is None).
    """
    array = np.asarray(labels)
    if array.shape != (n,):
        raise ValueError(f"{name} must have one entry per text, shape ({n},); got shape {array.shape}")
    if array.size and not (np.issubdtype(array.dtype, np.integer) or array.dtype == bool):
        raise TypeError(f"{name} must be integer class ids; got dtype {array.dtype}")
    array = array.astype(np.int64)
    if array.size and (array.min() < 0 or (num_classes is not None and array.max() >= num_classes)):
        expected = "be class ids >= 0" if num_classes is None else f"lie in [0, {num_classes})"
        raise ValueError(f"{name} must {expected}; got min {array.min()}, max {array.max()}")
    return array
