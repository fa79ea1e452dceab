"""Chapter 3 MLP: backpropagation through the whole network, prediction, and the SGD loop."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits

from companion.losses import one_hot, softmax_cross_entropy_grad
from companion.nn import MLP, init_mlp, mlp_forward, relu_derivative, softmax, tanh_derivative
from companion.train import minibatches, model_accuracy, sgd_step, train_numpy


def test_forward_is_chapter_1s_forward_pass():
    rng = np.random.default_rng(0)
    params = init_mlp([5, 7, 4, 3], "xavier_normal", rng)
    params = [(W, rng.normal(size=b.shape)) for W, b in params]
    names = ["tanh", "relu", "linear"]
    X = rng.normal(size=(6, 5))
    model = MLP.from_params(params, names)
    np.testing.assert_allclose(model.forward(X), mlp_forward(X, params, names))
    for (W, b), (W2, b2) in zip(params, model.to_params()):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_backward_is_the_delta_recursion_of_eqs_3_6_and_3_7():
    rng = np.random.default_rng(1)
    model = MLP([6, 5, 4, 3], ["tanh", "relu", "linear"], rng=rng)
    for layer in model.dense_layers:
        layer.b[:] = rng.normal(size=layer.b.shape)
    X, y = rng.normal(size=(8, 6)), rng.integers(0, 3, size=8)
    model.loss_and_grad(X, y)

    (W1, b1), (W2, b2), (W3, b3) = model.to_params()
    Z1 = X @ W1 + b1
    A1 = np.tanh(Z1)
    Z2 = A1 @ W2 + b2
    A2 = np.maximum(Z2, 0)
    Z3 = A2 @ W3 + b3
    delta3 = (softmax(Z3) - one_hot(y, 3)) / 8  # Eq. (3.7)
    delta2 = (delta3 @ W3.T) * relu_derivative(Z2)  # Eq. (3.6)
    delta1 = (delta2 @ W2.T) * tanh_derivative(Z1)
    expected = [X.T @ delta1, delta1.sum(0), A1.T @ delta2, delta2.sum(0), A2.T @ delta3, delta3.sum(0)]
    for name, got, want in zip(model.param_names(), model.grads(), expected):
        np.testing.assert_allclose(got, want, atol=1e-14, err_msg=name)


def test_row_and_column_conventions_give_transposed_gradients():
    """Eqs. (3.9)-(3.10): for one example, the column-convention dW is the transpose of the row one."""
    rng = np.random.default_rng(2)
    model = MLP([4, 3, 2], "sigmoid", rng=rng)
    x, y = rng.normal(size=(1, 4)), np.array([1])
    model.loss_and_grad(x, y)
    (W1, b1), (W2, b2) = model.to_params()
    # Column convention: W_l is (d_l, d_{l-1}), a and delta are column vectors.
    a0 = x.T
    z1 = W1.T @ a0 + b1[:, None]
    a1 = 1 / (1 + np.exp(-z1))
    z2 = W2.T @ a1 + b2[:, None]
    delta2 = softmax(z2.T).T - one_hot(y, 2).T
    delta1 = (W2 @ delta2) * a1 * (1 - a1)  # (W_{l+1}^T delta_{l+1}) * f'(z_l) with W_{l+1} = W2.T
    np.testing.assert_allclose((delta1 @ a0.T).T, model.grads()[0], atol=1e-15)
    np.testing.assert_allclose((delta2 @ a1.T).T, model.grads()[2], atol=1e-15)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 9), st.integers(0, 2**31))
def test_batch_gradient_is_the_mean_of_per_example_gradients(n, seed):
    rng = np.random.default_rng(seed)
    model = MLP([5, 4, 3], "tanh", rng=rng)
    X, y = rng.normal(size=(n, 5)), rng.integers(0, 3, size=n)
    model.loss_and_grad(X, y)
    batch = [g.copy() for g in model.grads()]
    per_example = []
    for i in range(n):
        model.loss_and_grad(X[i : i + 1], y[i : i + 1])
        per_example.append([g.copy() for g in model.grads()])
    for k, grad in enumerate(batch):
        np.testing.assert_allclose(grad, np.mean([g[k] for g in per_example], axis=0), atol=1e-14)


def test_backward_returns_the_input_gradient_and_output_gradient_is_eq_3_7():
    rng = np.random.default_rng(4)
    model = MLP([3, 4, 5], "relu", rng=rng)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 5, size=6)
    logits = model.forward(X)
    delta = softmax_cross_entropy_grad(logits, y)
    np.testing.assert_allclose(delta, (softmax(logits) - one_hot(y, 5)) / 6)
    dX = model.backward(delta)
    assert dX.shape == (6, 3)
    (W1, _), (W2, _) = model.to_params()
    np.testing.assert_allclose(dX, ((delta @ W2.T) * (X @ W1 > 0)) @ W1.T, atol=1e-15)


def test_default_init_is_he_for_relu_and_xavier_otherwise():
    assert MLP([4, 3, 2], "relu", rng=0).init == "he_normal"
    assert MLP([4, 3, 2], "tanh", rng=0).init == "xavier_normal"
    assert MLP([4, 3, 2], ["relu", "sigmoid"], rng=0).init == "he_normal"
    assert MLP([4, 3, 2], "relu", init="uniform01", rng=0).dense_layers[0].W.min() >= 0


def test_float32_model_stays_float32():
    model = MLP([4, 3, 2], "relu", rng=0, dtype=np.float32)
    X = np.random.default_rng(0).normal(size=(5, 4))  # float64 input is converted
    assert model.forward(X).dtype == np.float32
    model.loss_and_grad(X, np.array([0, 1, 0, 1, 1]))
    assert all(g.dtype == np.float32 for g in model.grads())
    model.loss_and_grad(X, np.ones((5, 2)) * 0.5, loss="mse")
    assert all(g.dtype == np.float32 for g in model.grads())


def test_predictions():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(7, 4))
    model = MLP([4, 6, 3], "relu", rng=rng)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), np.argmax(proba, axis=1))
    binary = MLP([4, 6, 1], "relu", rng=rng)
    logit = binary.forward(X)[:, 0]
    np.testing.assert_allclose(binary.predict_proba(X)[:, 0], 1 / (1 + np.exp(-logit)))
    np.testing.assert_array_equal(binary.predict(X), (logit > 0).astype(int))
    independent = MLP([4, 6, 3], ["relu", "sigmoid"], rng=rng)
    out = independent.forward(X)
    np.testing.assert_array_equal(independent.predict_proba(X), out)  # no softmax on top of sigmoids
    assert not np.allclose(out.sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="predict_proba needs a linear or sigmoid output layer; got 'relu'"):
        MLP([4, 2], ["relu"], rng=0).predict_proba(X)


def test_training_on_digits_learns():
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    model = MLP([64, 32, 10], "relu", rng=0)
    before = model.loss(X[1000:], y[1000:])
    history = train_numpy(
        model, X[:1000], y[:1000], epochs=8, batch_size=32, lr=0.1, rng=0, X_val=X[1000:], y_val=y[1000:]
    )
    assert len(history["train_loss"]) == len(history["val_accuracy"]) == len(history["seconds"]) == 8
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert history["val_loss"][-1] < 0.5 * before
    assert model_accuracy(model, X[1000:], y[1000:]) > 0.9


def test_minibatches_visit_every_example_once():
    batches = list(minibatches(10, 4, rng=0))
    assert [len(b) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
    assert not np.array_equal(np.concatenate(batches), np.arange(10))
    np.testing.assert_array_equal(np.concatenate(list(minibatches(5, 2, shuffle=False))), np.arange(5))
    with pytest.raises(TypeError, match="shuffle=True needs rng"):
        list(minibatches(5, 2))
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        list(minibatches(5, 0, rng=0))


def test_sgd_step_updates_in_place_and_checks_its_arguments():
    p, g = np.ones(3), np.array([1.0, 2.0, 3.0])
    sgd_step([p], [g], 0.5)
    np.testing.assert_allclose(p, [0.5, 0.0, -0.5])
    with pytest.raises(ValueError, match=r"lr must be > 0; got -1.0"):
        sgd_step([p], [g], -1.0)
    with pytest.raises(ValueError, match=r"gradient 0 has shape \(2,\) but its parameter has \(3,\)"):
        sgd_step([p], [np.ones(2)], 0.1)
    with pytest.raises(ValueError, match="need one gradient per parameter"):
        sgd_step([p], [], 0.1)


def test_bad_model_arguments_raise_clear_errors():
    with pytest.raises(TypeError, match="required keyword-only argument: 'rng'"):
        MLP([4, 3, 2])
    with pytest.raises(ValueError, match="at least an input and an output width"):
        MLP([4], rng=0)
    with pytest.raises(ValueError, match="layer size must be a positive int; got 0"):
        MLP([4, 0, 2], rng=0)
    with pytest.raises(ValueError, match=r"need one activation per layer: got 2 layer\(s\) and 1 activation\(s\)"):
        MLP([4, 3, 2], ["relu"], rng=0)
    with pytest.raises(ValueError, match="softmax belongs in the loss"):
        MLP([4, 3, 2], ["relu", "softmax"], rng=0)
    with pytest.raises(ValueError, match="activation of hidden layer 1 must be one of"):
        MLP([4, 3, 2], ["linear", "linear"], rng=0)
    with pytest.raises(ValueError, match="init must be one of"):
        MLP([4, 3, 2], init="ones", rng=0)
    with pytest.raises(TypeError, match="dtype must be float32 or float64"):
        MLP([4, 3, 2], rng=0, dtype=int)
    rng = np.random.default_rng(0)
    params = init_mlp([4, 3, 2], "he_normal", rng)
    with pytest.raises(ValueError, match="layer 1 outputs 3 values but layer 2 expects 5 inputs"):
        MLP.from_params([params[0], init_mlp([5, 2], "he_normal", rng)[0]], "relu")
    with pytest.raises(TypeError, match="all parameters must share one dtype"):
        MLP.from_params([params[0], tuple(a.astype(np.float32) for a in params[1])], "relu")


def test_bad_data_raise_clear_errors():
    model = MLP([4, 3, 2], "relu", rng=0)
    X, y = np.ones((5, 4)), np.array([0, 1, 0, 1, 1])
    with pytest.raises(ValueError, match=r"X must have 4 columns \(the input width\); got shape \(5, 3\)"):
        model.forward(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"X must hold at least one row"):
        model.forward(np.ones((0, 4)))
    with pytest.raises(ValueError, match="X must be finite"):
        model.loss_and_grad(np.full((5, 4), np.nan), y)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        model.loss_and_grad(X, np.array([0, 1, 2, 1, 1]))
    with pytest.raises(TypeError, match="labels must be integer class indices; got dtype float64"):
        model.loss_and_grad(X, y.astype(float))
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        model.loss_and_grad(X, y[:4])
    with pytest.raises(ValueError, match="loss must be one of"):
        model.loss_and_grad(X, y, loss="hinge")
    with pytest.raises(ValueError, match="takes logits, so the output layer must be linear; got 'sigmoid'"):
        MLP([4, 3, 2], ["relu", "sigmoid"], rng=0).loss_and_grad(X, y)
    with pytest.raises(TypeError, match="grad_output has dtype float32 but the model computes in float64"):
        model.forward(X)
        model.backward(np.ones((5, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        train_numpy(model, X, y[:3], epochs=1, batch_size=2, lr=0.1, rng=0)
    with pytest.raises(ValueError, match="pass both X_val and y_val"):
        train_numpy(model, X, y, epochs=1, batch_size=2, lr=0.1, rng=0, X_val=X)
    with pytest.raises(TypeError, match="y must be integer class labels"):
        model_accuracy(model, X, y.astype(float))
