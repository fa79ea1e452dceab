"""``check("ch04.1", answer)``: is an answer to a book exercise right?

The check says right or wrong and why (the form expected, the tolerance
allowed, which entry is off), and never prints the expected answer. It returns
a :class:`Verdict` (true when right) and prints its message, so that a
notebook cell ending in ``check(...)`` shows the message once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from companion.exercises.answers import BY_EXERCISE, Answer


@dataclass(frozen=True)
class Verdict:
    """The result of a check: ``right`` and the message shown to the student."""

    exercise: str
    right: bool
    message: str

    def __bool__(self) -> bool:
        return self.right

    def __repr__(self) -> str:  # what a notebook shows for a cell's last value
        return self.message


def _tolerance(answer: Answer) -> str:
    if answer.kind == "integers":
        return "exactly"
    parts = ([f"relative {answer.rel:g}"] if answer.rel else []) + ([f"absolute {answer.abs:g}"] if answer.abs else [])
    return "within " + " or ".join(parts) if parts else "exactly"


def _as_numbers(value, count: int, what: str) -> tuple[list[float] | None, str]:
    """The answer as ``count`` finite floats, or (None, why not)."""
    items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if len(items) != count:
        return None, f"expected {what}; got {len(items)} value(s)"
    numbers = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
            if hasattr(item, "item") and getattr(item, "ndim", 1) == 0:  # a 0-d tensor or array
                item = item.item()
            else:
                return None, f"expected {what}; value {position} is a {type(item).__name__}, not a number"
        if not math.isfinite(float(item)):
            return None, f"expected {what}; value {position} is {item}"
        numbers.append(float(item))
    return numbers, ""


def _close(got: float, expected: float, answer: Answer) -> bool:
    if answer.kind == "integers":
        return got == expected
    return abs(got - expected) <= max(answer.rel * abs(expected), answer.abs)


def _check_numbers(answer: Answer, value) -> tuple[bool, str]:
    expected = answer.expected
    numbers, problem = _as_numbers(value, len(expected), answer.what)
    if numbers is None:
        return False, problem
    if answer.kind == "integers":
        fractional = [i for i, n in enumerate(numbers, start=1) if n != int(n)]
        if fractional:
            return False, f"expected {answer.what}; value {fractional[0]} is not a whole number"
    wrong = [i for i, (n, e) in enumerate(zip(numbers, expected), start=1) if not _close(n, e, answer)]
    if wrong:
        which = "your answer" if len(expected) == 1 else "value " + ", ".join(map(str, wrong)) + f" of {len(expected)}"
        return False, f"not right: {which} is not the answer ({_tolerance(answer)})"
    return True, f"right ({_tolerance(answer)})"


def _check_array(answer: Answer, value) -> tuple[bool, str]:
    expected = np.asarray(answer.expected, dtype=float)
    try:
        got = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return False, f"expected {answer.what}, an array of shape {expected.shape}; got {type(value).__name__}"
    if got.shape != expected.shape:
        return False, f"expected {answer.what}, an array of shape {expected.shape}; got shape {got.shape}"
    wrong = int(np.sum(~np.isclose(got, expected, rtol=answer.rel, atol=answer.abs)))
    if wrong:
        return False, f"not right: {wrong} of {expected.size} entries differ from the answer ({_tolerance(answer)})"
    return True, f"right: every entry ({_tolerance(answer)})"


def _test_leaky_relu_layer(layer_class) -> tuple[bool, str]:
    """Exercise 3.6: forward f(z) = z for z > 0 else alpha z, and a backward pass that matches it (Eq. 3.5)."""
    if not isinstance(layer_class, type):
        return False, f"expected the class itself (LeakyReLU, not LeakyReLU(0.1)); got {type(layer_class).__name__}"
    rng = np.random.default_rng(12345)
    X, R = rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    alpha = 0.2
    try:
        layer = layer_class(alpha)
        out = np.asarray(layer.forward(X), dtype=float)
        grad = np.asarray(layer.backward(R), dtype=float)
    except Exception as exc:  # the student's code: report what it raised
        return False, f"LeakyReLU({alpha}) failed on a (6, 5) input: {type(exc).__name__}: {exc}"
    if out.shape != X.shape or grad.shape != X.shape:
        return False, f"forward and backward must keep the input's shape (6, 5); got {out.shape} and {grad.shape}"
    if not np.allclose(out, np.where(X > 0, X, alpha * X), rtol=1e-12, atol=1e-12):
        return False, f"not right: forward(X) is not z for z > 0 and alpha z otherwise (alpha = {alpha})"
    if not np.allclose(grad, R * np.where(X > 0, 1.0, alpha), rtol=1e-12, atol=1e-12):
        return False, "not right: backward(grad_out) is not grad_out times the slope f'(z) at the forward input"
    return True, f"right: forward and backward agree with f(z) and f'(z) to 1e-12 on random input (alpha = {alpha})"


TESTERS = {"leaky_relu_layer": _test_leaky_relu_layer}


def check(exercise: str, answer) -> Verdict:
    """Check ``answer`` to ``exercise`` (``"chNN.K"``); print and return the :class:`Verdict`.

    Raises KeyError, naming the checkable exercises, for an id without a check.
    """
    if exercise not in BY_EXERCISE:
        raise KeyError(f"no check for exercise {exercise!r}; exercises with a check: {', '.join(BY_EXERCISE)}")
    key = BY_EXERCISE[exercise]
    if answer is Ellipsis:
        right, message = False, f"replace ... with your answer: {key.what}"
    elif key.kind == "function":
        right, message = TESTERS[key.expected](answer)
    elif key.kind == "array":
        right, message = _check_array(key, answer)
    else:
        right, message = _check_numbers(key, answer)
    verdict = Verdict(exercise, right, f"Exercise {exercise[2:].lstrip('0')}: {message}")
    print(verdict.message)
    return verdict
