"""Decisions from probabilities when errors have costs (book chapter 19, Eqs. (19.1)-(19.3)).

A calibrated model says p = P(disease | x). Calling the case positive costs
c_FP if it is healthy (probability 1 - p), calling it negative costs c_FN if
it is ill (probability p). The call with the smaller expected cost is
"positive" exactly when (1 - p) c_FP < p c_FN, that is above the threshold of
Eq. (19.1):

    t* = c_FP / (c_FP + c_FN).

Sensitivity and specificity are properties of the test; the chance that a
positive call is right, the positive predictive value, also depends on how
common the disease is where the test is used (the prevalence pi), Eq. (19.3):

    PPV = se pi / (se pi + (1 - sp)(1 - pi)),   NPV = sp (1 - pi) / (sp (1 - pi) + (1 - se) pi).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.metrics.labels import as_probabilities, binary_targets, check_same_length


def _check_cost(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite cost; got {value}")
    return float(value)


def _check_fraction(value, name: str, *, open_interval: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, 1]; got {type(value).__name__} {value!r}")
    if open_interval and not 0 < value < 1:
        raise ValueError(f"{name} must lie strictly between 0 and 1; got {value}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must lie in [0, 1]; got {value}")
    return float(value)


def cost_threshold(cost_fp, cost_fn) -> float:
    """Eq. (19.1): the probability above which calling a case positive costs less on average."""
    cost_fp, cost_fn = _check_cost(cost_fp, "cost_fp"), _check_cost(cost_fn, "cost_fn")
    return cost_fp / (cost_fp + cost_fn)


def expected_cost(y_true, y_prob, threshold, cost_fp, cost_fn, pos_label=1) -> float:
    """Eq. (19.2): the average cost per case of calling ``y_prob >= threshold`` positive."""
    targets = binary_targets(y_true, pos_label)
    prob = as_probabilities(y_prob)
    check_same_length(targets, prob, "y_true", "y_prob")
    threshold = _check_fraction(threshold, "threshold")
    cost_fp, cost_fn = _check_cost(cost_fp, "cost_fp"), _check_cost(cost_fn, "cost_fn")
    called = prob >= threshold
    false_positives = np.count_nonzero(called & (targets == 0))
    false_negatives = np.count_nonzero(~called & (targets == 1))
    return float((cost_fp * false_positives + cost_fn * false_negatives) / len(targets))


@dataclass(frozen=True)
class PredictiveValues:
    """The chance that a positive call is right (``ppv``) and that a negative one is (``npv``)."""

    ppv: float
    npv: float


def predictive_values(sensitivity, specificity, prevalence) -> PredictiveValues:
    """Eq. (19.3): PPV and NPV of a test with this sensitivity and specificity at this prevalence."""
    se = _check_fraction(sensitivity, "sensitivity")
    sp = _check_fraction(specificity, "specificity")
    pi = _check_fraction(prevalence, "prevalence", open_interval=True)
    positive = se * pi + (1 - sp) * (1 - pi)
    negative = sp * (1 - pi) + (1 - se) * pi
    ppv = se * pi / positive if positive > 0 else float("nan")
    npv = sp * (1 - pi) / negative if negative > 0 else float("nan")
    return PredictiveValues(ppv, npv)
