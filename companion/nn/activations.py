"""Activation functions and their derivatives, in NumPy (book chapter 1).

Every function works elementwise on an array of any shape, except
:func:`softmax`, which normalises along the last axis (one row per example).

Equations (chapter 1):
    sigmoid  Eq. (1.4):  s(z) = 1 / (1 + exp(-z)),     s'(z) = s(z) (1 - s(z))
    tanh     Eq. (1.5):  tanh(z),                      tanh'(z) = 1 - tanh(z)^2
    ReLU     Eq. (1.6):  max(0, z),                    ReLU'(z) = 1 if z > 0 else 0
    softmax  Eq. (1.7):  s_i = exp(z_i - m) / sum_j exp(z_j - m),  m = max_j z_j
    softmax Jacobian Eq. (1.8):  ds_i/dz_j = s_i (delta_ij - s_j)
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_choice


def sigmoid(z):
    """Logistic sigmoid, Eq. (1.4), computed without overflow for large |z|."""
    z = as_float_array(z, "z")
    # exp(-|z|) never overflows; the two branches are the same function.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    """d sigmoid / dz = s (1 - s), Eq. (1.4)."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    """Hyperbolic tangent, Eq. (1.5)."""
    return np.tanh(as_float_array(z, "z"))


def tanh_derivative(z):
    """d tanh / dz = 1 - tanh^2, Eq. (1.5)."""
    t = tanh(z)
    return 1.0 - t * t


def relu(z):
    """Rectified linear unit max(0, z), Eq. (1.6)."""
    z = as_float_array(z, "z")
    return np.maximum(z, 0.0)


def relu_derivative(z):
    """Derivative of ReLU, Eq. (1.6): 1 where z > 0, else 0 (the book's choice at z = 0)."""
    z = as_float_array(z, "z")
    return (z > 0).astype(z.dtype)


def identity(z):
    """The identity activation of a linear output layer."""
    return as_float_array(z, "z")


def identity_derivative(z):
    """Derivative of the identity: ones."""
    return np.ones_like(as_float_array(z, "z"))


def softmax(z):
    """Softmax along the last axis, Eq. (1.7), stabilised by subtracting the row maximum.

    Subtracting m = max_j z_j changes nothing mathematically (it cancels
    between numerator and denominator) but keeps every exponent <= 0, so
    exp never overflows.
    """
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("softmax needs at least one axis to normalise over; got a scalar")
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)


def softmax_jacobian(z):
    """Jacobian of softmax for one vector z of length k, Eq. (1.8): diag(s) - s s^T (k x k)."""
    z = as_float_array(z, "z", ndim=1)
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


# Name -> (function, derivative). Softmax has a Jacobian, not an elementwise
# derivative, so its entry points at softmax_jacobian.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "linear": (identity, identity_derivative),
    "softmax": (softmax, softmax_jacobian),
}


def get_activation(name: str):
    """Return the activation function registered under ``name``."""
    check_choice(name, "activation", ACTIVATIONS)
    return ACTIVATIONS[name][0]
