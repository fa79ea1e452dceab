"""RMSProp: a per-coordinate step size from a running mean of squared gradients (chapter 4).

    s_t = alpha s_{t-1} + (1 - alpha) g_t^2                                         Eq. (4.8)
    theta_t = theta_{t-1} - eta g_t / (sqrt(s_t) + eps)      eps outside, PyTorch     Eq. (4.8)
    theta_t = theta_{t-1} - eta g_t / sqrt(s_t + eps)        eps inside, Keras        Eq. (4.9)

The two placements of eps differ only where s_t is comparable to eps (or eps^2),
but they are different functions, so the NumPy class offers both: ``eps_placement=
"outside"`` reproduces ``torch.optim.RMSprop`` (defaults alpha=0.99, eps=1e-8)
and ``"inside"`` reproduces ``keras.optimizers.RMSprop`` (which calls alpha
``rho``; defaults rho=0.9, epsilon=1e-7).
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_choice, check_decay_rate, check_weight_decay
from companion.optim.base import Optimizer, check_eps

PLACEMENTS = ("outside", "inside")


class RMSProp(Optimizer):
    """RMSProp without momentum or centring, Eqs. (4.8) and (4.9).

    Args:
        params: list of floating-point NumPy arrays, updated in place.
        lr: learning rate eta > 0.
        alpha: decay rate of the squared-gradient average, in [0, 1) (Keras: ``rho``).
        eps: eps > 0.
        eps_placement: ``"outside"`` the square root (PyTorch, Eq. (4.8)) or
            ``"inside"`` it (Keras, Eq. (4.9)).
        weight_decay: lambda >= 0 added to the gradient as L2 (PyTorch's meaning).
    """

    _buffers = ("square_avg",)

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 eps_placement: str = "outside", weight_decay: float = 0.0):
        self.alpha = check_decay_rate(alpha, "alpha")
        self.eps = check_eps(eps)
        self.eps_placement = check_choice(eps_placement, "eps_placement", PLACEMENTS)
        self.weight_decay = check_weight_decay(weight_decay)
        super().__init__(params, lr)

    def _update(self, grads, t):
        for p, g, s in zip(self.params, grads, self.state["square_avg"]):
            if self.weight_decay:
                g = g + self.weight_decay * p
            s *= self.alpha
            s += (1.0 - self.alpha) * g * g
            denom = np.sqrt(s) + self.eps if self.eps_placement == "outside" else np.sqrt(s + self.eps)
            p -= self.lr * g / denom
