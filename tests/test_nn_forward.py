"""Chapter 1 building blocks: activations, dense layer, initialisation, MLP forward pass."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.nn import (
    ACTIVATIONS,
    dense_forward,
    init_mlp,
    init_weights,
    mlp_forward,
    sigmoid,
    softmax,
    softmax_jacobian,
)

ELEMENTWISE = [name for name in ACTIVATIONS if name != "softmax"]


def central_difference(f, z, h=1e-6):
    return (f(z + h) - f(z - h)) / (2 * h)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivatives_match_finite_differences(name):
    f, df = ACTIVATIONS[name]
    z = np.linspace(-4, 4, 81)
    z = z[np.abs(z) > 1e-3]  # ReLU has no derivative at 0
    np.testing.assert_allclose(df(z), central_difference(f, z), atol=1e-8)


def test_softmax_jacobian_matches_finite_differences():
    z = np.array([0.3, -1.2, 2.0, 0.0])
    numeric = np.column_stack([central_difference(lambda t: softmax(z + t * e), 0.0) for e in np.eye(4)])
    np.testing.assert_allclose(softmax_jacobian(z), numeric, atol=1e-9)


def test_sigmoid_and_softmax_do_not_overflow():
    with np.errstate(over="raise"):
        assert sigmoid(np.array([-1000.0]))[0] == 0.0
        assert sigmoid(np.array([1000.0]))[0] == 1.0
        np.testing.assert_allclose(softmax(np.array([[1000.0, 1000.0, -1000.0]])), [[0.5, 0.5, 0.0]])


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 6), st.integers(2, 9), st.integers(0, 2**31))
def test_softmax_rows_are_distributions_invariant_to_shifts(n, k, seed):
    z = np.random.default_rng(seed).normal(scale=5.0, size=(n, k))
    s = softmax(z)
    assert np.all(s > 0)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(z + 17.0), s, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**31))
def test_dense_forward_is_the_per_example_formula(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    X, W, b = rng.normal(size=(n, d_in)), rng.normal(size=(d_in, d_out)), rng.normal(size=d_out)
    Z = dense_forward(X, W, b)
    assert Z.shape == (n, d_out)
    for i in range(n):
        for j in range(d_out):
            assert Z[i, j] == pytest.approx(sum(X[i, k] * W[k, j] for k in range(d_in)) + b[j])


def test_dense_forward_rejects_mismatched_shapes_with_both_shapes_in_the_message():
    with pytest.raises(ValueError, match=r"X has 3 features per row but W expects 4.*\(2, 3\).*\(4, 5\)"):
        dense_forward(np.ones((2, 3)), np.ones((4, 5)), np.ones(5))
    with pytest.raises(ValueError, match=r"b must have shape \(5,\).*got \(4,\)"):
        dense_forward(np.ones((2, 4)), np.ones((4, 5)), np.ones(4))
    with pytest.raises(ValueError, match=r"X must have 2 dimension\(s\); got shape \(4,\)"):
        dense_forward(np.ones(4), np.ones((4, 5)), np.ones(5))


def test_non_finite_and_non_numeric_inputs_are_rejected():
    X = np.ones((2, 3))
    X[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite; got 1 NaN or inf"):
        dense_forward(X, np.ones((3, 1)), np.ones(1))
    with pytest.raises(TypeError, match="X must be a numeric array; got dtype <U1"):
        dense_forward(np.array([["a", "b"]]), np.ones((2, 1)), np.ones(1))
    with pytest.raises(ValueError, match="z must be finite"):
        softmax(np.array([1.0, np.inf]))


@pytest.mark.parametrize(
    ("scheme", "variance"),
    [
        ("xavier_uniform", 2 / (300 + 200)),
        ("xavier_normal", 2 / (300 + 200)),
        ("he_normal", 2 / 300),
        ("he_uniform", 2 / 300),
        ("uniform01", 1 / 12),
    ],
)
def test_initialisers_have_the_variance_of_eq_1_11(scheme, variance):
    W = init_weights(300, 200, scheme, np.random.default_rng(0))
    assert W.shape == (300, 200)
    assert W.var() == pytest.approx(variance, rel=0.03)
    assert W.mean() == pytest.approx(0.5 if scheme == "uniform01" else 0.0, abs=0.01)


def test_initialiser_rejects_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        init_weights(3, 3, "lecun", rng)
    with pytest.raises(ValueError, match="d_in must be a positive int; got 0"):
        init_weights(0, 3, "he_normal", rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed; got str"):
        init_weights(3, 3, "he_normal", "42")
    np.testing.assert_array_equal(init_weights(3, 3, "he_normal", 42),  # an int is a seed
                                  init_weights(3, 3, "he_normal", np.random.default_rng(42)))


def test_mlp_forward_composes_layers():
    rng = np.random.default_rng(1)
    params = init_mlp([4, 6, 3], "he_normal", rng)
    X = rng.normal(size=(5, 4))
    out, history = mlp_forward(X, params, ["relu", "softmax"], return_all=True)
    hidden = np.maximum(X @ params[0][0] + params[0][1], 0)
    np.testing.assert_allclose(history[1], hidden)
    np.testing.assert_allclose(out, softmax(hidden @ params[1][0] + params[1][1]))
    assert len(history) == 3
    np.testing.assert_array_equal(history[0], X)


def test_mlp_forward_rejects_inconsistent_networks():
    rng = np.random.default_rng(0)
    params = init_mlp([4, 6, 3], "he_normal", rng)
    with pytest.raises(ValueError, match=r"got 2 layer\(s\) and 1 activation\(s\)"):
        mlp_forward(np.ones((1, 4)), params, ["relu"])
    with pytest.raises(ValueError, match="activation must be one of"):
        mlp_forward(np.ones((1, 4)), params, ["relu", "swish"])
    broken = [params[0], init_mlp([5, 3], "he_normal", rng)[0]]
    with pytest.raises(ValueError, match="layer 1 outputs 6 values but layer 2 expects 5 inputs"):
        mlp_forward(np.ones((1, 4)), broken, ["relu", "softmax"])
    with pytest.raises(ValueError, match="at least one layer"):
        mlp_forward(np.ones((1, 4)), [], [])
