"""The same MLP in NumPy, PyTorch and Keras gives the same outputs (chapter 1, asserted to 1e-6)."""

import numpy as np
import pytest
import torch

from companion.nn import init_mlp, mlp_forward
from companion.nn.keras_mlp import keras_mlp_from_params
from companion.nn.torch_mlp import torch_mlp_from_params

NETWORKS = [
    ([2, 2, 1], ["sigmoid", "sigmoid"]),
    ([8, 16, 16, 4], ["tanh", "relu", "softmax"]),
    ([5, 3], ["linear"]),
]


@pytest.mark.parametrize(("sizes", "activations"), NETWORKS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_numpy_torch_keras_agree(sizes, activations, dtype):
    rng = np.random.default_rng(0)
    params = init_mlp(sizes, "xavier_normal", rng, dtype=dtype)
    params = [(W, rng.normal(size=b.shape).astype(dtype)) for W, b in params]  # non-zero biases
    X = rng.normal(size=(11, sizes[0])).astype(dtype)

    reference = mlp_forward(X, params, activations)
    torch_model = torch_mlp_from_params(params, activations, device="cpu")
    with torch.no_grad():
        torch_out = torch_model(torch.as_tensor(X)).numpy()
    keras_out = keras_mlp_from_params(params, activations)(X).numpy()

    assert reference.dtype == torch_out.dtype == keras_out.dtype == dtype
    np.testing.assert_allclose(torch_out, reference, rtol=0, atol=1e-6)
    np.testing.assert_allclose(keras_out, reference, rtol=0, atol=1e-6)


def test_torch_weights_are_stored_transposed():
    params = init_mlp([3, 2], "xavier_normal", np.random.default_rng(0))
    linear = torch_mlp_from_params(params, ["linear"], device="cpu")[0]
    assert tuple(linear.weight.shape) == (2, 3)
    np.testing.assert_array_equal(linear.weight.detach().numpy(), params[0][0].T)


def test_framework_builders_validate_the_network():
    params = init_mlp([3, 2], "xavier_normal", np.random.default_rng(0))
    with pytest.raises(ValueError, match="need one activation per layer"):
        torch_mlp_from_params(params, [], device="cpu")
    with pytest.raises(ValueError, match="need one activation per layer"):
        keras_mlp_from_params(params, ["relu", "relu"])
