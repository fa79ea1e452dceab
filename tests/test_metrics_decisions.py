"""Chapter 19's decision metrics and permutation importance."""

from __future__ import annotations

import numpy as np
import pytest

from companion.metrics.decisions import cost_threshold, expected_cost, predictive_values
from companion.metrics.importance import permutation_importance


def test_cost_threshold_minimises_the_expected_cost_of_each_call():
    t = cost_threshold(1, 9)
    assert t == pytest.approx(0.1)
    for p in (0.05, 0.099, 0.101, 0.5):
        call_positive, call_negative = (1 - p) * 1, p * 9
        assert (p > t) == (call_positive < call_negative)


def test_expected_cost_counts_each_error_at_its_price():
    y = np.array([1, 1, 0, 0, 0])
    prob = np.array([0.9, 0.2, 0.6, 0.1, 0.3])
    # threshold 0.5: one missed case (cost 10) and one false alarm (cost 1), over 5 cases
    assert expected_cost(y, prob, 0.5, 1, 10) == pytest.approx(11 / 5)
    # threshold 0.15: the missed case is caught, at the price of one more false alarm (two in all)
    assert expected_cost(y, prob, 0.15, 1, 10) == pytest.approx(2 / 5)


def test_predictive_values_by_bayes_rule():
    values = predictive_values(0.9, 0.95, 0.01)
    assert values.ppv == pytest.approx(0.9 * 0.01 / (0.9 * 0.01 + 0.05 * 0.99))
    assert values.npv == pytest.approx(0.95 * 0.99 / (0.95 * 0.99 + 0.1 * 0.01))
    assert (
        predictive_values(0.9, 0.95, 0.5).ppv > 0.9 > values.ppv
    )  # rarer disease, less trust in a positive


def test_decision_inputs_are_checked():
    with pytest.raises(ValueError, match="cost_fp must be a positive finite cost; got 0"):
        cost_threshold(0, 1)
    with pytest.raises(TypeError, match="cost_fn must be a number"):
        cost_threshold(1, "9")
    with pytest.raises(ValueError, match="prevalence must lie strictly between 0 and 1; got 1"):
        predictive_values(0.9, 0.9, 1)
    with pytest.raises(ValueError, match=r"sensitivity must lie in \[0, 1\]; got 1.5"):
        predictive_values(1.5, 0.9, 0.1)
    with pytest.raises(ValueError, match="threshold must lie in"):
        expected_cost([0, 1], [0.2, 0.8], 2, 1, 1)
    with pytest.raises(ValueError, match="probabilities in"):
        expected_cost([0, 1], [0.2, 1.8], 0.5, 1, 1)


def test_permutation_importance_finds_the_used_column_and_equals_scikit_learn_on_average():
    from sklearn.inspection import permutation_importance as reference
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = 3 * X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.1, size=400)
    model = LinearRegression().fit(X, y)
    ours = permutation_importance(model.score, X, y, n_repeats=30, rng=1)
    theirs = reference(model, X, y, n_repeats=30, random_state=1)
    assert np.argsort(ours.mean).tolist() == [2, 1, 0]
    assert abs(ours.mean[2]) < 0.01  # an unused column costs nothing
    # different permutations, same expectation: within 4 standard errors of the difference
    standard_error = np.sqrt((ours.std**2 + theirs.importances_std**2) / 30)
    assert np.all(np.abs(ours.mean - theirs.importances_mean) < 4 * standard_error + 1e-12)
    assert ours.drops.shape == (3, 30) and ours.baseline == pytest.approx(model.score(X, y))


def test_permutation_importance_checks_its_input():
    with pytest.raises(TypeError, match="score must be a callable"):
        permutation_importance(1.0, np.zeros((3, 2)), [0, 1, 0])
    with pytest.raises(ValueError, match=r"one entry per row of X \(3\); got 2"):
        permutation_importance(lambda X, y: 0.0, np.zeros((3, 2)), [0, 1])
    with pytest.raises(ValueError, match="n_repeats must be a positive int"):
        permutation_importance(lambda X, y: 0.0, np.zeros((3, 2)), [0, 1, 0], n_repeats=0)
