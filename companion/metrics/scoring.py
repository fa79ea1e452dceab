"""Proper scoring rules: the Brier score and the log-loss (book chapter 5,
Eqs. (5.14)-(5.17)).

A scoring rule gives a probabilistic prediction p a penalty once the outcome y
is known. It is *proper* when predicting the true probability q minimises the
expected penalty, and strictly proper when nothing else does (Eqs. (5.15) and
(5.17)). Both rules here are strictly proper, so unlike the expected
calibration error they cannot be gamed: a constant prediction at the base rate
has an ECE near zero, but a poor Brier score and log-loss.

Two settings, as in :mod:`companion.metrics.calibration`:

- binary: ``y_prob`` is 1-d, the predicted probability of the positive class;
- multiclass: ``y_prob`` is (n, K) with rows summing to 1, and ``y_true`` holds
  class indices 0..K-1.

Both functions equal scikit-learn's ``brier_score_loss`` and ``log_loss``
(tests/test_metrics_scoring.py).
"""

from __future__ import annotations

import numpy as np

from companion.metrics.labels import as_probabilities, binary_targets, check_same_length, class_probabilities

# scikit-learn clips probabilities to [EPS, 1 - EPS] before the log; so does log_loss.
EPS = float(np.finfo(np.float64).eps)


def _one_hot_targets(y_true, y_prob: np.ndarray) -> np.ndarray:
    """The (n, K) one-hot matrix of ``y_true`` for a 2-d ``y_prob``."""
    if y_prob.shape[1] < 2:
        raise ValueError(f"a 2-d y_prob needs at least 2 columns, one per class; got shape {y_prob.shape}")
    y_true = class_probabilities(y_true, y_prob)
    targets = np.zeros_like(y_prob)
    targets[np.arange(len(y_true)), y_true] = 1.0
    return targets


def _binary_targets(y_true, y_prob: np.ndarray, pos_label) -> np.ndarray:
    targets = binary_targets(y_true, pos_label).astype(np.float64)
    check_same_length(targets, y_prob, "y_true", "y_prob")
    return targets


def brier_score(y_true, y_prob, pos_label=1) -> float:
    """The Brier score, Eq. (5.14): the mean squared difference between probability and outcome.

    With 1-d ``y_prob`` (binary) it is ``mean((p_i - y_i)^2)``, between 0 and 1.
    With 2-d ``y_prob`` it is ``mean(sum_k (P_ik - Y_ik)^2)`` with Y one-hot,
    between 0 and 2; for two columns, like scikit-learn, it is halved, which
    makes it equal to the binary score of the second column.

    Raises:
        ValueError: lengths differ, probabilities lie outside [0, 1] or rows do
            not sum to 1, labels are not classes (or not indices 0..K-1 in the
            2-d case), or y_true holds more than two classes with 1-d y_prob.
    """
    y_prob = as_probabilities(y_prob, "y_prob", ndim=None)
    if y_prob.ndim == 1:
        targets = _binary_targets(y_true, y_prob, pos_label)
        return float(np.mean((y_prob - targets) ** 2))
    targets = _one_hot_targets(y_true, y_prob)
    score = float(np.mean(np.sum((y_prob - targets) ** 2, axis=1)))
    return score / 2 if y_prob.shape[1] == 2 else score


def log_loss(y_true, y_prob, pos_label=1) -> float:
    """The log-loss, Eq. (5.16): the mean negative log-probability of the outcome that happened.

    It is chapter 2's cross-entropy, computed from probabilities rather than
    logits. A probability of exactly 0 on the outcome that happened would cost
    an infinite loss; like scikit-learn, the probabilities are clipped to
    [EPS, 1 - EPS] (EPS the float64 machine epsilon) first, so such an example
    costs -log(EPS), about 36.04.

    Raises:
        ValueError: as for :func:`brier_score`.
    """
    y_prob = as_probabilities(y_prob, "y_prob", ndim=None)
    if y_prob.ndim == 1:
        targets = _binary_targets(y_true, y_prob, pos_label)
        y_prob = np.column_stack([1.0 - y_prob, y_prob])
        targets = np.column_stack([1.0 - targets, targets])
    else:
        targets = _one_hot_targets(y_true, y_prob)
    clipped = np.clip(y_prob, EPS, 1.0 - EPS)
    return float(-np.mean(np.sum(targets * np.log(clipped), axis=1)))
