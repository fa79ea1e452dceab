"""Confidence intervals for an accuracy measured on n test examples
(book chapter 5, Eqs. (5.19)-(5.21)).

If the n test examples are independent draws from the population the model
will meet, the number it gets right is Binomial(n, a), Eq. (5.19), where a is
its true accuracy. Two intervals for a:

- Wilson's score interval, Eq. (5.20): the accuracies a whose normal-approximation
  test |a_hat - a| <= z sqrt(a (1 - a) / n) does not reject, a quadratic in a.
  Unlike the textbook a_hat +- z sqrt(a_hat (1 - a_hat) / n), it never has zero
  width at a_hat = 1 and never leaves [0, 1].
- the Clopper-Pearson interval, Eq. (5.21): inverts the two exact one-sided
  binomial tests, so its coverage is at least the nominal level for every a
  (it is conservative, a little wider than Wilson's).

Only the Python standard library and NumPy are used: the normal quantile comes
from ``statistics.NormalDist`` and the binomial tails are summed in log space,
so the tests can check both against independent references.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import log, sqrt
from statistics import NormalDist

import numpy as np

from companion.checks import check_choice, check_positive_int
from companion.metrics.labels import label_pair

METHODS = ("wilson", "clopper-pearson")


@dataclass(frozen=True)
class Interval:
    """A point estimate k / n and a two-sided interval [low, high] at level ``confidence``."""

    estimate: float
    low: float
    high: float
    confidence: float

    def __str__(self) -> str:
        return f"{self.estimate:.4f}, {self.confidence:.0%} interval [{self.low:.4f}, {self.high:.4f}]"


def _check_counts(successes, n, confidence) -> tuple[int, int, float]:
    n = check_positive_int(n, "n")
    if isinstance(successes, bool) or not isinstance(successes, (int, np.integer)):
        raise TypeError(f"successes must be an int; got {type(successes).__name__} {successes!r}")
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n] = [0, {n}]; got {successes}")
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float, np.floating)):
        raise TypeError(f"confidence must be a float in (0, 1); got {type(confidence).__name__}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1; got {confidence}")
    return int(successes), n, float(confidence)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """Wilson's score interval for a binomial proportion, Eq. (5.20).

    With a_hat = successes / n and z the (1 + confidence) / 2 quantile of the
    standard normal, the bounds are

        (a_hat + z^2 / 2n  -+  z sqrt(a_hat (1 - a_hat) / n + z^2 / 4n^2)) / (1 + z^2 / n).

    Raises:
        TypeError: ``successes`` or ``n`` is not an int, ``confidence`` not a float.
        ValueError: ``n < 1``, ``successes`` outside [0, n] or ``confidence`` outside (0, 1).
    """
    k, n, confidence = _check_counts(successes, n, confidence)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    a_hat = k / n
    denominator = 1 + z * z / n
    centre = (a_hat + z * z / (2 * n)) / denominator
    half = z * sqrt(a_hat * (1 - a_hat) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return Interval(estimate=a_hat, low=low, high=high, confidence=confidence)


def _log_binomial_coefficients(n: int) -> np.ndarray:
    """log C(n, j) for j = 0..n, from log C(n, j) = sum_{i <= j} log((n - i + 1) / i)."""
    i = np.arange(1, n + 1)
    return np.concatenate([[0.0], np.cumsum(np.log(n - i + 1) - np.log(i))])


def binomial_tail(k: int, n: int, p: float, upper: bool) -> float:
    """P(X >= k) (``upper``) or P(X <= k) for X ~ Binomial(n, p), summed in log space."""
    if p <= 0.0:
        return 1.0 if (not upper or k == 0) else 0.0
    if p >= 1.0:
        return 1.0 if (upper or k == n) else 0.0
    j = np.arange(k, n + 1) if upper else np.arange(0, k + 1)
    log_pmf = _log_binomial_coefficients(n)[j] + j * log(p) + (n - j) * log(1 - p)
    top = log_pmf.max()
    return float(min(1.0, np.exp(top) * np.sum(np.exp(log_pmf - top))))


def _bisect(f, target: float, increasing: bool) -> float:
    """The p in [0, 1] where the monotone function f crosses ``target`` (to float precision)."""
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if mid in (lo, hi):
            break
        if (f(mid) < target) == increasing:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson_interval(successes: int, n: int, confidence: float = 0.95) -> Interval:
    """The exact (Clopper-Pearson) interval for a binomial proportion, Eq. (5.21).

    The lower bound is the a at which P(X >= k | a) = alpha / 2 (0 when k = 0),
    the upper the a at which P(X <= k | a) = alpha / 2 (1 when k = n), with
    alpha = 1 - confidence; both are found by bisection on the exact tails.

    Raises:
        TypeError, ValueError: as for :func:`wilson_interval`.
    """
    k, n, confidence = _check_counts(successes, n, confidence)
    alpha = 1 - confidence
    low = 0.0 if k == 0 else _bisect(lambda p: binomial_tail(k, n, p, upper=True), alpha / 2, increasing=True)
    high = 1.0 if k == n else _bisect(lambda p: binomial_tail(k, n, p, upper=False), alpha / 2, increasing=False)
    return Interval(estimate=k / n, low=low, high=high, confidence=confidence)


def accuracy_interval(y_true, y_pred, confidence: float = 0.95, method: str = "wilson") -> Interval:
    """Accuracy, Eq. (5.2), with a ``method`` interval: ``"wilson"`` or ``"clopper-pearson"``.

    Raises:
        ValueError: the labels differ in length or are not classes, or ``method`` is unknown.
    """
    y_true, y_pred = label_pair(y_true, y_pred)
    check_choice(method, "method", METHODS)
    correct = int(np.sum(y_true == y_pred))
    make = wilson_interval if method == "wilson" else clopper_pearson_interval
    return make(correct, len(y_true), confidence)
