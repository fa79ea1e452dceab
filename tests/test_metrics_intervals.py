"""companion.metrics.intervals (Wilson, Clopper-Pearson) against scipy and against their definitions."""

from fractions import Fraction
from math import comb, sqrt
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.metrics import accuracy_interval, clopper_pearson_interval, wilson_interval
from companion.metrics.intervals import binomial_tail

counts = st.integers(1, 400).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))
levels = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99])


def exact_tail(k, n, p, upper):
    """P(X >= k) or P(X <= k) for X ~ Binomial(n, p), in exact rational arithmetic."""
    p = Fraction(p)
    terms = range(k, n + 1) if upper else range(0, k + 1)
    return float(sum(comb(n, i) * p**i * (1 - p) ** (n - i) for i in terms))


@settings(max_examples=80, deadline=None)
@given(counts, levels)
def test_wilson_bounds_solve_the_score_equation(kn, level):
    # Eq. (5.20) comes from (a_hat - a)^2 = z^2 a (1 - a) / n: each inner bound is a root.
    k, n = kn
    interval = wilson_interval(k, n, level)
    z, a_hat = NormalDist().inv_cdf(0.5 + level / 2), k / n
    for a in (interval.low, interval.high):
        if 0 < a < 1:
            assert (a_hat - a) ** 2 == pytest.approx(z * z * a * (1 - a) / n, rel=1e-9, abs=1e-15)
    assert 0 <= interval.low <= a_hat <= interval.high <= 1


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), levels)
def test_clopper_pearson_bounds_put_alpha_over_two_in_each_exact_tail(kn, level):
    k, n = kn
    interval = clopper_pearson_interval(k, n, level)
    alpha = 1 - level
    if k > 0:
        assert exact_tail(k, n, interval.low, upper=True) == pytest.approx(alpha / 2, rel=1e-9)
    else:
        assert interval.low == 0.0
    if k < n:
        assert exact_tail(k, n, interval.high, upper=False) == pytest.approx(alpha / 2, rel=1e-9)
    else:
        assert interval.high == 1.0


@settings(max_examples=60, deadline=None)
@given(counts, levels)
def test_intervals_equal_scipy(kn, level):
    scipy_stats = pytest.importorskip("scipy.stats")
    k, n = kn
    result = scipy_stats.binomtest(k, n)
    for ours, method in ((wilson_interval(k, n, level), "wilson"), (clopper_pearson_interval(k, n, level), "exact")):
        theirs = result.proportion_ci(confidence_level=level, method=method)
        assert ours.low == pytest.approx(theirs.low, abs=1e-9)
        assert ours.high == pytest.approx(theirs.high, abs=1e-9)


def test_known_values_and_ordering():
    w, c = wilson_interval(163, 171), clopper_pearson_interval(163, 171)
    assert (round(w.low, 4), round(w.high, 4)) == (0.9104, 0.9761)
    assert (round(c.low, 4), round(c.high, 4)) == (0.9099, 0.9796)
    assert c.low <= w.low and w.high <= c.high          # the exact interval is the wider here
    wald_half = 1.96 * sqrt((163 / 171) * (8 / 171) / 171)
    assert w.high < 163 / 171 + wald_half               # Wilson pulls the interval towards 1/2
    assert wilson_interval(10, 10).high == 1.0 and wilson_interval(10, 10).low < 1.0
    assert str(w) == "0.9532, 95% interval [0.9104, 0.9761]"


def test_binomial_tail_matches_exact_sums():
    for k, n, p in [(0, 5, 0.3), (3, 10, 0.5), (40, 50, 0.9), (7, 7, 0.2)]:
        for upper in (True, False):
            assert binomial_tail(k, n, p, upper) == pytest.approx(exact_tail(k, n, p, upper), rel=1e-12)
    assert binomial_tail(0, 5, 0.0, upper=True) == 1.0 and binomial_tail(1, 5, 0.0, upper=True) == 0.0


def test_coverage_is_close_to_nominal():
    # Over many simulated test sets the true accuracy lies inside the interval about 95% of the time;
    # Clopper-Pearson guarantees at least 95%.
    rng = np.random.default_rng(0)
    a, n = 0.93, 171
    k = rng.binomial(n, a, size=2000)
    inside = {name: np.mean([make(int(x), n).low <= a <= make(int(x), n).high for x in k])
              for name, make in (("wilson", wilson_interval), ("cp", clopper_pearson_interval))}
    assert 0.92 < inside["wilson"] < 0.98
    assert inside["cp"] >= 0.94


def test_accuracy_interval_counts_the_correct_predictions():
    y = np.array([0, 1, 1, 0, 1, 1, 0, 0, 1, 1])
    pred = y.copy()
    pred[:3] = 1 - pred[:3]
    assert accuracy_interval(y, pred) == wilson_interval(7, 10)
    assert accuracy_interval(y, pred, 0.9, "clopper-pearson") == clopper_pearson_interval(7, 10, 0.9)


def test_intervals_reject_bad_input():
    with pytest.raises(ValueError, match=r"\[0, n\]"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="positive"):
        clopper_pearson_interval(0, 0)
    with pytest.raises(TypeError, match="int"):
        wilson_interval(3.5, 10)
    with pytest.raises(ValueError, match="between 0 and 1"):
        wilson_interval(3, 10, confidence=95)
    with pytest.raises(TypeError, match="confidence"):
        wilson_interval(3, 10, confidence="95%")
    with pytest.raises(ValueError, match="method"):
        accuracy_interval([0, 1], [0, 1], method="wald")
    with pytest.raises(ValueError, match="same length"):
        accuracy_interval([0, 1, 1], [0, 1])
