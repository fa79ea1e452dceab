"""NumPy convolution and max pooling (chapter 18) against PyTorch, finite differences and bad input."""

import numpy as np
import pytest

from companion.nn.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_input_gradient_as_convolution,
    conv2d_parameter_count,
    conv_output_size,
    maxpool2d_backward,
    maxpool2d_forward,
)
from companion.nn.gradcheck import gradient_check

torch = pytest.importorskip("torch")
F = torch.nn.functional

SETTINGS = [(1, 0), (1, 1), (2, 0), (2, 1), (3, 2)]


def _problem(seed=0, shape=(2, 3, 9, 8), filters=(4, 3, 3, 3)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=filters), rng.normal(size=filters[0]), rng


@pytest.mark.parametrize("stride, padding", SETTINGS)
def test_forward_and_backward_equal_pytorch(stride, padding):
    X, W, b, rng = _problem()
    Y = conv2d_forward(X, W, b, stride=stride, padding=padding)
    tensors = [torch.tensor(array, requires_grad=True) for array in (X, W, b)]
    Y_torch = F.conv2d(*tensors, stride=stride, padding=padding)
    np.testing.assert_allclose(Y, Y_torch.detach().numpy(), atol=1e-12)
    upstream = rng.normal(size=Y.shape)
    (Y_torch * torch.tensor(upstream)).sum().backward()
    for ours, theirs in zip(conv2d_backward(upstream, X, W, stride=stride, padding=padding), tensors):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("stride, padding", SETTINGS)
def test_output_size_formula_matches_the_computed_shape(stride, padding):
    X, W, b, _ = _problem()
    Y = conv2d_forward(X, W, b, stride=stride, padding=padding)
    assert Y.shape[2:] == (conv_output_size(9, 3, padding, stride), conv_output_size(8, 3, padding, stride))


def test_gradients_pass_a_finite_difference_check():
    X, W, b, rng = _problem(1, (1, 2, 6, 5), (3, 2, 3, 3))
    upstream = rng.normal(size=conv2d_forward(X, W, b, stride=2, padding=1).shape)

    def loss():
        return float((conv2d_forward(X, W, b, stride=2, padding=1) * upstream).sum())

    dX, dW, db = conv2d_backward(upstream, X, W, stride=2, padding=1)
    errors = gradient_check(loss, [X, W, b], [dX, dW, db], names=["X", "W", "b"])
    assert max(errors.values()) < 1e-8, errors


@pytest.mark.parametrize("padding", [0, 1, 2])
def test_input_gradient_is_a_convolution_with_turned_filters(padding):
    X, W, b, rng = _problem(2)
    upstream = rng.normal(size=conv2d_forward(X, W, b, padding=padding).shape)
    dX = conv2d_backward(upstream, X, W, padding=padding)[0]
    np.testing.assert_allclose(conv2d_input_gradient_as_convolution(upstream, W, padding=padding), dX, atol=1e-12)


def test_parameter_count_is_independent_of_the_image_and_equals_pytorch():
    layer = torch.nn.Conv2d(3, 16, 5)
    assert conv2d_parameter_count(3, 16, 5) == sum(p.numel() for p in layer.parameters()) == 1216


@pytest.mark.parametrize("size, stride", [(2, None), (3, 2), (2, 1)])
def test_max_pooling_equals_pytorch_forward_and_backward(size, stride):
    X, _, _, rng = _problem(3)
    Y, argmax = maxpool2d_forward(X, size, stride)
    X_torch = torch.tensor(X, requires_grad=True)
    Y_torch = F.max_pool2d(X_torch, size, stride=stride)
    np.testing.assert_array_equal(Y, Y_torch.detach().numpy())
    upstream = rng.normal(size=Y.shape)
    (Y_torch * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(maxpool2d_backward(upstream, argmax, X.shape, size, stride), X_torch.grad.numpy(),
                               atol=1e-12)  # fmt: skip


def test_bad_input_is_refused_with_what_was_expected():
    X, W, b, _ = _problem()
    with pytest.raises(ValueError, match="X has 3 channel"):
        conv2d_forward(X, W[:, :2], b)
    with pytest.raises(ValueError, match=r"b must have shape \(4,\)"):
        conv2d_forward(X, W, b[:3])
    with pytest.raises(ValueError, match="4 dimension"):
        conv2d_forward(X[0], W, b)
    with pytest.raises(ValueError, match="smaller than the kernel"):
        conv2d_forward(X[:, :, :2], W, b)
    with pytest.raises(ValueError, match="shorter than the kernel"):
        conv_output_size(2, 5, 1)
    with pytest.raises(TypeError, match="non-negative int"):
        conv2d_forward(X, W, b, padding=1.5)
    with pytest.raises(ValueError, match="non-negative int; got -1"):
        conv_output_size(8, 3, -1)
    with pytest.raises(ValueError, match="dY must have the output's shape"):
        conv2d_backward(np.zeros((2, 4, 3, 3)), X, W)
    with pytest.raises(ValueError, match="argmax must have dY's shape"):
        maxpool2d_backward(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3), dtype=int), (1, 1, 4, 4))
