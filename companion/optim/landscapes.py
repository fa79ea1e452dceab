"""Two-dimensional test landscapes for optimizers, and a runner that records the path (chapter 4).

- An ill-conditioned quadratic L(theta) = 1/2 theta^T A theta, with A symmetric
  positive definite of condition number kappa, its long axis turned by an
  angle; gradient A theta. Plain GD on it obeys Eq. (4.2).
- Rosenbrock's banana valley L(x, y) = (a - x)^2 + b (y - x^2)^2, minimum at (a, a^2).

Value functions accept points of shape (..., 2) so a whole grid can be
evaluated for a contour plot; gradient functions take one point of shape (2,).
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int
from companion.optim.base import Optimizer


def ill_conditioned_matrix(kappa: float = 25.0, angle_deg: float = 30.0) -> np.ndarray:
    """Return A = R diag(1, kappa) R^T, a 2 x 2 SPD matrix with eigenvalues 1 and kappa.

    R rotates by ``angle_deg`` degrees, so the valley's axes are not the
    coordinate axes (at 0 degrees they are, which flatters per-coordinate
    methods such as RMSProp and Adam).
    """
    kappa = float(kappa)
    if not np.isfinite(kappa) or kappa < 1.0:
        raise ValueError(f"kappa must be a finite number >= 1; got {kappa}")
    a = np.deg2rad(float(angle_deg))
    R = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return R @ np.diag([1.0, kappa]) @ R.T


def _check_matrix(A) -> np.ndarray:
    A = as_float_array(A, "A", ndim=2)
    if A.shape != (2, 2):
        raise ValueError(f"A must have shape (2, 2); got {A.shape}")
    return A


def quadratic(theta, A) -> np.ndarray:
    """L(theta) = 1/2 theta^T A theta for points of shape (..., 2)."""
    theta, A = as_float_array(theta, "theta"), _check_matrix(A)
    if theta.shape[-1:] != (2,):
        raise ValueError(f"theta must have shape (..., 2); got {theta.shape}")
    return 0.5 * np.einsum("...i,ij,...j->...", theta, A, theta)


def quadratic_grad(theta, A) -> np.ndarray:
    """Gradient A theta of :func:`quadratic` at one point of shape (2,) (A symmetric)."""
    theta, A = as_float_array(theta, "theta", ndim=1), _check_matrix(A)
    if theta.shape != (2,):
        raise ValueError(f"theta must have shape (2,); got {theta.shape}")
    return A @ theta


def rosenbrock(theta, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """Rosenbrock's function (a - x)^2 + b (y - x^2)^2 for points of shape (..., 2)."""
    theta = as_float_array(theta, "theta")
    if theta.shape[-1:] != (2,):
        raise ValueError(f"theta must have shape (..., 2); got {theta.shape}")
    x, y = theta[..., 0], theta[..., 1]
    return (a - x) ** 2 + b * (y - x * x) ** 2


def rosenbrock_grad(theta, a: float = 1.0, b: float = 100.0) -> np.ndarray:
    """Gradient of :func:`rosenbrock` at one point of shape (2,)."""
    theta = as_float_array(theta, "theta", ndim=1)
    if theta.shape != (2,):
        raise ValueError(f"theta must have shape (2,); got {theta.shape}")
    x, y = theta
    return np.array([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)])


def run_path(optimizer: Optimizer, grad_fn, steps: int, lr_schedule=None) -> np.ndarray:
    """Run ``steps`` updates of an optimizer holding one parameter array; return the path.

    Args:
        optimizer: an :class:`~companion.optim.base.Optimizer` built on ``[theta]``.
        grad_fn: function theta -> gradient, same shape as theta.
        steps: number of updates (a positive int).
        lr_schedule: optional function t -> learning rate for step t = 1, 2, ...,
            assigned to ``optimizer.lr`` before each step.

    Returns:
        Array of shape (steps + 1, *theta.shape): the starting point, then the
        point after every step. A step whose gradient is not finite stops the
        run with a ValueError naming the step (a diverging run fails loudly).
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a companion.optim Optimizer; got {type(optimizer).__name__}")
    if len(optimizer.params) != 1:
        raise ValueError(f"run_path needs an optimizer over exactly one array; got {len(optimizer.params)}")
    steps = check_positive_int(steps, "steps")
    theta = optimizer.params[0]
    path = np.empty((steps + 1, *theta.shape), dtype=theta.dtype)
    path[0] = theta
    for t in range(1, steps + 1):
        if lr_schedule is not None:
            optimizer.lr = lr_schedule(t)
        g = grad_fn(theta)
        if not np.all(np.isfinite(g)):
            raise ValueError(f"the gradient at step {t} is not finite: the run diverged (lower the learning rate)")
        optimizer.step([g])
        path[t] = theta
    return path
