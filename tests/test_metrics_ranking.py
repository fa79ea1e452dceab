"""companion.metrics.ranking against scikit-learn: ROC, AUC, PR curve, average precision."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.metrics import (
    average_precision,
    midranks,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    threshold_counts,
    trapezoid_area,
)


def random_binary_case(seed, n, tie_levels):
    """Labels with both classes and scores; tie_levels > 0 rounds scores onto a grid, creating ties."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    y[rng.choice(n, 2, replace=False)] = [0, 1]  # both classes present
    scores = rng.normal(size=n) + 0.8 * y
    if tie_levels:
        scores = np.round(scores * tie_levels) / tie_levels
    return y, scores


cases = given(st.integers(0, 2**31), st.integers(2, 80), st.sampled_from([0, 1, 2, 4]))


@settings(max_examples=80, deadline=None)
@cases
def test_roc_curve_equals_sklearn_with_and_without_intermediate_points(seed, n, tie_levels):
    y, s = random_binary_case(seed, n, tie_levels)
    for drop in (True, False):
        ours, theirs = roc_curve(y, s, drop_intermediate=drop), skm.roc_curve(y, s, drop_intermediate=drop)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)


@settings(max_examples=80, deadline=None)
@cases
def test_the_three_auc_forms_agree_with_each_other_and_with_sklearn(seed, n, tie_levels):
    y, s = random_binary_case(seed, n, tie_levels)
    expected = skm.roc_auc_score(y, s)
    for method in ("trapezoid", "rank", "pairs"):
        assert roc_auc(y, s, method=method) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=80, deadline=None)
@cases
def test_precision_recall_curve_and_average_precision_equal_sklearn(seed, n, tie_levels):
    y, s = random_binary_case(seed, n, tie_levels)
    for a, b in zip(precision_recall_curve(y, s), skm.precision_recall_curve(y, s)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-15)
    assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), abs=1e-12)


def test_string_labels_and_pos_label():
    y = np.array(["ham", "spam", "spam", "ham", "spam"])
    s = np.array([0.1, 0.9, 0.4, 0.35, 0.8])
    assert roc_auc(y, s, pos_label="spam") == pytest.approx(skm.roc_auc_score(y == "spam", s))
    # reversing the positive class mirrors the AUC
    assert roc_auc(y, s, pos_label="ham") == pytest.approx(1 - roc_auc(y, s, pos_label="spam"))


def test_ties_count_one_half_and_auc_depends_only_on_the_order():
    # one positive and one negative with the same score: a coin flip
    assert roc_auc([0, 1], [0.3, 0.3]) == 0.5
    assert roc_auc([0, 1], [0.3, 0.3], method="rank") == 0.5
    y = [0, 0, 1, 1, 0, 1]
    s = np.array([0.2, 0.5, 0.5, 0.9, 0.1, 0.7])
    # pairs: positives 0.5, 0.9, 0.7 against negatives 0.2, 0.5, 0.1: 8 wins and 1 tie of 9
    assert roc_auc(y, s) == pytest.approx(8.5 / 9)
    logits = np.log(s / (1 - s))
    assert roc_auc(y, logits) == pytest.approx(roc_auc(y, s))


def test_perfect_and_reversed_rankings():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert average_precision([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0


def test_threshold_counts_and_helpers():
    fps, tps, thr = threshold_counts([1, 0, 1, 0], [0.9, 0.5, 0.5, 0.1])
    np.testing.assert_array_equal(thr, [0.9, 0.5, 0.1])
    np.testing.assert_array_equal(tps, [1, 2, 2])
    np.testing.assert_array_equal(fps, [0, 1, 2])
    np.testing.assert_array_equal(midranks([10, 30, 20, 30]), [1, 3.5, 2, 3.5])
    assert trapezoid_area([0, 0.5, 1], [0, 1, 1]) == pytest.approx(0.75)
    with pytest.raises(ValueError, match="x must be non-decreasing"):
        trapezoid_area([0, 1, 0.5], [0, 1, 1])


def test_a_single_class_is_a_clear_error():
    with pytest.raises(ValueError, match=r"roc_auc needs both classes in y_true; "
                                         r"got no negative sample \(3 positive, 0 negative\)"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"roc_auc needs both classes in y_true; got no positive sample"):
        roc_auc([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"roc_curve needs both classes in y_true; got no positive sample"):
        roc_curve([0, 0], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"needs at least one positive sample in y_true; got 0 of 2"):
        average_precision([0, 0], [0.1, 0.2])


def test_bad_scores_and_labels_are_rejected():
    with pytest.raises(ValueError, match=r"y_score must be finite; got 1 NaN or inf value\(s\)"):
        roc_auc([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match=r"y_true and y_score must have the same length; got 3 and 2"):
        roc_auc([0, 1, 1], [0.1, 0.3])
    with pytest.raises(ValueError, match=r"y_score must have 1 dimension\(s\); got shape \(3, 2\)"):
        roc_auc([0, 1, 1], np.ones((3, 2)))
    with pytest.raises(TypeError, match="y_score must be a numeric array; got dtype <U1"):
        roc_auc([0, 1], ["a", "b"])
    with pytest.raises(ValueError, match=r"must hold two classes for a binary metric; got 3 classes \[0, 1, 2\]"):
        roc_auc([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"pos_label=1 is not one of the classes in y_true, \[0, 2\]"):
        roc_auc([0, 2, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"method must be one of .*; got 'simpson'"):
        roc_auc([0, 1], [0.1, 0.2], method="simpson")
