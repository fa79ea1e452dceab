"""Neural-network building blocks in NumPy, with PyTorch and Keras twins.

NumPy (chapter 1): activations, the dense layer, initialisation, the MLP
forward pass. ``torch_mlp`` and ``keras_mlp`` build the same network in each
framework from the same parameters; they import their framework on use.
"""

from companion.nn.activations import (
    ACTIVATIONS,
    get_activation,
    relu,
    relu_derivative,
    sigmoid,
    sigmoid_derivative,
    softmax,
    softmax_jacobian,
    tanh,
    tanh_derivative,
)
from companion.nn.dense import dense_forward
from companion.nn.forward import init_mlp, mlp_forward
from companion.nn.init import SCHEMES, init_weights

__all__ = [
    "ACTIVATIONS",
    "SCHEMES",
    "dense_forward",
    "get_activation",
    "init_mlp",
    "init_weights",
    "mlp_forward",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "softmax",
    "softmax_jacobian",
    "tanh",
    "tanh_derivative",
]

# Chapter 3: layers with a backward pass, the MLP container, gradient checks.
from companion.nn.gradcheck import (  # noqa: E402
    check_model_gradients,
    gradient_check,
    numerical_gradient,
    relative_error,
)
from companion.nn.layers import Activation, Dense, Layer, ReLU, Sigmoid, Tanh  # noqa: E402
from companion.nn.mlp import MLP  # noqa: E402

__all__ += [
    "MLP",
    "Activation",
    "Dense",
    "Layer",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "check_model_gradients",
    "gradient_check",
    "numerical_gradient",
    "relative_error",
]
