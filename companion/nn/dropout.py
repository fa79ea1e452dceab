"""Inverted dropout, in NumPy (book chapter 6).

In training, each activation is kept with probability 1 - p and scaled by
1 / (1 - p); the rest are set to zero:

    m_ij ~ Bernoulli(1 - p),   A'_ij = m_ij A_ij / (1 - p)               Eq. (6.4)

so that E[A'_ij] = A_ij (Eq. 6.5) and nothing needs rescaling at test time,
when the layer is the identity. The backward pass multiplies the incoming
gradient by the same mask and scale.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_in_interval, check_rng
from companion.nn.layers import Layer


def check_dropout_rate(p) -> float:
    """Return ``p`` as a float if it is a number in [0, 1), else raise."""
    return check_in_interval(p, "dropout rate p", 0, 1)


class Dropout(Layer):
    """Inverted dropout with drop probability ``p``, Eqs. (6.4)-(6.5).

    Fits the chapter 3 layer interface: ``forward(X, training)``,
    ``backward(grad_out)``; it has no parameters.
    """

    def __init__(self, p: float, rng: np.random.Generator):
        self.p = check_dropout_rate(p)
        self.rng = check_rng(rng)
        self.mask = None

    def forward(self, X, training: bool = True) -> np.ndarray:
        X = as_float_array(X, "X")
        if not training or self.p == 0.0:
            self.mask = None
            return X
        keep = 1.0 - self.p
        self.mask = (self.rng.random(X.shape) < keep).astype(X.dtype) / X.dtype.type(keep)
        return X * self.mask

    def backward(self, grad_out) -> np.ndarray:
        grad_out = as_float_array(grad_out, "grad_out")
        if self.mask is None:
            return grad_out
        if grad_out.shape != self.mask.shape:
            raise ValueError(f"grad_out must have the forward output's shape {self.mask.shape}; got {grad_out.shape}")
        return grad_out * self.mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"
