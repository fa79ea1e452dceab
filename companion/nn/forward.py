"""The vectorised forward pass of a multilayer perceptron, in NumPy (book chapter 1).

A network is a list of layers ``[(W1, b1), (W2, b2), ...]`` with one activation
name per layer. For a batch X (n, d_0):

    A^(0) = X,   A^(l) = f_l(A^(l-1) W^(l) + 1 b^(l)T),   l = 1..L      Eq. (1.9)

One matrix product per layer handles all n examples at once; there is no
Python loop over examples.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int
from companion.nn.activations import get_activation
from companion.nn.dense import dense_forward
from companion.nn.init import init_weights


def check_network(params, activations) -> None:
    """Raise if ``params`` and ``activations`` do not describe a valid network."""
    if len(params) == 0:
        raise ValueError("a network needs at least one layer; got an empty parameter list")
    if len(params) != len(activations):
        raise ValueError(
            f"need one activation per layer: got {len(params)} layer(s) and {len(activations)} activation(s)"
        )
    for index, layer in enumerate(params, start=1):
        if len(layer) != 2:
            raise ValueError(f"layer {index} must be a (W, b) pair; got {len(layer)} item(s)")
    for index in range(1, len(params)):
        d_out = np.shape(params[index - 1][0])[1]
        d_in = np.shape(params[index][0])[0]
        if d_out != d_in:
            raise ValueError(f"layer {index} outputs {d_out} values but layer {index + 1} expects {d_in} inputs")
    for name in activations:
        get_activation(name)  # raises for an unknown name


def mlp_forward(X, params, activations, return_all: bool = False):
    """Run the forward pass of Eq. (1.9) on a batch.

    Args:
        X: inputs, shape (n, d_0).
        params: list of (W, b) with W of shape (d_{l-1}, d_l) and b of shape (d_l,).
        activations: one name per layer (see ``companion.nn.activations.ACTIVATIONS``).
        return_all: also return the list of every layer's activations A^(0..L).

    Returns:
        The output A^(L), shape (n, d_L); with ``return_all``, (A^(L), [A^(0), ..., A^(L)]).
    """
    check_network(params, activations)
    A = as_float_array(X, "X", ndim=2)
    history = [A]
    for (W, b), name in zip(params, activations):
        A = get_activation(name)(dense_forward(A, W, b))
        history.append(A)
    return (A, history) if return_all else A


def init_mlp(sizes, scheme: str, rng: np.random.Generator, dtype=np.float64):
    """Parameters of an MLP with layer widths ``sizes = [d_0, d_1, ..., d_L]``.

    Weights come from ``companion.nn.init.init_weights(scheme)``; biases start at zero.
    """
    sizes = [check_positive_int(size, "layer size") for size in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width; got {sizes}")
    return [
        (init_weights(d_in, d_out, scheme, rng).astype(dtype), np.zeros(d_out, dtype=dtype))
        for d_in, d_out in zip(sizes[:-1], sizes[1:])
    ]
