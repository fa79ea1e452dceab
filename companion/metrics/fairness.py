"""Group fairness of binary decisions (book chapter 20, Eqs. (20.4)-(20.5)).

For decisions yhat (1 = flagged, for example refused credit or sent to review)
and a group attribute g, the *selection rate* of group a is P(yhat = 1 | g = a).
Demographic parity asks for equal selection rates; its gap is

    DP = max_a P(yhat = 1 | g = a) - min_a P(yhat = 1 | g = a).        (20.4)

Equal opportunity asks for equal true-positive rates among the cases that are
truly positive, and equalised odds for equal true- and false-positive rates;

    EO = max over {TPR, FPR} of (max_a - min_a) of that rate.          (20.5)

The two cannot in general hold together when the groups' base rates differ:
the chapter measures both, each rate with a Wilson interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.metrics.intervals import Interval, wilson_interval
from companion.metrics.labels import binary_targets, check_same_length


@dataclass(frozen=True)
class GroupRates:
    """One group's size, base rate and its selection, true-positive and false-positive rates."""

    group: object
    n: int
    base_rate: float
    selection: Interval
    tpr: Interval | None  # None when the group has no positive case
    fpr: Interval | None  # None when the group has no negative case


def _pair(y_true, y_pred, groups):
    truth = binary_targets(y_true)
    decided = binary_targets(y_pred)
    groups = np.asarray(groups)
    check_same_length(truth, decided, "y_true", "y_pred")
    if groups.ndim != 1 or len(groups) != len(truth):
        raise ValueError(
            f"groups must give one group per example ({len(truth)}); got shape {groups.shape}"
        )
    if len(np.unique(groups)) < 2:
        raise ValueError(f"groups must hold at least two groups; got {np.unique(groups).tolist()}")
    return truth, decided, groups


def group_rates(y_true, y_pred, groups) -> list[GroupRates]:
    """Per group (sorted): n, base rate, selection rate, TPR and FPR with 95 % Wilson intervals."""
    truth, decided, groups = _pair(y_true, y_pred, groups)
    rates = []
    for group in np.unique(groups):
        rows = groups == group
        positive, negative = rows & truth, rows & ~truth
        rates.append(
            GroupRates(
                group.item() if hasattr(group, "item") else group,
                int(rows.sum()),
                float(truth[rows].mean()),
                wilson_interval(int(decided[rows].sum()), int(rows.sum())),
                wilson_interval(int(decided[positive].sum()), int(positive.sum()))
                if positive.any()
                else None,
                wilson_interval(int(decided[negative].sum()), int(negative.sum()))
                if negative.any()
                else None,
            )
        )
    return rates


def demographic_parity_difference(y_true, y_pred, groups) -> float:
    """Eq. (20.4): the largest minus the smallest selection rate over the groups."""
    selection = [rate.selection.estimate for rate in group_rates(y_true, y_pred, groups)]
    return float(max(selection) - min(selection))


def equalized_odds_difference(y_true, y_pred, groups) -> float:
    """Eq. (20.5): the larger of the groups' TPR gap and FPR gap."""
    rates = group_rates(y_true, y_pred, groups)
    if any(rate.tpr is None or rate.fpr is None for rate in rates):
        raise ValueError("every group needs positive and negative cases for equalised odds")
    tpr = [rate.tpr.estimate for rate in rates]
    fpr = [rate.fpr.estimate for rate in rates]
    return float(max(max(tpr) - min(tpr), max(fpr) - min(fpr)))
