"""Chapter 3 layers: forward and backward passes of Dense and the activation layers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.nn import Dense, ReLU, Sigmoid, Tanh, dense_forward, gradient_check
from companion.checks import check_dtype
from companion.nn.layers import Activation, Layer

ACTIVATION_LAYERS = [Sigmoid, Tanh, ReLU]


def projected_loss(layer, X, R):
    """J = sum(R * layer(X)): its gradient with respect to the layer output is R."""
    return lambda: float(np.sum(R * layer.forward(X)))


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2**31))
def test_dense_backward_matches_eqs_3_2_to_3_4_and_finite_differences(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense.from_params(rng.normal(size=(d_in, d_out)), rng.normal(size=d_out))
    X, R = rng.normal(size=(n, d_in)), rng.normal(size=(n, d_out))
    np.testing.assert_allclose(layer.forward(X), dense_forward(X, layer.W, layer.b))
    dX = layer.backward(R)
    np.testing.assert_allclose(layer.dW, X.T @ R)
    np.testing.assert_allclose(layer.db, R.sum(axis=0))
    np.testing.assert_allclose(dX, R @ layer.W.T)
    # The batch gradient is the sum of per-example outer products a_i delta_i^T.
    np.testing.assert_allclose(layer.dW, sum(np.outer(X[i], R[i]) for i in range(n)))
    errors = gradient_check(projected_loss(layer, X, R), [layer.W, layer.b, X], [layer.dW, layer.db, dX])
    assert max(errors.values()) < 1e-7


@pytest.mark.parametrize("cls", ACTIVATION_LAYERS)
def test_activation_backward_matches_finite_differences(cls):
    rng = np.random.default_rng(3)
    layer = cls()
    X = rng.normal(scale=2.0, size=(7, 5))
    X[np.abs(X) < 1e-3] = 0.5  # keep ReLU away from its kink
    R = rng.normal(size=(7, 5))
    layer.forward(X)
    dX = layer.backward(R)
    errors = gradient_check(projected_loss(layer, X, R), [X], [dX])
    assert errors["0"] < 1e-8
    assert layer.params() == [] and layer.grads() == []


def test_relu_backward_zeroes_the_gradient_where_the_input_was_negative():
    layer = ReLU()
    layer.forward(np.array([[-2.0, 3.0, -0.5, 1.0]]))
    np.testing.assert_array_equal(layer.backward(np.array([[5.0, 6.0, 7.0, 8.0]])), [[0.0, 6.0, 0.0, 8.0]])


def test_params_are_the_layer_arrays_so_in_place_updates_stick():
    layer = Dense(3, 2, "xavier_normal", rng=0)
    W_before = layer.W.copy()
    layer.forward(np.ones((4, 3)))
    layer.backward(np.ones((4, 2)))
    for param, grad in zip(layer.params(), layer.grads()):
        param -= 0.1 * grad
    np.testing.assert_allclose(layer.W, W_before - 0.1 * 4.0)
    np.testing.assert_allclose(layer.b, -0.1 * 4.0)


def test_dense_initialisation_is_reproducible_and_biases_start_at_zero():
    a, b = Dense(50, 40, "he_normal", rng=7), Dense(50, 40, "he_normal", rng=np.random.default_rng(7))
    np.testing.assert_array_equal(a.W, b.W)
    assert np.all(a.b == 0)
    assert a.W.std() == pytest.approx(np.sqrt(2 / 50), rel=0.1)


def test_float32_layers_compute_in_float32():
    layer = Dense(4, 3, rng=0, dtype=np.float32)
    out = layer.forward(np.ones((2, 4), dtype=np.float32))
    assert out.dtype == np.float32
    assert layer.backward(np.ones((2, 3), dtype=np.float32)).dtype == np.float32
    assert layer.dW.dtype == np.float32
    assert Tanh().forward(out).dtype == np.float32


def test_backward_before_forward_is_an_error():
    with pytest.raises(RuntimeError, match="Dense.backward was called before forward"):
        Dense(2, 2, rng=0).backward(np.ones((1, 2)))
    with pytest.raises(RuntimeError, match="ReLU.backward was called before forward"):
        ReLU().backward(np.ones((1, 2)))


def test_bad_inputs_raise_clear_errors():
    layer = Dense(3, 2, rng=0)
    with pytest.raises(ValueError, match=r"X must have 3 columns; got shape \(4, 5\)"):
        layer.forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"X must have 2 dimension\(s\); got shape \(3,\)"):
        layer.forward(np.ones(3))
    with pytest.raises(TypeError, match="X has dtype float32 but the layer's parameters are float64"):
        layer.forward(np.ones((4, 3), dtype=np.float32))
    bad = np.ones((4, 3))
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"X must be finite; got 1 NaN or inf"):
        layer.forward(bad)
    with pytest.raises(TypeError, match="X must be a numeric array"):
        layer.forward(np.array([["a", "b", "c"]]))
    layer.forward(np.ones((4, 3)))
    expected = r"grad_out must have the shape of the layer's last output \(4, 2\); got \(4, 3\)"
    with pytest.raises(ValueError, match=expected):
        layer.backward(np.ones((4, 3)))
    with pytest.raises(ValueError, match="grad_out must be finite"):
        layer.backward(np.full((4, 2), np.nan))
    with pytest.raises(TypeError, match="grad_out has dtype float32"):
        layer.backward(np.ones((4, 2), dtype=np.float32))


def test_bad_construction_raises_clear_errors():
    with pytest.raises(TypeError, match="required keyword-only argument: 'rng'"):
        Dense(2, 2)
    with pytest.raises(ValueError, match="d_in must be a positive int; got 0"):
        Dense(0, 2, rng=0)
    with pytest.raises(ValueError, match="scheme must be one of"):
        Dense(2, 2, "lecun", rng=0)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or an int seed; got str"):
        Dense(2, 2, rng="zero")
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got float16"):
        Dense(2, 2, rng=0, dtype=np.float16)
    with pytest.raises(TypeError, match="dtype must be float32 or float64; got int64"):
        check_dtype(np.int64)
    with pytest.raises(ValueError, match=r"b must have shape \(3,\) to match W \(2, 3\); got \(2,\)"):
        Dense.from_params(np.ones((2, 3)), np.ones(2))
    with pytest.raises(TypeError, match="W and b must share a dtype"):
        Dense.from_params(np.ones((2, 3)), np.ones(3, dtype=np.float32))
    with pytest.raises(ValueError, match="activation layer must be one of"):
        Activation("softmax")
    with pytest.raises(NotImplementedError):
        Layer().forward(np.ones((1, 1)))


def test_from_params_copies_its_arrays():
    W, b = np.ones((2, 3)), np.zeros(3)
    layer = Dense.from_params(W, b)
    layer.W += 1.0
    assert W[0, 0] == 1.0
