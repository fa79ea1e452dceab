"""Input checks shared by the book's from-scratch code.

Each check raises an error that says what was expected and what was got, so
that bad input fails loudly at the call that received it instead of turning
into a silent wrong answer three layers later.
"""

from __future__ import annotations

import math
import numbers

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


def _check_real(value, name: str, expected: str) -> float:
    """``value`` as a finite float; TypeError for a non-number (bool included), ValueError for NaN/inf."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be {expected}; got {type(value).__name__} {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be {expected}; got {value}")
    return value


def check_learning_rate(value, name: str = "lr") -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise.

    A learning rate (the step size eta of Eq. (4.1)), and any other strictly
    positive hyperparameter such as an optimizer's ``eps`` or a schedule's
    ``base_lr``. TypeError for a non-number (bool included), ValueError for NaN,
    inf or a value <= 0.
    """
    value = _check_real(value, name, "a finite number > 0")
    if value <= 0:
        raise ValueError(f"{name} must be > 0; got {value}")
    return value


def check_weight_decay(value, name: str = "weight_decay") -> float:
    """Return ``value`` as a float if it is a finite number >= 0, else raise.

    TypeError for a non-number (bool included), ValueError for NaN, inf or a
    negative value.
    """
    value = _check_real(value, name, "a finite number >= 0")
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")
    return value


def check_in_interval(value, name: str, low: float, high: float, *, closed: str = "left") -> float:
    """Return ``value`` as a float if it lies in the interval from ``low`` to ``high``, else raise.

    ``closed`` says which ends belong to it: "left" for [low, high) (the default),
    "right" for (low, high], "both" or "neither". TypeError for a non-number
    (bool included), ValueError for NaN, inf or a value outside the interval; the
    message writes the interval, e.g. "momentum must be in (0, 1]; got 1.5".
    """
    if closed not in ("left", "right", "both", "neither"):
        raise ValueError(f"closed must be one of ('left', 'right', 'both', 'neither'); got {closed!r}")
    left_in, right_in = closed in ("left", "both"), closed in ("right", "both")
    interval = f"{'[' if left_in else '('}{low}, {high}{']' if right_in else ')'}"
    value = _check_real(value, name, f"a number in {interval}")
    above = value >= low if left_in else value > low
    below = value <= high if right_in else value < high
    if not (above and below):
        raise ValueError(f"{name} must be in {interval}; got {value}")
    return value


def check_decay_rate(value, name: str) -> float:
    """Return ``value`` as a float if it lies in [0, 1), else raise.

    A decay rate of a running average: momentum mu, RMSProp's alpha, Adam's beta1
    and beta2 (Eqs. (4.3)-(4.8)). TypeError for a non-number, ValueError outside [0, 1).
    """
    return check_in_interval(value, name, 0, 1)


def check_choice(value, name: str, choices, *, hint: str = ""):
    """Return ``value`` if it is one of ``choices``, else raise.

    ``choices`` is a tuple or list (written as given in the message) or a dict or
    set of names (written sorted). A value that is not a str and not one of the
    choices (None may be one) raises TypeError, an unknown str ValueError; both
    messages list the choices, followed by ``hint`` (e.g. " or None"), and name
    what was got: "strategy must be one of ('greedy', 'sample'); got 'beam'".
    """
    shown = choices if isinstance(choices, (tuple, list)) else sorted(choices)
    try:
        known = value in choices
    except (TypeError, ValueError):  # an unhashable value, or an array
        known = False
    if known:
        return value
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {shown}{hint}; got {type(value).__name__} {value!r}")
    raise ValueError(f"{name} must be one of {shown}{hint}; got {value!r}")


def check_dtype(dtype) -> np.dtype:
    """Return ``dtype`` as a NumPy dtype if it is float32 or float64, else raise TypeError.

    The precisions of the from-scratch layers (``companion.nn``).
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be float32 or float64; got {dtype!r}") from error
    if resolved not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64; got {resolved}")
    return resolved


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
