"""Chapter 2 losses: values and gradients against PyTorch, finite differences, stability, bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.losses import (
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    log_softmax,
    logsumexp,
    mse,
    mse_grad,
    one_hot,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)

SEEDS = st.integers(0, 2**31)


def torch_value_and_grad(loss_fn, x, *rest):
    """Value of a torch loss and its gradient with respect to its first argument, in float64."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    loss = loss_fn(t, *rest)
    loss.backward()
    return loss.item(), t.grad.numpy()


def numeric_grad(f, x, h=1e-6):
    """Central finite differences of a scalar function f at x, one coordinate at a time."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


# ---------------------------------------------------------------- log-sum-exp


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 7), st.integers(0, 1), SEEDS)
def test_logsumexp_matches_torch_and_naive_form(n, k, axis, seed):
    z = np.random.default_rng(seed).normal(scale=3.0, size=(n, k))
    expected = torch.logsumexp(torch.tensor(z), dim=axis).numpy()
    np.testing.assert_allclose(logsumexp(z, axis=axis), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(logsumexp(z, axis=axis), np.log(np.sum(np.exp(z), axis=axis)), rtol=1e-12)
    assert logsumexp(z, axis=axis, keepdims=True).shape == ((1, k) if axis == 0 else (n, 1))
    assert logsumexp(z, axis=axis).shape == ((k,) if axis == 0 else (n,))


def test_logsumexp_is_stable_where_the_naive_form_overflows():
    z = np.array([1000.0, 1000.0, -1000.0])
    with np.errstate(over="ignore"):
        assert np.isinf(np.log(np.sum(np.exp(z))))  # the naive form really fails
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert logsumexp(z) == pytest.approx(1000.0 + np.log(2.0), abs=1e-12)
        assert logsumexp(-z) == pytest.approx(1000.0 + np.log(1.0), abs=1e-12)
        assert logsumexp(np.array([-1000.0, -1000.0])) == pytest.approx(-1000.0 + np.log(2.0), abs=1e-12)


def test_logsumexp_float32_stays_float32_and_finite():
    z = np.array([[100.0, 90.0]], dtype=np.float32)  # exp(100) overflows float32
    out = logsumexp(z)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [100.0 + np.log1p(np.exp(-10.0))], rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.integers(1, 7), SEEDS)
def test_log_softmax_matches_torch_and_normalises(n, k, seed):
    z = np.random.default_rng(seed).normal(scale=5.0, size=(n, k))
    out = log_softmax(z)
    np.testing.assert_allclose(out, F.log_softmax(torch.tensor(z), dim=-1).numpy(), atol=1e-12)
    np.testing.assert_allclose(np.exp(out).sum(axis=-1), 1.0, atol=1e-12)


def test_log_softmax_is_finite_where_softmax_underflows():
    out = log_softmax(np.array([[0.0, -2000.0]]))
    np.testing.assert_allclose(out, [[0.0, -2000.0]], atol=1e-12)


def test_logsumexp_and_log_softmax_reject_bad_input():
    with pytest.raises(ValueError, match="at least one axis"):
        logsumexp(3.0)
    with pytest.raises(ValueError, match="at least one axis"):
        log_softmax(3.0)
    with pytest.raises(ValueError, match=r"axis must be in \[-2, 2\).*got 2"):
        logsumexp(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="axis must be an int; got float"):
        logsumexp(np.ones((2, 3)), axis=1.0)
    with pytest.raises(ValueError, match="non-empty axis"):
        logsumexp(np.ones((2, 0)))
    with pytest.raises(ValueError, match="z must be finite; got 1 NaN or inf"):
        logsumexp(np.array([1.0, np.inf]))
    with pytest.raises(TypeError, match="z must be a numeric array"):
        logsumexp(np.array(["a", "b"]))


# ---------------------------------------------------------------- one-hot


def test_one_hot_values_and_shape():
    out = one_hot(np.array([2, 0, 1]), 3)
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    assert out.dtype == np.float64
    assert one_hot(np.array([[1], [0]]), 2).shape == (2, 1, 2)
    np.testing.assert_array_equal(one_hot(np.array([3, 1]), 4), F.one_hot(torch.tensor([3, 1]), 4).numpy())


def test_one_hot_rejects_bad_input():
    with pytest.raises(ValueError,
                       match=r"labels must lie in \[0, 3\) for 3 class\(es\); got 1 value\(s\) outside it, e.g. 3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match="e.g. -1"):
        one_hot(np.array([-1, 0]), 3)
    with pytest.raises(TypeError, match="labels must be integer class indices; got dtype float64"):
        one_hot(np.array([0.0, 1.0]), 3)
    with pytest.raises(TypeError, match="got dtype bool"):
        one_hot(np.array([True, False]), 2)
    with pytest.raises(ValueError, match="num_classes must be a positive int; got 0"):
        one_hot(np.array([0]), 0)
    with pytest.raises(TypeError, match="num_classes must be a positive int; got float"):
        one_hot(np.array([0]), 2.0)


# ---------------------------------------------------------------- MSE


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), SEEDS)
def test_mse_value_and_gradient_match_torch(shape, seed):
    rng = np.random.default_rng(seed)
    pred, target = rng.normal(size=shape), rng.normal(size=shape)
    value, grad = torch_value_and_grad(F.mse_loss, pred, torch.tensor(target))
    assert mse(pred, target) == pytest.approx(value, rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(mse_grad(pred, target), grad, rtol=1e-12, atol=1e-15)


def test_mse_gradient_matches_finite_differences():
    rng = np.random.default_rng(1)
    pred, target = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(mse_grad(pred, target), numeric_grad(lambda p: mse(p, target), pred), atol=1e-8)


def test_mse_known_value_and_int_input():
    assert mse([1, 2, 3], [1, 2, 5]) == pytest.approx(4.0 / 3.0)
    np.testing.assert_allclose(mse_grad([1, 2, 3], [1, 2, 5]), [0.0, 0.0, -4.0 / 3.0])


def test_mse_rejects_bad_input():
    with pytest.raises(ValueError, match=r"pred and target must have the same shape; got \(3,\) and \(3, 1\)"):
        mse(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match="same shape"):
        mse_grad(np.ones(3), np.ones((3, 1)))
    with pytest.raises(ValueError, match="at least one element"):
        mse(np.ones(0), np.ones(0))
    with pytest.raises(ValueError, match="target must be finite"):
        mse(np.ones(2), np.array([1.0, np.nan]))
    with pytest.raises(TypeError, match="pred must be a numeric array"):
        mse(np.array(["x"]), np.ones(1))


# ---------------------------------------------------------------- softmax cross-entropy


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 6), SEEDS)
def test_softmax_cross_entropy_value_and_gradient_match_torch(n, k, seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(scale=4.0, size=(n, k)), rng.integers(0, k, size=n)
    value, grad = torch_value_and_grad(F.cross_entropy, logits, torch.tensor(labels))
    assert softmax_cross_entropy(logits, labels) == pytest.approx(value, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(softmax_cross_entropy_grad(logits, labels), grad, rtol=1e-10, atol=1e-14)


def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot_and_matches_finite_differences():
    rng = np.random.default_rng(2)
    logits, labels = rng.normal(size=(4, 5)), np.array([0, 4, 2, 2])
    grad = softmax_cross_entropy_grad(logits, labels)
    numeric = numeric_grad(lambda z: softmax_cross_entropy(z, labels), logits)
    np.testing.assert_allclose(grad, numeric, atol=1e-8)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad * 4, p - np.eye(5)[labels], atol=1e-12)
    np.testing.assert_allclose(grad.sum(axis=1), 0.0, atol=1e-15)  # each row sums to zero


def test_softmax_cross_entropy_known_value():
    # uniform logits over k classes: loss log k, whatever the label
    assert softmax_cross_entropy(np.zeros((3, 4)), np.array([0, 1, 3])) == pytest.approx(np.log(4.0))


def test_softmax_cross_entropy_is_stable_at_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, 0.0]])
    labels = np.array([1, 0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = softmax_cross_entropy(logits, labels)
        grad = softmax_cross_entropy_grad(logits, labels)
    expected, expected_grad = torch_value_and_grad(F.cross_entropy, logits, torch.tensor(labels))
    assert value == pytest.approx((1000.0 + np.log(2.0)) / 2.0, rel=1e-12)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-15)
    assert np.all(np.isfinite(grad))


def test_softmax_cross_entropy_float32():
    logits = np.array([[1000.0, 0.0]], dtype=np.float32)
    assert softmax_cross_entropy(logits, np.array([1])) == pytest.approx(1000.0, rel=1e-6)
    assert softmax_cross_entropy_grad(logits, np.array([1])).dtype == np.float32


@pytest.mark.parametrize("fn", [softmax_cross_entropy, softmax_cross_entropy_grad])
def test_softmax_cross_entropy_rejects_bad_input(fn):
    logits = np.zeros((3, 4))
    with pytest.raises(ValueError,
                       match=r"labels must have shape \(3,\), one class index per row of logits; got \(2,\)"):
        fn(logits, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\).*got \(3, 1\)"):
        fn(logits, np.array([[0], [1], [2]]))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\).*e.g. 4"):
        fn(logits, np.array([0, 4, 1]))
    with pytest.raises(TypeError, match="labels must be integer class indices; got dtype float64"):
        fn(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"logits must have 2 dimension\(s\); got shape \(4,\)"):
        fn(np.zeros(4), np.array([0]))
    with pytest.raises(ValueError, match=r"n >= 1 and k >= 1; got \(0, 4\)"):
        fn(np.zeros((0, 4)), np.zeros(0, dtype=int))
    bad = logits.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="logits must be finite"):
        fn(bad, np.array([0, 1, 2]))


# ---------------------------------------------------------------- binary cross-entropy


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.booleans(), SEEDS)
def test_bce_with_logits_value_and_gradient_match_torch(shape, soft, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=5.0, size=shape)
    targets = rng.uniform(size=shape) if soft else rng.integers(0, 2, size=shape).astype(float)
    value, grad = torch_value_and_grad(F.binary_cross_entropy_with_logits, logits, torch.tensor(targets))
    assert binary_cross_entropy_with_logits(logits, targets) == pytest.approx(value, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(binary_cross_entropy_with_logits_grad(logits, targets), grad, rtol=1e-10, atol=1e-15)


def test_bce_with_logits_equals_the_probability_form_and_finite_differences():
    rng = np.random.default_rng(3)
    z, y = rng.normal(size=(5, 2)), rng.integers(0, 2, size=(5, 2)).astype(float)
    p = 1.0 / (1.0 + np.exp(-z))
    naive = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(naive, rel=1e-12)
    numeric = numeric_grad(lambda t: binary_cross_entropy_with_logits(t, y), z)
    np.testing.assert_allclose(binary_cross_entropy_with_logits_grad(z, y), numeric, atol=1e-8)


def test_bce_with_logits_is_stable_at_huge_logits():
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = binary_cross_entropy_with_logits(z, y)
        grad = binary_cross_entropy_with_logits_grad(z, y)
    assert value == pytest.approx(500.0, rel=1e-12)  # two free, two costing 1000 each, mean of 4
    np.testing.assert_allclose(grad, [0.0, 0.0, 0.25, -0.25], atol=1e-15)
    expected, expected_grad = torch_value_and_grad(F.binary_cross_entropy_with_logits, z, torch.tensor(y))
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(grad, expected_grad, atol=1e-15)


def test_bce_with_logits_accepts_bool_targets():
    assert binary_cross_entropy_with_logits(np.zeros(2), np.array([True, False])) == pytest.approx(np.log(2.0))


@pytest.mark.parametrize("fn", [binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad])
def test_bce_with_logits_rejects_bad_input(fn):
    with pytest.raises(ValueError, match=r"logits and targets must have the same shape; got \(4,\) and \(4, 1\)"):
        fn(np.zeros(4), np.zeros((4, 1)))
    with pytest.raises(ValueError,
                       match=r"targets must be probabilities in \[0, 1\]; got 1 value\(s\) outside, e.g. 2.0"):
        fn(np.zeros(3), np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="e.g. -1.0"):
        fn(np.zeros(2), np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="logits must be finite"):
        fn(np.array([np.inf, 0.0]), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="at least one element"):
        fn(np.zeros(0), np.zeros(0))
    with pytest.raises(TypeError, match="targets must be a numeric array"):
        fn(np.zeros(1), np.array(["1"]))
