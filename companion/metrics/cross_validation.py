"""Stratified k-fold cross-validation (book chapter 5, Eq. (5.18)).

``stratified_kfold`` splits the sample indices into k test folds whose sizes
differ by at most one and in which every class appears in (nearly) its overall
proportion: each class contributes floor(n_c / k) or ceil(n_c / k) samples to
each fold. The per-fold class counts are the ones scikit-learn's
``StratifiedKFold`` uses; without shuffling the folds are identical to
scikit-learn's. With shuffling, which sample lands in which fold differs,
because the random generators differ (NumPy's ``default_rng`` here).
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array
from companion.metrics.classification import accuracy
from companion.metrics.labels import as_labels, check_same_length


def _check_folds(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int with 2 <= k <= n_samples; got {type(k).__name__} {k!r}")
    if k < 2 or k > n:
        raise ValueError(f"k must satisfy 2 <= k <= n_samples = {n}; got k={k}")
    return int(k)


def stratified_kfold(y, k: int = 5, shuffle: bool = True, seed: int = 0):
    """Stratified k-fold splits of the indices 0..n-1.

    Args:
        y: 1-d class labels.
        k: number of folds, 2 <= k <= n.
        shuffle: shuffle which samples of a class go to which fold (seeded);
            False assigns each class's samples to folds in their original order.
        seed: seed of ``numpy.random.default_rng`` when ``shuffle`` is True.

    Returns:
        A list of k pairs ``(train_idx, test_idx)`` of sorted int64 arrays; the
        test folds partition 0..n-1 and each train set is the complement of its
        test fold.
    """
    y = as_labels(y, "y")
    n = len(y)
    k = _check_folds(k, n)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be a bool; got {type(shuffle).__name__} {shuffle!r}")
    rng = np.random.default_rng(seed) if shuffle else None
    # Classes are numbered in order of first appearance.
    _, first, inverse = np.unique(y, return_index=True, return_inverse=True)
    code = np.argsort(np.argsort(first))[inverse]
    counts = np.bincount(code)
    # Deal the class-sorted sequence round-robin: position p goes to fold p mod k.
    # Class c occupies positions start_c .. start_c + n_c - 1 of that sequence.
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    fold_of = np.empty(n, dtype=np.int64)
    for c, (start, n_c) in enumerate(zip(starts, counts)):
        per_fold = np.bincount((start + np.arange(n_c)) % k, minlength=k)
        folds = np.repeat(np.arange(k), per_fold)
        if rng is not None:
            folds = rng.permutation(folds)
        fold_of[code == c] = folds
    everything = np.arange(n)
    return [(everything[fold_of != j], everything[fold_of == j]) for j in range(k)]


def cross_val_score(model_factory, X, y, k: int = 5, scoring=accuracy, method: str = "predict", shuffle=True, seed=0):
    """Score a model on each of k stratified folds, Eq. (5.18).

    For each split a fresh model ``model_factory()`` is fitted on the training
    part and scored on the held-out fold with ``scoring(y_test, output)``.

    Args:
        model_factory: a callable with no arguments returning an object with
            ``fit(X, y)`` and the method named by ``method``.
        X: array of n samples (indexable by an index array along axis 0).
        y: 1-d class labels, length n.
        k, shuffle, seed: passed to :func:`stratified_kfold`.
        scoring: ``scoring(y_true, output) -> float``; accuracy by default.
        method: ``"predict"`` (labels) or ``"predict_proba"`` (for binary y the
            positive-class column, column 1, is passed on) or ``"decision_function"``.

    Returns:
        The k fold scores as a float64 array; their mean is the CV estimate.
    """
    if not callable(model_factory):
        raise TypeError(f"model_factory must be a callable returning a model; got {type(model_factory).__name__}")
    if method not in ("predict", "predict_proba", "decision_function"):
        raise ValueError(f"method must be 'predict', 'predict_proba' or 'decision_function'; got {method!r}")
    X = np.asarray(X)
    y = as_labels(y, "y")
    check_same_length(X, y, "X", "y")
    scores = []
    for train, test in stratified_kfold(y, k, shuffle=shuffle, seed=seed):
        model = model_factory()
        for needed in ("fit", method):
            if not callable(getattr(model, needed, None)):
                raise TypeError(f"the model from model_factory must have a {needed}() method; "
                                f"got {type(model).__name__}")
        model.fit(X[train], y[train])
        output = np.asarray(getattr(model, method)(X[test]))
        if method == "predict_proba" and output.ndim == 2 and output.shape[1] == 2:
            output = output[:, 1]
        scores.append(float(scoring(y[test], output)))
    return np.asarray(scores)


def fold_spread(scores):
    """Mean, sample standard deviation (ddof=1) and range of fold scores.

    The standard deviation describes how much one fold's score varies; because
    the k training sets overlap, the fold scores are not independent and
    std / sqrt(k) understates the uncertainty of the mean (chapter 5).
    """
    scores = as_float_array(scores, "scores", ndim=1)
    if scores.size < 2:
        raise ValueError(f"fold_spread needs at least 2 scores; got {scores.size}")
    return {"mean": float(scores.mean()), "std": float(scores.std(ddof=1)),
            "min": float(scores.min()), "max": float(scores.max())}
