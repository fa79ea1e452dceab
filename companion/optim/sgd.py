"""Gradient descent, SGD and momentum (classic and PyTorch forms), Nesterov: book chapter 4.

With gradient g_t (a full-batch gradient for GD, a minibatch estimate for SGD,
Eq. (4.3)) and learning rate eta_t:

    plain:            theta_t = theta_{t-1} - eta_t g_t                              Eq. (4.1)
    classic momentum: v_t = mu v_{t-1} - eta_t g_t,   theta_t = theta_{t-1} + v_t      Eq. (4.4)
    PyTorch momentum: b_t = mu b_{t-1} + g_t,         theta_t = theta_{t-1} - eta_t b_t Eq. (4.5)
    Nesterov (PyTorch form): theta_t = theta_{t-1} - eta_t (g_t + mu b_t)          Eq. (4.7)
    Nesterov (classic form): theta_t = theta_{t-1} + mu v_t - eta_t g_t

The two momentum forms give the same trajectory while eta is constant
(v_t = -eta b_t) and different ones once eta changes, Eq. (4.6): the classic
velocity remembers the learning rates it was built with, the PyTorch buffer
does not. ``form="pytorch"`` matches ``torch.optim.SGD``; ``form="classic"``
matches ``keras.optimizers.SGD``.
"""

from __future__ import annotations

from companion.checks import check_choice, check_decay_rate, check_weight_decay
from companion.optim.base import Optimizer

FORMS = ("pytorch", "classic")


class SGD(Optimizer):
    """(Stochastic) gradient descent with optional momentum and Nesterov, Eqs. (4.1), (4.4)-(4.7).

    Args:
        params: list of floating-point NumPy arrays, updated in place.
        lr: learning rate eta > 0 (assign ``opt.lr`` between steps for a schedule).
        momentum: mu in [0, 1); 0 gives plain (S)GD, Eq. (4.1).
        nesterov: use Nesterov's look-ahead form, Eq. (4.7); needs momentum > 0.
        form: ``"pytorch"`` (Eq. (4.5), as torch.optim.SGD) or ``"classic"``
            (Eq. (4.4), as keras.optimizers.SGD).
        weight_decay: lambda >= 0, added to the gradient as an L2 term
            g_t + lambda theta (PyTorch's meaning of ``weight_decay`` for SGD).
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 form: str = "pytorch", weight_decay: float = 0.0):
        self.momentum = check_decay_rate(momentum, "momentum")
        if not isinstance(nesterov, bool):
            raise TypeError(f"nesterov must be a bool; got {type(nesterov).__name__} {nesterov!r}")
        if nesterov and self.momentum == 0.0:
            raise ValueError("nesterov=True needs momentum > 0; got momentum=0.0")
        self.nesterov = nesterov
        self.form = check_choice(form, "form", FORMS)
        self.weight_decay = check_weight_decay(weight_decay)
        self._buffers = ("velocity",) if self.momentum > 0 else ()
        super().__init__(params, lr)

    def _update(self, grads, t):
        lr, mu = self.lr, self.momentum
        for index, (p, g) in enumerate(zip(self.params, grads)):
            if self.weight_decay:
                g = g + self.weight_decay * p
            if mu == 0.0:
                p -= lr * g
                continue
            v = self.state["velocity"][index]
            if self.form == "pytorch":
                v *= mu
                v += g                                   # b_t = mu b_{t-1} + g_t
                p -= lr * (g + mu * v) if self.nesterov else lr * v
            else:
                v *= mu
                v -= lr * g                              # v_t = mu v_{t-1} - eta g_t
                p += (mu * v - lr * g) if self.nesterov else v
