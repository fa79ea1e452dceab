"""companion.metrics.scoring (Brier score, log-loss) against scikit-learn and their definitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, log_loss as sk_log_loss

from companion.metrics import brier_score, expected_calibration_error, log_loss


def binary_case(seed, n, extreme):
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    if extreme:  # probabilities of exactly 0 and 1, where the log-loss needs its clip
        p[: n // 3] = np.round(p[: n // 3])
    y = (rng.random(n) < p).astype(int)
    y[:2] = [0, 1]  # both classes present, as scikit-learn requires
    return y, p


def multiclass_case(seed, n, k):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, k))
    P = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])  # every class present
    return y, P


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 200), st.booleans())
def test_binary_scores_equal_sklearn(seed, n, extreme):
    y, p = binary_case(seed, n, extreme)
    assert brier_score(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12, abs=1e-15)
    assert log_loss(y, p) == pytest.approx(sk_log_loss(y, p), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(2, 8), st.integers(0, 100))
def test_multiclass_scores_equal_sklearn(seed, k, extra):
    y, P = multiclass_case(seed, k + extra, k)
    assert brier_score(y, P) == pytest.approx(brier_score_loss(y, P, labels=np.arange(k)), rel=1e-12)
    assert log_loss(y, P) == pytest.approx(sk_log_loss(y, P, labels=np.arange(k)), rel=1e-12)


def test_scores_by_hand():
    y, p = np.array([0, 1, 1, 0]), np.array([0.1, 0.9, 0.8, 0.3])
    assert brier_score(y, p) == pytest.approx((0.01 + 0.01 + 0.04 + 0.09) / 4)
    assert log_loss(y, p) == pytest.approx(-np.mean(np.log([0.9, 0.9, 0.8, 0.7])))
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    assert brier_score([0, 2], P) == pytest.approx(((0.09 + 0.04 + 0.01) + (0.01 + 0.01 + 0.04)) / 2)
    assert log_loss([0, 2], P) == pytest.approx(-np.mean(np.log([0.7, 0.8])))


def test_two_columns_equal_the_binary_scores():
    y, p = binary_case(3, 50, False)
    P = np.column_stack([1 - p, p])
    assert brier_score(y, P) == pytest.approx(brier_score(y, p), rel=1e-12)
    assert log_loss(y, P) == pytest.approx(log_loss(y, p), rel=1e-12)


def test_a_certain_mistake_costs_minus_log_eps():
    assert log_loss([1, 0], [0.0, 0.0]) == pytest.approx(-np.log(np.finfo(float).eps) / 2)


def test_proper_expected_score_is_lowest_at_the_true_probability():
    # Eqs. (5.15) and (5.17): for outcomes drawn with probability q, predicting q scores best.
    q, grid = 0.3, np.linspace(0.01, 0.99, 99)
    expected_brier = [q * (1 - p) ** 2 + (1 - q) * p**2 for p in grid]
    expected_log = [-(q * np.log(p) + (1 - q) * np.log(1 - p)) for p in grid]
    assert grid[np.argmin(expected_brier)] == pytest.approx(q)
    assert grid[np.argmin(expected_log)] == pytest.approx(q)
    # the same on data: y ~ Bernoulli(0.3), each constant prediction scored by the functions
    y = (np.random.default_rng(0).random(20000) < q).astype(int)
    rate = y.mean()
    scores = {c: (brier_score(y, np.full(len(y), c)), log_loss(y, np.full(len(y), c))) for c in (0.2, rate, 0.4)}
    assert scores[rate][0] < min(scores[0.2][0], scores[0.4][0])
    assert scores[rate][1] < min(scores[0.2][1], scores[0.4][1])


def test_a_constant_base_rate_prediction_games_the_ece_but_not_the_brier_score():
    y, p = binary_case(7, 400, False)
    constant = np.full(len(y), y.mean())
    assert expected_calibration_error(y, constant) < 1e-12 < expected_calibration_error(y, p)
    assert brier_score(y, constant) > brier_score(y, p)


def test_scores_reject_bad_input():
    with pytest.raises(ValueError, match="same length"):
        brier_score([0, 1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        log_loss([0, 1], [0.2, 1.3])
    with pytest.raises(ValueError, match="non-integer"):
        brier_score([0.5, 1.0], [0.2, 0.3])
    with pytest.raises(ValueError, match="two classes"):
        log_loss([0, 1, 2], [0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="sum to 1"):
        brier_score([0, 1], [[0.5, 0.6], [0.3, 0.7]])
    with pytest.raises(ValueError, match="class indices"):
        log_loss([0, 3], [[0.5, 0.5], [0.3, 0.7]])
    with pytest.raises(ValueError, match="at least 2 columns"):
        brier_score([0, 0], [[1.0], [1.0]])
    with pytest.raises(ValueError, match="finite"):
        brier_score([0, 1], [0.2, float("nan")])
