"""Ranking metrics for targeting (book chapter 20, Eq. (20.6)).

A marketing campaign can contact k customers. Sorted by the model's score, the
*precision at k* is the share of buyers among the first k, and the *lift* is
how many times better that is than contacting k customers at random:

    precision@k = (1 / k) sum_{i <= k} y_(i),      lift@k = precision@k / mean(y).

The *cumulative gains* curve gives, for each fraction of the list contacted,
the fraction of all buyers reached. Ties in the score are broken by the
original order (a stable sort), so a result never depends on the machine.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int
from companion.metrics.labels import as_scores, binary_targets, check_same_length


def _ranked_targets(y_true, y_score, pos_label) -> np.ndarray:
    targets = binary_targets(y_true, pos_label)
    scores = as_scores(y_score)
    check_same_length(targets, scores, "y_true", "y_score")
    if not targets.any():
        raise ValueError("y_true has no positive example: precision and lift are undefined")
    return targets[np.argsort(-scores, kind="stable")]


def precision_at_k(y_true, y_score, k: int, pos_label=1) -> float:
    """Eq. (20.6): the share of positives among the ``k`` highest scores."""
    ranked = _ranked_targets(y_true, y_score, pos_label)
    k = check_positive_int(k, "k")
    if k > len(ranked):
        raise ValueError(f"k must be at most the number of examples ({len(ranked)}); got {k}")
    return float(ranked[:k].mean())


def lift_at_k(y_true, y_score, k: int, pos_label=1) -> float:
    """Eq. (20.6): precision at k over the base rate (1 = no better than random targeting)."""
    ranked = _ranked_targets(y_true, y_score, pos_label)
    return precision_at_k(y_true, y_score, k, pos_label) / float(ranked.mean())


def cumulative_gains(y_true, y_score, pos_label=1) -> tuple[np.ndarray, np.ndarray]:
    """(fraction contacted, fraction of positives reached) after each example of the ranked list."""
    ranked = _ranked_targets(y_true, y_score, pos_label)
    n = len(ranked)
    return np.arange(1, n + 1) / n, np.cumsum(ranked) / ranked.sum()
