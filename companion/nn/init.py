"""Weight initialisation schemes (book chapter 1, section on initialisation).

For a layer z = sum_i w_i a_i with d_in inputs, independent zero-mean weights
and inputs give

    Var(z) = d_in Var(w) E[a^2]                                  Eq. (1.10)

Keeping Var(z) constant from layer to layer fixes Var(w):
    Xavier/Glorot (tanh, sigmoid): Var(w) = 2 / (d_in + d_out)
    He/Kaiming (ReLU):             Var(w) = 2 / d_in                Eq. (1.11)

He's choice is exact for ReLU. Xavier's assumes tanh(z) ~ z, true only near
zero: tanh contracts, so a tanh stack with d_in Var(w) = 1 still loses scale,
slowly, std(a) ~ 1/sqrt(2 l) after l layers (Eq. 1.13).

The all-positive U(0, 1) scheme has mean 1/2, so every pre-activation has
mean about d_in/2 times the mean input: it grows layer after layer (Eq. 1.12).
It is here to be studied, not used.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int, check_rng

SCHEMES = ("uniform01", "xavier_uniform", "xavier_normal", "he_normal", "he_uniform")


def init_weights(d_in: int, d_out: int, scheme: str, rng: np.random.Generator) -> np.ndarray:
    """Draw a (d_in, d_out) weight matrix from ``scheme``, Eqs. (1.10)-(1.11).

    Args:
        d_in, d_out: fan-in and fan-out of the layer (positive ints).
        scheme: one of ``SCHEMES``.
        rng: a NumPy Generator, so the draw is reproducible.
    """
    d_in = check_positive_int(d_in, "d_in")
    d_out = check_positive_int(d_out, "d_out")
    rng = check_rng(rng)
    shape = (d_in, d_out)
    if scheme == "uniform01":
        return rng.uniform(0.0, 1.0, size=shape)
    if scheme == "xavier_uniform":
        limit = np.sqrt(6.0 / (d_in + d_out))  # Var(U(-l, l)) = l^2 / 3 = 2 / (d_in + d_out)
        return rng.uniform(-limit, limit, size=shape)
    if scheme == "xavier_normal":
        return rng.normal(0.0, np.sqrt(2.0 / (d_in + d_out)), size=shape)
    if scheme == "he_normal":
        return rng.normal(0.0, np.sqrt(2.0 / d_in), size=shape)
    if scheme == "he_uniform":
        limit = np.sqrt(6.0 / d_in)  # variance 2 / d_in
        return rng.uniform(-limit, limit, size=shape)
    raise ValueError(f"scheme must be one of {SCHEMES}; got {scheme!r}")
