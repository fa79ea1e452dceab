"""Permutation importance (book chapter 19, Eq. (19.11)).

Shuffle column j of the test inputs, which keeps its values but cuts their link
with the outcome (and with the other columns), and measure how much the score
drops:

    I_j = s(X, y) - (1 / R) sum_{r=1}^{R} s(X with column j permuted by pi_r, y).

It asks what the *model* uses, not what causes the outcome, and when two
columns carry the same information the model can use either one, so permuting
one of them costs little: correlated features share, and hide, importance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import as_float_array, check_positive_int, check_rng


@dataclass(frozen=True)
class Importance:
    """Per column: the mean score drop of Eq. (19.11), its standard deviation over repeats, all drops."""

    mean: np.ndarray
    std: np.ndarray
    drops: np.ndarray  # (columns, repeats)
    baseline: float


def permutation_importance(score, X, y, n_repeats: int = 10, rng=0) -> Importance:
    """Eq. (19.11) for ``score(X, y) -> float`` (higher is better), ``n_repeats`` permutations per column."""
    if not callable(score):
        raise TypeError(
            f"score must be a callable score(X, y) -> float; got {type(score).__name__}"
        )
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row of X ({len(X)}); got {len(y)}")
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    rng = check_rng(rng)
    baseline = float(score(X, y))
    drops = np.empty((X.shape[1], n_repeats))
    for j in range(X.shape[1]):
        shuffled = X.copy()
        for r in range(n_repeats):
            shuffled[:, j] = X[rng.permutation(len(X)), j]
            drops[j, r] = baseline - float(score(shuffled, y))
    return Importance(drops.mean(axis=1), drops.std(axis=1), drops, baseline)
