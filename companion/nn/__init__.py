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

# Chapter 3: layers with a backward pass, the MLP container, gradient checks. They load
# when first asked for (PEP 562), so that importing the chapter 1 functions above (as
# companion.losses does) does not load the MLP, which itself needs companion.losses.
_LAZY = {
    "MLP": "companion.nn.mlp",
    "Activation": "companion.nn.layers",
    "Dense": "companion.nn.layers",
    "Layer": "companion.nn.layers",
    "ReLU": "companion.nn.layers",
    "Sigmoid": "companion.nn.layers",
    "Tanh": "companion.nn.layers",
    "check_model_gradients": "companion.nn.gradcheck",
    "gradient_check": "companion.nn.gradcheck",
    "numerical_gradient": "companion.nn.gradcheck",
    "relative_error": "companion.nn.gradcheck",
}
__all__ += sorted(_LAZY)


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module 'companion.nn' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value
