"""How strong is the evidence that A beats B? (the book's reproducibility policy)

Two tools, one for each way a comparison is run:

- the same test set scored by two classifiers: McNemar's exact test on the
  examples where they disagree, Eq. (5.22);
- the same experiment repeated over seeds: every seed's value, the mean and the
  sample standard deviation, and the exact sign test on paired differences,
  Eq. (5.23).

Both return plain numbers; a chapter prints them next to its claim and says
how strong the evidence is.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np

from companion.checks import as_float_array
from companion.metrics.labels import label_pair


def _binomial_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair coin flips."""
    if n == 0:
        return 1.0
    tail = sum(comb(n, i) for i in range(0, min(k, n - k) + 1)) / 2**n
    return min(1.0, 2 * tail)


@dataclass(frozen=True)
class McNemar:
    """Result of McNemar's exact test: the discordant counts and the p-value."""

    only_a_right: int
    only_b_right: int
    p_value: float


def mcnemar(y_true, pred_a, pred_b) -> McNemar:
    """McNemar's exact test of two classifiers on the same examples, Eq. (5.22).

    Only the examples where exactly one of the two is right carry evidence. Under
    the null hypothesis that both have the same accuracy, each such example is
    equally likely to favour either, so ``only_a_right`` is Binomial(n, 1/2) with
    ``n = only_a_right + only_b_right``; the p-value is the exact two-sided tail.

    Raises:
        ValueError: the three label arrays differ in length or are empty.
    """
    y_true, pred_a = label_pair(y_true, pred_a)
    _, pred_b = label_pair(y_true, pred_b)
    right_a, right_b = pred_a == y_true, pred_b == y_true
    b = int(np.sum(right_a & ~right_b))
    c = int(np.sum(~right_a & right_b))
    return McNemar(only_a_right=b, only_b_right=c, p_value=_binomial_two_sided(b, b + c))


@dataclass(frozen=True)
class SeedSummary:
    """Values of one measurement over seeds, with their mean and spread."""

    values: tuple[float, ...]
    mean: float
    std: float  # sample standard deviation (ddof=1); 0.0 for a single seed

    def __str__(self) -> str:
        shown = ", ".join(f"{v:.3f}" for v in self.values)
        return f"{self.mean:.3f} ± {self.std:.3f} (seeds: {shown})"


def seed_summary(values) -> SeedSummary:
    """Mean and sample standard deviation of one measurement over seeds.

    Raises:
        ValueError: ``values`` is empty, not one-dimensional, or not finite.
    """
    array = as_float_array(values, "values", ndim=1)
    if array.size == 0:
        raise ValueError("values must hold at least one seed's result; got an empty array")
    std = float(array.std(ddof=1)) if array.size > 1 else 0.0
    return SeedSummary(values=tuple(float(v) for v in array), mean=float(array.mean()), std=std)


@dataclass(frozen=True)
class SignTest:
    """Paired comparison over seeds: how often A was larger, and the exact p-value."""

    a_larger: int
    b_larger: int
    ties: int
    p_value: float


def sign_test(a, b) -> SignTest:
    """Exact two-sided sign test on paired values ``a[i]``, ``b[i]`` (seed i), Eq. (5.23).

    Ties carry no evidence and are dropped. With 5 seeds the smallest possible
    p-value is 2/32 = 0.0625: five seeds all going one way are suggestive, not
    significant at 5%, and a chapter should say so.

    Raises:
        ValueError: ``a`` and ``b`` differ in length or are empty.
    """
    a = as_float_array(a, "a", ndim=1)
    b = as_float_array(b, "b", ndim=1)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"a and b must be non-empty and paired (same length); got lengths {a.size} and {b.size}")
    larger, smaller = int(np.sum(a > b)), int(np.sum(a < b))
    return SignTest(a_larger=larger, b_larger=smaller, ties=int(a.size - larger - smaller),
                    p_value=_binomial_two_sided(larger, larger + smaller))
