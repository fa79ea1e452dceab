"""companion.metrics.calibration and cross_validation against scikit-learn and their definitions."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve as sk_calibration_curve
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.model_selection import cross_val_score as sk_cross_val_score

from companion.metrics import (
    calibration_curve,
    cross_val_score,
    expected_calibration_error,
    fold_spread,
    reliability_bins,
    roc_auc,
    stratified_kfold,
)


def random_probabilities(seed, n, on_edges):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    if on_edges:  # put many values exactly on bin edges
        p = np.round(p * 10) / 10
    y = (rng.random(n) < p**1.5).astype(int)  # miscalibrated on purpose
    return y, p


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 120), st.integers(1, 12), st.sampled_from(["uniform", "quantile"]),
       st.booleans())
def test_calibration_curve_equals_sklearn(seed, n, n_bins, strategy, on_edges):
    y, p = random_probabilities(seed, n, on_edges)
    ours = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    theirs = sk_calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def ece_by_loops(confidence, hits, edges):
    """The definition of Eq. (5.13), one bin at a time; a value on an inner edge belongs to the lower bin."""
    total, n = 0.0, len(confidence)
    for b in range(len(edges) - 1):
        lo, hi = edges[b], edges[b + 1]
        inside = [i for i in range(n)
                  if (confidence[i] > lo or b == 0) and (confidence[i] <= hi or b == len(edges) - 2)]
        if inside:
            acc = sum(hits[i] for i in inside) / len(inside)
            conf = sum(confidence[i] for i in inside) / len(inside)
            total += len(inside) / n * abs(acc - conf)
    return total


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 80), st.integers(1, 10), st.booleans())
def test_binary_ece_matches_its_definition(seed, n, n_bins, on_edges):
    y, p = random_probabilities(seed, n, on_edges)
    expected = ece_by_loops(p, y, np.linspace(0, 1, n_bins + 1))
    assert expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(expected, abs=1e-12)
    bins = reliability_bins(y, p, n_bins=n_bins)
    assert bins.counts.sum() == n and len(bins.edges) == n_bins + 1
    assert np.all(np.isnan(bins.accuracy[bins.counts == 0]))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 80), st.integers(2, 6))
def test_top_label_ece_matches_its_definition(seed, n, k):
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.normal(size=(n, k))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = rng.integers(0, k, size=n)
    expected = ece_by_loops(P.max(axis=1), (P.argmax(axis=1) == y).astype(float), np.linspace(0, 1, 11))
    assert expected_calibration_error(y, P) == pytest.approx(expected, abs=1e-12)


def test_perfectly_calibrated_bins_have_zero_error_and_overconfidence_does_not():
    # 10 predictions of 0.3 with 3 positives, 10 of 0.8 with 8 positives
    p = np.r_[np.full(10, 0.3), np.full(10, 0.8)]
    y = np.r_[np.ones(3), np.zeros(7), np.ones(8), np.zeros(2)].astype(int)
    assert expected_calibration_error(y, p) == pytest.approx(0.0, abs=1e-12)
    # same outcomes, probabilities pushed to 0.05 and 0.99: |0.3-0.05| and |0.8-0.99|, each weight 1/2
    p_sharp = np.r_[np.full(10, 0.05), np.full(10, 0.99)]
    assert expected_calibration_error(y, p_sharp) == pytest.approx(0.5 * 0.25 + 0.5 * 0.19)


def test_calibration_bad_input_is_rejected():
    with pytest.raises(ValueError, match=r"y_prob must hold probabilities in \[0, 1\]; got values from -0.2 to 0.9"):
        expected_calibration_error([0, 1], [-0.2, 0.9])
    with pytest.raises(ValueError, match=r"y_prob must hold probabilities in \[0, 1\]; got values from 0.1 to 1.5"):
        calibration_curve([0, 1], [0.1, 1.5])
    with pytest.raises(ValueError, match=r"y_prob must be finite; got 1 NaN"):
        expected_calibration_error([0, 1], [np.nan, 0.5])
    with pytest.raises(ValueError, match=r"y_true and y_prob must have the same length; got 3 and 2"):
        expected_calibration_error([0, 1, 1], [0.2, 0.5])
    with pytest.raises(ValueError, match=r"rows of a 2-d y_prob must sum to 1; got row sums from 0.5 to 1"):
        expected_calibration_error([0, 1], [[0.5, 0.5], [0.2, 0.3]])
    with pytest.raises(ValueError, match=r"y_true must hold class indices 0..1; got labels \[0, 2\]"):
        expected_calibration_error([0, 2], [[0.5, 0.5], [0.2, 0.8]])
    with pytest.raises(ValueError, match=r"strategy must be one of \('uniform', 'quantile'\); got 'kmeans'"):
        reliability_bins([0, 1], [0.2, 0.5], strategy="kmeans")
    with pytest.raises(ValueError, match="n_bins must be a positive int; got 0"):
        reliability_bins([0, 1], [0.2, 0.5], n_bins=0)
    with pytest.raises(ValueError, match=r"calibration_curve needs 1-d y_prob; got shape \(2, 2\)"):
        calibration_curve([0, 1], [[0.5, 0.5], [0.2, 0.8]])


def random_classes(seed, n, k):
    rng = np.random.default_rng(seed)
    return rng.choice(np.arange(k) * 3 + 1, size=n, p=rng.dirichlet(np.ones(k)))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(10, 120), st.integers(1, 4), st.integers(2, 6))
def test_stratified_kfold_partitions_and_stratifies(seed, n, n_classes, k):
    y = random_classes(seed, n, n_classes)
    splits = stratified_kfold(y, k=k, seed=seed)
    assert len(splits) == k
    tests = [test for _, test in splits]
    np.testing.assert_array_equal(np.sort(np.concatenate(tests)), np.arange(n))
    sizes = np.array([len(t) for t in tests])
    assert sizes.max() - sizes.min() <= 1
    for train, test in splits:
        np.testing.assert_array_equal(np.sort(np.r_[train, test]), np.arange(n))
        assert np.intersect1d(train, test).size == 0
    for c in np.unique(y):
        per_fold = np.array([(y[t] == c).sum() for t in tests])
        assert per_fold.max() - per_fold.min() <= 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(10, 120), st.integers(1, 4), st.integers(2, 6))
def test_stratified_kfold_matches_sklearn(seed, n, n_classes, k):
    y = random_classes(seed, n, n_classes)
    counts = np.unique(y, return_counts=True)[1]
    assume(counts.min() >= k)  # sklearn warns (or raises) below k per class; that case is covered above
    theirs = list(StratifiedKFold(n_splits=k).split(np.zeros(n), y))
    for (a_train, a_test), (b_train, b_test) in zip(stratified_kfold(y, k, shuffle=False), theirs):
        np.testing.assert_array_equal(a_test, b_test)
        np.testing.assert_array_equal(a_train, b_train)
    shuffled = stratified_kfold(y, k, shuffle=True, seed=seed)
    theirs = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed % 2**32).split(np.zeros(n), y))
    for (_, a_test), (_, b_test) in zip(shuffled, theirs):  # same class counts in fold j, other samples
        np.testing.assert_array_equal(np.unique(y[a_test], return_counts=True)[1],
                                      np.unique(y[b_test], return_counts=True)[1])


def test_stratified_kfold_is_seeded():
    y = np.repeat([0, 1, 2], 20)
    first, again, other = (stratified_kfold(y, 5, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(first, other))


def test_stratified_kfold_bad_k_and_labels():
    with pytest.raises(ValueError, match=r"k must satisfy 2 <= k <= n_samples = 6; got k=1"):
        stratified_kfold([0, 1] * 3, k=1)
    with pytest.raises(ValueError, match=r"k must satisfy 2 <= k <= n_samples = 6; got k=7"):
        stratified_kfold([0, 1] * 3, k=7)
    with pytest.raises(TypeError, match=r"k must be an int with 2 <= k <= n_samples; got float 2.5"):
        stratified_kfold([0, 1] * 3, k=2.5)
    with pytest.raises(ValueError, match="y must hold class labels .* such as 0.5"):
        stratified_kfold([0.5, 1.0, 0.0], k=2)
    with pytest.raises(TypeError, match="shuffle must be a bool; got int 1"):
        stratified_kfold([0, 1] * 3, k=2, shuffle=1)


def test_cross_val_score_equals_sklearn_on_the_same_folds():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    y = (X[:, 0] + 0.8 * rng.normal(size=90) > 0).astype(int)
    splits = stratified_kfold(y, k=3, seed=1)

    def factory():
        return LogisticRegression()

    ours = cross_val_score(factory, X, y, k=3, seed=1)
    theirs = sk_cross_val_score(LogisticRegression(), X, y, cv=splits, scoring="accuracy")
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
    auc = cross_val_score(factory, X, y, k=3, seed=1, scoring=roc_auc, method="predict_proba")
    theirs = sk_cross_val_score(LogisticRegression(), X, y, cv=splits, scoring="roc_auc")
    np.testing.assert_allclose(auc, theirs, atol=1e-12)
    assert np.all((0.5 < auc) & (auc <= 1))


def test_fold_spread_and_cross_val_score_bad_input():
    spread = fold_spread([0.8, 0.9, 1.0])
    assert spread["mean"] == pytest.approx(0.9) and spread["std"] == pytest.approx(0.1)
    assert (spread["min"], spread["max"]) == (0.8, 1.0)
    with pytest.raises(ValueError, match="fold_spread needs at least 2 scores; got 1"):
        fold_spread([0.8])
    X, y = np.zeros((6, 2)), np.array([0, 1] * 3)
    with pytest.raises(TypeError, match="model_factory must be a callable returning a model; got LogisticRegression"):
        cross_val_score(LogisticRegression(), X, y, k=2)
    with pytest.raises(TypeError, match="must have a fit\\(\\) method; got object"):
        cross_val_score(object, X, y, k=2)

    class FitOnly:
        def fit(self, X, y):
            return self

    with pytest.raises(TypeError, match="must have a predict_proba\\(\\) method; got FitOnly"):
        cross_val_score(FitOnly, X, y, k=2, method="predict_proba")
    with pytest.raises(ValueError, match="X and y must have the same length; got 6 and 5"):
        cross_val_score(LogisticRegression, X, y[:5], k=2)
    with pytest.raises(ValueError,
                       match="method must be 'predict', 'predict_proba' or 'decision_function'; got 'score'"):
        cross_val_score(LogisticRegression, X, y, k=2, method="score")
