"""A dense (fully connected) layer for a batch, in NumPy (book chapter 1).

Convention used throughout the book: examples are rows. For a batch of n
examples with d_in features,

    X: (n, d_in),  W: (d_in, d_out),  b: (d_out,),
    Z = X W + 1 b^T : (n, d_out)                                  Eq. (1.2)

where 1 is a column of n ones (NumPy broadcasting adds b to every row).
Keras stores a Dense kernel in this (d_in, d_out) layout; PyTorch's
``nn.Linear`` stores the transpose, (d_out, d_in), and computes X W^T + b.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array


def dense_forward(X, W, b) -> np.ndarray:
    """Pre-activations Z = X W + 1 b^T of a dense layer, Eq. (1.2).

    Args:
        X: inputs, shape (n, d_in).
        W: weights, shape (d_in, d_out).
        b: biases, shape (d_out,).

    Returns:
        Z, shape (n, d_out).

    Raises:
        ValueError: a shape does not match, or an input holds NaN/inf.
        TypeError: an input is not numeric.
    """
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if X.shape[1] != W.shape[0]:
        raise ValueError(
            f"X has {X.shape[1]} features per row but W expects {W.shape[0]} "
            f"(X shape {X.shape}, W shape {W.shape}; W must be (d_in, d_out))"
        )
    if b.shape[0] != W.shape[1]:
        raise ValueError(f"b must have shape ({W.shape[1]},) to match W {W.shape}; got {b.shape}")
    return X @ W + b
