"""McNemar's exact test, seed summaries and the sign test (companion.metrics.significance)."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from companion.metrics.significance import mcnemar, seed_summary, sign_test


def test_mcnemar_counts_only_discordant_examples():
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    a = np.array([1, 1, 1, 0, 0, 0, 0, 1])   # right on 6
    b = np.array([1, 0, 0, 1, 0, 0, 1, 1])   # right on 4
    result = mcnemar(y, a, b)
    assert (result.only_a_right, result.only_b_right) == (3, 1)
    assert result.p_value == pytest.approx(2 * (1 + 4) / 16)  # P(X <= 1) doubled, X ~ Bin(4, 1/2)


def test_mcnemar_equals_scipy_binomtest():
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 2, 200)
        a = np.where(rng.random(200) < 0.8, y, 1 - y)
        b = np.where(rng.random(200) < 0.75, y, 1 - y)
        r = mcnemar(y, a, b)
        expected = scipy_stats.binomtest(r.only_a_right, r.only_a_right + r.only_b_right, 0.5).pvalue
        assert r.p_value == pytest.approx(expected, rel=1e-12)


def test_mcnemar_identical_classifiers_give_p_one():
    y = np.array([0, 1, 1, 0])
    assert mcnemar(y, y, y).p_value == 1.0


def test_mcnemar_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        mcnemar([0, 1, 1], [0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="non-integer"):
        mcnemar([0, 1], [0.5, 1], [0, 1])


def test_seed_summary_mean_and_sample_std():
    s = seed_summary([0.70, 0.72, 0.74])
    assert s.mean == pytest.approx(0.72)
    assert s.std == pytest.approx(0.02)
    assert "0.720 ± 0.020" in str(s)
    assert seed_summary([0.5]).std == 0.0


def test_seed_summary_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        seed_summary([])
    with pytest.raises(ValueError, match="finite"):
        seed_summary([0.1, float("nan")])
    with pytest.raises(ValueError, match="dimension"):
        seed_summary([[0.1, 0.2]])


def test_sign_test_five_of_five_is_not_significant_at_five_percent():
    r = sign_test([2, 3, 4, 5, 6], [1, 1, 1, 1, 1])
    assert (r.a_larger, r.b_larger, r.ties) == (5, 0, 0)
    assert r.p_value == pytest.approx(2 / 32)


def test_sign_test_drops_ties():
    r = sign_test([1, 2, 3], [1, 1, 4])
    assert (r.a_larger, r.b_larger, r.ties) == (1, 1, 1)
    assert r.p_value == 1.0


@given(st.lists(st.integers(-3, 3), min_size=1, max_size=12))
def test_sign_test_is_symmetric(diffs):
    a = np.array(diffs, dtype=float)
    b = np.zeros_like(a)
    assert sign_test(a, b).p_value == pytest.approx(sign_test(b, a).p_value)
    assert 0 < sign_test(a, b).p_value <= 1


def test_sign_test_rejects_unpaired():
    with pytest.raises(ValueError, match="paired"):
        sign_test([1, 2], [1])
