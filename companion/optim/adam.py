"""Adam with bias correction, Adam + L2, and AdamW's decoupled weight decay (chapter 4).

    m_t = beta1 m_{t-1} + (1 - beta1) g_t,   v_t = beta2 v_{t-1} + (1 - beta2) g_t^2   Eq. (4.10)
    m_hat = m_t / (1 - beta1^t),             v_hat = v_t / (1 - beta2^t)                Eq. (4.11)
    theta_t = theta_{t-1} - eta m_hat / (sqrt(v_hat) + eps)                            Eq. (4.12)

Keras writes the same update with the bias corrections folded into the step
size and eps applied to the uncorrected sqrt(v_t) ("epsilon hat"), Eq. (4.13):

    eta_t = eta sqrt(1 - beta2^t) / (1 - beta1^t),  theta_t = theta_{t-1} - eta_t m_t / (sqrt(v_t) + eps_hat)

which is Eq. (4.12) with eps = eps_hat / sqrt(1 - beta2^t). ``eps_form="standard"``
reproduces ``torch.optim.Adam``; ``eps_form="hat"`` reproduces ``keras.optimizers.Adam``.

Weight decay comes in two kinds that are *not* the same for Adam:
    Adam + L2 (``Adam(weight_decay=lam)``, as torch.optim.Adam): g_t <- g_t + lam theta_{t-1}  Eq. (4.14)
    AdamW (``AdamW(weight_decay=lam)``):                                                   Eq. (4.15)
        theta_t = theta_{t-1} - eta lam theta_{t-1} - eta m_hat/(sqrt(v_hat)+eps)
In Adam + L2 the decay term is divided by sqrt(v_hat) with the rest of the
gradient; in AdamW it is not. (Keras applies *every* optimizer's
``weight_decay`` in the decoupled way, so keras Adam(weight_decay=lam) is AdamW.)
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_choice, check_weight_decay
from companion.optim.base import Optimizer, check_betas, check_eps

EPS_FORMS = ("standard", "hat")


class Adam(Optimizer):
    """Adam, Eqs. (4.10)-(4.13), with optional L2 weight decay added to the gradient, Eq. (4.14).

    Args:
        params: list of floating-point NumPy arrays, updated in place.
        lr: learning rate eta > 0.
        betas: (beta1, beta2), each in [0, 1).
        eps: eps > 0 (eps_hat when ``eps_form="hat"``).
        weight_decay: lambda >= 0 of the L2 term of Eq. (4.14) (0 disables it).
        eps_form: ``"standard"`` (Eq. (4.12), PyTorch) or ``"hat"`` (Eq. (4.13), Keras).
    """

    _buffers = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, eps_form: str = "standard"):
        self.betas = check_betas(betas)
        self.eps = check_eps(eps)
        self.weight_decay = check_weight_decay(weight_decay)
        self.eps_form = check_choice(eps_form, "eps_form", EPS_FORMS)
        super().__init__(params, lr)

    def _update(self, grads, t):
        beta1, beta2 = self.betas
        lr, lam = self.lr, self.weight_decay
        bias1, bias2 = 1.0 - beta1**t, 1.0 - beta2**t
        for p, g, m, v in zip(self.params, grads, self.state["exp_avg"], self.state["exp_avg_sq"]):
            if lam and self._decoupled:
                p *= 1.0 - lr * lam                      # Eq. (4.15): decay outside the adaptive step
            elif lam:
                g = g + lam * p                          # Eq. (4.14): L2 joins the gradient
            m *= beta1
            m += (1.0 - beta1) * g
            v *= beta2
            v += (1.0 - beta2) * g * g
            if self.eps_form == "standard":
                p -= (lr / bias1) * m / (np.sqrt(v) / np.sqrt(bias2) + self.eps)
            else:
                p -= (lr * np.sqrt(bias2) / bias1) * m / (np.sqrt(v) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay, Eq. (4.15) (as torch.optim.AdamW and keras.optimizers.AdamW).

    Same arguments as :class:`Adam`; ``weight_decay`` (default 0.01, PyTorch's
    default) shrinks every parameter by the factor (1 - eta lambda) before the
    Adam step, untouched by the adaptive denominator.
    """

    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01, eps_form: str = "standard"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, eps_form=eps_form)
