"""Batch normalisation and layer normalisation, forward pass in NumPy (book chapter 6).

Both standardise and then rescale with learned gamma and beta; they differ in
the axis they average over. For X (n, d):

    batch norm (per feature, over the batch):
        mu_j = mean_i X_ij,  var_j = mean_i (X_ij - mu_j)^2
        Y_ij = gamma_j (X_ij - mu_j) / sqrt(var_j + eps) + beta_j           Eq. (6.9)
    layer norm (per example, over the features):
        mu_i = mean_j X_ij,  var_i = mean_j (X_ij - mu_i)^2
        Y_ij = gamma_j (X_ij - mu_i) / sqrt(var_i + eps) + beta_j           Eq. (6.10)

Batch norm uses the batch statistics in training and running averages at test
time; layer norm behaves the same in both.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_in_interval


def _check_affine(X, gamma, beta):
    X = as_float_array(X, "X", ndim=2)
    d = X.shape[1]
    gamma = np.ones(d, X.dtype) if gamma is None else as_float_array(gamma, "gamma", ndim=1)
    beta = np.zeros(d, X.dtype) if beta is None else as_float_array(beta, "beta", ndim=1)
    for name, vector in (("gamma", gamma), ("beta", beta)):
        if vector.shape != (d,):
            raise ValueError(f"{name} must have shape ({d},) to match X {X.shape}; got {vector.shape}")
    return X, gamma, beta


def _check_eps(eps) -> float:
    if not (isinstance(eps, (int, float)) and eps > 0):
        raise ValueError(f"eps must be a number > 0; got {eps!r}")
    return float(eps)


def layer_norm(X, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """Layer normalisation over the features of each row, Eq. (6.10)."""
    X, gamma, beta = _check_affine(X, gamma, beta)
    eps = _check_eps(eps)
    mu = X.mean(axis=1, keepdims=True)
    var = X.var(axis=1, keepdims=True)  # biased (divide by d), as in the equation
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


class BatchNorm:
    """Batch normalisation of a (n, d) batch, Eq. (6.9), with running statistics.

    In training the batch's own mean and (biased) variance normalise it, and
    the running estimates move towards them:
        running = (1 - momentum) running + momentum batch_statistic,
    where, as in PyTorch, the running variance uses the unbiased batch
    variance (divide by n - 1). At test time the running estimates are used.
    """

    def __init__(self, d: int, eps: float = 1e-5, momentum: float = 0.1):
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d <= 0:
            raise ValueError(f"d must be a positive int; got {d!r}")
        self.momentum = check_in_interval(momentum, "momentum", 0, 1, closed="right")
        self.eps = _check_eps(eps)
        self.gamma = np.ones(d)
        self.beta = np.zeros(d)
        self.running_mean = np.zeros(d)
        self.running_var = np.ones(d)

    def forward(self, X, training: bool = True) -> np.ndarray:
        X, gamma, beta = _check_affine(X, self.gamma, self.beta)
        if training:
            if X.shape[0] < 2:
                raise ValueError("batch norm in training needs at least 2 rows to estimate a variance; "
                                 f"got {X.shape[0]}")
            mu, var = X.mean(axis=0), X.var(axis=0)
            n = X.shape[0]
            self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mu
            self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * n / (n - 1)
        else:
            mu, var = self.running_mean, self.running_var
        return gamma * (X - mu) / np.sqrt(var + self.eps) + beta
