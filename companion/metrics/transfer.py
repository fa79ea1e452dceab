"""Measuring domain shift: the transfer matrix, the transfer gap, the proxy A-distance and the
correction for a change of class balance (book chapter 17, Eqs. (17.1)-(17.4)).

A model trained on domain s and tested on domain t scores A[s, t], Eq. (17.1); the
diagonal holds the in-domain scores. The transfer gap of Eq. (17.2),

    gap[s, t] = A[t, t] - A[s, t],

is what a model from s loses on t against one trained on t itself (0 on the diagonal).

How far apart two domains are can be measured without labels: train a classifier
to tell texts of s from texts of t. With its held-out error eps (0.5 when it cannot
tell them apart, 0 when it always can), the proxy A-distance of Ben-David et al.
(2007), Eq. (17.3), is

    d_A = 2 (1 - 2 eps),

0 for indistinguishable domains and 2 for disjoint ones.

When only the class balance changes between domains (label shift: p(x | y) is the
same, the prior pi(y) is not), Bayes' rule gives the target posterior from the
source one, Eq. (17.4):

    p_t(y | x) = p_s(y | x) w_y / sum_k p_s(k | x) w_k,   w_y = pi_t(y) / pi_s(y).
"""

from __future__ import annotations

import numpy as np


def transfer_gap(matrix) -> np.ndarray:
    """Eq. (17.2): gap[s, t] = A[t, t] - A[s, t] for a square matrix of scores (rows: trained on, columns:
    tested on). The diagonal is 0; a positive entry is what training on s instead of t costs on t."""
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"the transfer matrix must be square (trained on x tested on); got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)):
        raise ValueError("the transfer matrix holds NaN or infinite scores")
    return np.diag(matrix)[None, :] - matrix


def proxy_a_distance(error: float) -> float:
    """Eq. (17.3): d_A = 2 (1 - 2 eps) from a domain classifier's held-out error eps in [0, 1].

    An error above 0.5 (a classifier worse than chance) is as informative as its
    mirror image (flip its answers), so it is folded back first: eps -> 1 - eps.
    """
    if isinstance(error, bool) or not isinstance(error, (int, float, np.integer, np.floating)):
        raise TypeError(f"error must be a number in [0, 1]; got {type(error).__name__} {error!r}")
    if not 0 <= error <= 1:
        raise ValueError(f"error must lie in [0, 1] (a classification error rate); got {error}")
    error = min(float(error), 1 - float(error))
    return 2 * (1 - 2 * error)


def domain_classifier_error(texts_a, texts_b, make_pipeline, *, folds: int = 5, seed: int = 0) -> float:
    """Held-out error of a classifier that tells ``texts_a`` (label 0) from ``texts_b`` (label 1).

    ``make_pipeline()`` returns an unfitted scikit-learn text pipeline (e.g. TF-IDF then
    logistic regression); it is fitted ``folds`` times in stratified cross-validation.
    Equal numbers of texts from each side keep 0.5 the error of guessing.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    texts_a, texts_b = list(texts_a), list(texts_b)
    if len(texts_a) != len(texts_b):
        raise ValueError(f"give both domains the same number of texts, so that guessing errs half the time; "
                         f"got {len(texts_a)} and {len(texts_b)}")
    if len(texts_a) < folds:
        raise ValueError(f"each domain needs at least folds={folds} texts; got {len(texts_a)}")
    texts = texts_a + texts_b
    labels = np.array([0] * len(texts_a) + [1] * len(texts_b))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(make_pipeline(), texts, labels, cv=splitter)
    return float(np.mean(predicted != labels))


def _check_prior(prior, name: str, classes: int) -> np.ndarray:
    prior = np.asarray(prior, dtype=np.float64)
    if prior.shape != (classes,):
        raise ValueError(f"{name} must hold one probability per class ({classes}); got shape {prior.shape}")
    if np.any(~np.isfinite(prior)) or np.any(prior <= 0) or not np.isclose(prior.sum(), 1.0, atol=1e-9):
        raise ValueError(f"{name} must be positive and sum to 1; got {prior.tolist()}")
    return prior


def correct_for_label_shift(proba, source_prior, target_prior) -> np.ndarray:
    """Eq. (17.4): reweight posteriors p_s(y | x) (n, K) by w_y = pi_t(y) / pi_s(y) and renormalise each row.

    Valid when p(x | y) is the same in both domains. Every probability moves, but a
    decision changes only where the weights carry p_s across one half.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(f"proba must have shape (n, K) with K >= 2 classes; got {proba.shape}")
    if np.any(~np.isfinite(proba)) or np.any(proba < 0) or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("every row of proba must be a probability distribution (non-negative, summing to 1)")
    weights = _check_prior(target_prior, "target_prior", proba.shape[1]) / _check_prior(
        source_prior, "source_prior", proba.shape[1])
    weighted = proba * weights[None, :]
    return weighted / weighted.sum(axis=1, keepdims=True)


def class_prior(labels, classes: int = 2) -> np.ndarray:
    """The share of each class 0..classes-1 among ``labels``; every class must occur."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-d array; got shape {labels.shape}")
    counts = np.bincount(labels.astype(np.int64), minlength=classes)
    if len(counts) != classes or np.any(counts == 0):
        raise ValueError(f"labels must use every class 0..{classes - 1} and no other; got counts {counts.tolist()}")
    return counts / counts.sum()
