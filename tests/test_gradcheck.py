"""Chapter 3 gradient checks: finite differences in float64, and torch.autograd / tf.GradientTape agreement."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.nn import MLP, check_model_gradients, gradient_check, numerical_gradient, relative_error
from companion.nn.gradcheck import tf_gradients, torch_gradients
from companion.nn.layers import Activation

LOSS_CASES = [
    ("softmax_cross_entropy", lambda rng, n, k: rng.integers(0, k, size=n)),
    ("binary_cross_entropy", lambda rng, n, k: rng.integers(0, 2, size=(n, k)).astype(float)),
    ("mse", lambda rng, n, k: rng.normal(size=(n, k))),
]


def test_numerical_gradient_of_a_known_function_and_the_array_is_restored():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    x = np.array([0.3, -0.7])
    saved = x.copy()
    grad = numerical_gradient(lambda: float(x @ A @ x + np.sin(x[0])), x)
    np.testing.assert_allclose(grad, 2 * A @ x + [np.cos(0.3), 0.0], atol=1e-9)
    np.testing.assert_array_equal(x, saved)  # bit-for-bit restored


def test_relative_error_values():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([0.0, 0.0])) == pytest.approx(1.0)
    assert relative_error(np.array([3.0, 4.0]), np.array([3.0, 4.0 + 1e-6])) == pytest.approx(1e-7, rel=1e-3)


@settings(max_examples=8, deadline=None)
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.sampled_from(["relu", "tanh", "sigmoid"]),
    st.sampled_from(range(len(LOSS_CASES))),
    st.integers(0, 2**31),
)
def test_every_parameter_passes_the_finite_difference_check(hidden, activation, case, seed):
    rng = np.random.default_rng(seed)
    loss, make_targets = LOSS_CASES[case]
    k = 3
    model = MLP([4, *hidden, k], activation, rng=rng)
    for layer in model.dense_layers:
        layer.b[:] = rng.normal(scale=0.5, size=layer.b.shape)
    X = rng.normal(size=(5, 4))
    errors = check_model_gradients(model, X, make_targets(rng, 5, k), loss=loss)
    assert list(errors) == model.param_names()
    # Typical errors are 1e-10 to 1e-8. The bound is 1e-5 because a parameter whose gradient is
    # tiny (all its units nearly saturated) has a large *relative* error from rounding alone: a
    # random search once found 1.07e-6. A missing f'(z) gives errors of order 1 (test below).
    # ReLU kinks can spoil a finite difference only if a unit sits within eps of 0: probability ~1e-6 here.
    assert max(errors.values()) < 1e-5, errors


class ForgetfulSigmoid(Activation):
    """A sigmoid whose backward pass forgets the derivative: the bug gradient checks exist to catch."""

    def __init__(self):
        super().__init__("sigmoid")

    def backward(self, grad_out):
        return np.asarray(grad_out)


def test_the_check_catches_a_backward_pass_without_f_prime():
    rng = np.random.default_rng(0)
    model = MLP([4, 5, 3], "sigmoid", rng=rng)
    model.layers[1] = ForgetfulSigmoid()
    errors = check_model_gradients(model, rng.normal(size=(6, 4)), rng.integers(0, 3, size=6))
    assert errors["W2"] < 1e-6  # the output layer is unaffected
    assert errors["W1"] > 0.1 and errors["b1"] > 0.1


def test_bad_arguments_raise_clear_errors():
    model32 = MLP([3, 2], "relu", rng=0, dtype=np.float32)
    with pytest.raises(TypeError, match="gradient checks need a float64 model; got float32"):
        check_model_gradients(model32, np.ones((2, 3)), np.array([0, 1]))
    with pytest.raises(TypeError, match="array must be float64 for a finite-difference check; got float32"):
        numerical_gradient(lambda: 0.0, np.ones(3, dtype=np.float32))
    with pytest.raises(TypeError, match="array must be a NumPy array"):
        numerical_gradient(lambda: 0.0, [1.0, 2.0])
    with pytest.raises(ValueError, match="eps must be a positive finite number; got 0"):
        numerical_gradient(lambda: 0.0, np.ones(3), eps=0)
    with pytest.raises(ValueError, match="array must be contiguous"):
        numerical_gradient(lambda: 0.0, np.ones((3, 4))[:, :2])
    with pytest.raises(ValueError, match=r"need one gradient per array; got 1 array\(s\) and 2"):
        gradient_check(lambda: 0.0, [np.ones(2)], [np.ones(2), np.ones(2)])
    with pytest.raises(ValueError, match=r"gradient w must have the shape of its array \(2,\); got \(3,\)"):
        gradient_check(lambda: 0.0, [np.ones(2)], [np.ones(3)], names=["w"])
    with pytest.raises(ValueError, match="analytic and numeric must have the same shape"):
        relative_error(np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="numeric must be finite"):
        relative_error(np.ones(2), np.array([1.0, np.nan]))
    model = MLP([3, 2], "relu", rng=0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        check_model_gradients(model, np.ones((2, 3)), np.array([0, 5]))


@pytest.mark.parametrize(("loss", "make_targets"), LOSS_CASES)
def test_torch_autograd_and_tf_gradient_tape_agree_to_1e_10_in_float64(loss, make_targets):
    rng = np.random.default_rng(11)
    model = MLP([6, 8, 5, 4], ["tanh", "relu", "linear"], rng=rng)
    for layer in model.dense_layers:
        layer.b[:] = rng.normal(scale=0.5, size=layer.b.shape)
    X, y = rng.normal(size=(9, 6)), make_targets(rng, 9, 4)
    model.loss_and_grad(X, y, loss=loss)
    ours = [g.copy() for g in model.grads()]
    references = (
        torch_gradients(model, X, y, loss=loss, device="cpu"),
        tf_gradients(model, X, y, loss=loss, device="/CPU:0"),
    )
    for reference in references:
        assert [r.shape for r in reference] == [g.shape for g in ours]
        assert all(r.dtype == np.float64 for r in reference)
        for name, mine, theirs in zip(model.param_names(), ours, reference):
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-10, err_msg=name)


def test_framework_gradients_validate_inputs_first():
    model = MLP([3, 2], "relu", rng=0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        torch_gradients(model, np.ones((2, 3)), np.array([0, 7]), device="cpu")
    with pytest.raises(ValueError, match="loss must be one of"):
        tf_gradients(model, np.ones((2, 3)), np.array([0, 1]), loss="hinge", device="/CPU:0")
