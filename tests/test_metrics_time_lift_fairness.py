"""Chapter 20's metrics: walk-forward splits, precision and lift at k, group fairness (against fairlearn)."""

from __future__ import annotations

import numpy as np
import pytest

from companion.metrics.fairness import (
    demographic_parity_difference,
    equalized_odds_difference,
    group_rates,
)
from companion.metrics.lift import cumulative_gains, lift_at_k, precision_at_k
from companion.metrics.walk_forward import walk_forward_predict, walk_forward_splits


def test_walk_forward_trains_only_on_the_past_and_purges_the_gap():
    periods = np.array([2000] * 3 + [2001] * 2 + [2002] * 3)
    splits = list(walk_forward_splits(periods, 2001))
    assert [test.tolist() for _, test in splits] == [[3, 4], [5, 6, 7]]
    assert [train.tolist() for train, _ in splits] == [[0, 1, 2], [0, 1, 2, 3, 4]]
    purged = list(walk_forward_splits(periods, 2001, gap=2))
    assert [train.tolist() for train, _ in purged] == [[0], [0, 1, 2]]
    for train, test in purged:
        assert train.max() < test.min() - 2


def test_walk_forward_predict_refits_per_period():
    from sklearn.linear_model import LinearRegression

    periods = np.repeat(np.arange(5), 20)
    X = np.arange(100.0)[:, None]
    y = np.where(periods < 3, 1.0, 5.0) + 0 * X[:, 0]  # a level shift in period 3
    predictions, mask = walk_forward_predict(LinearRegression, X, y, periods, first_test=3)
    assert mask.sum() == 40 and np.isnan(predictions[~mask]).all()
    np.testing.assert_allclose(
        predictions[periods == 3], 1.0
    )  # period 3 is predicted from the old level
    assert np.all(predictions[periods == 4] > 1.0)  # period 4's model has seen the shift


def test_walk_forward_refuses_bad_input():
    with pytest.raises(ValueError, match=r"time order .* position 2 holds 1 after 2"):
        list(walk_forward_splits([1, 2, 1], 2))
    with pytest.raises(ValueError, match="no period at or after first_test=9"):
        list(walk_forward_splits([1, 2, 3], 9))
    with pytest.raises(ValueError, match="no training example before it"):
        list(walk_forward_splits([1, 2, 3], 1))
    with pytest.raises(ValueError, match="gap must be a non-negative int"):
        list(walk_forward_splits([1, 2, 3], 2, gap=-1))
    with pytest.raises(ValueError, match="method must be one of"):
        walk_forward_predict(None, [[0]], [0], [0], 0, method="score")


def test_precision_lift_and_gains_by_hand():
    y = np.array([0, 1, 0, 1, 0, 0, 0, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.1, 0.7, 0.2, 0.3, 0.0, 0.4, 0.5, 0.6])
    assert precision_at_k(y, score, 3) == pytest.approx(2 / 3)
    assert lift_at_k(y, score, 3) == pytest.approx((2 / 3) / 0.3)
    fraction, reached = cumulative_gains(y, score)
    assert fraction[3] == 0.4 and reached[3] == 1.0  # the top four hold all three buyers
    with pytest.raises(
        ValueError, match=r"k must be at most the number of examples \(10\); got 11"
    ):
        precision_at_k(y, score, 11)
    with pytest.raises(ValueError, match="no positive example"):
        lift_at_k(np.zeros(3), [0.1, 0.2, 0.3], 1)


def test_lift_agrees_with_scikit_learn_top_k_precision():
    from sklearn.metrics import precision_score

    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.1
    score = rng.normal(size=500) + y
    top = np.zeros(500, bool)
    top[np.argsort(-score)[:50]] = True
    assert precision_at_k(y.astype(int), score, 50) == pytest.approx(precision_score(y, top))


def test_fairness_metrics_equal_fairlearn():
    from fairlearn.metrics import demographic_parity_difference as dp
    from fairlearn.metrics import equalized_odds_difference as eo

    rng = np.random.default_rng(1)
    groups = rng.choice(["a", "b", "c"], size=400)
    y = (rng.random(400) < np.where(groups == "a", 0.2, 0.4)).astype(int)
    pred = (rng.random(400) < 0.3 + 0.3 * y).astype(int)
    assert demographic_parity_difference(y, pred, groups) == pytest.approx(
        dp(y, pred, sensitive_features=groups)
    )
    assert equalized_odds_difference(y, pred, groups) == pytest.approx(
        eo(y, pred, sensitive_features=groups)
    )


def test_group_rates_by_hand_and_bad_input():
    rates = group_rates([1, 0, 1, 0, 0], [1, 1, 0, 0, 0], ["x", "x", "y", "y", "y"])
    x, y = rates
    assert (x.group, x.n, x.base_rate, x.selection.estimate, x.tpr.estimate, x.fpr.estimate) == (
        "x",
        2,
        0.5,
        1.0,
        1.0,
        1.0,
    )
    assert (y.n, y.tpr.estimate, y.fpr.estimate) == (3, 0.0, 0.0)
    with pytest.raises(ValueError, match="at least two groups"):
        group_rates([1, 0], [1, 0], ["x", "x"])
    with pytest.raises(ValueError, match=r"one group per example \(2\)"):
        group_rates([1, 0], [1, 0], ["x"])
    with pytest.raises(ValueError, match="positive and negative cases"):
        equalized_odds_difference([1, 1, 0], [1, 0, 0], ["x", "x", "y"])
