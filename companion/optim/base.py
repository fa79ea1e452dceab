"""The optimizer interface shared by every NumPy optimizer of chapter 4.

An optimizer holds a list of NumPy parameter arrays and updates them *in place*
each time :meth:`Optimizer.step` is given one gradient per parameter. Per-
parameter state (velocities, moment estimates) lives in ``self.state``, a dict
of lists with one array per parameter, plus the step counter ``self.t``.

The hyperparameter checks here are the ones PyTorch and Keras apply, with
messages that say what was expected and what was got:

- ``lr`` (the step size eta of Eq. (4.1)) must be a finite number > 0, and may
  be changed between steps (``opt.lr = 0.01``), which is how a learning-rate
  schedule is applied;
- decay rates (momentum mu, RMSProp's alpha, Adam's beta1 and beta2) lie in [0, 1);
- ``eps`` is finite and > 0, ``weight_decay`` finite and >= 0.

All but the optimizer-specific ``check_eps`` and ``check_betas`` are the shared
ones of :mod:`companion.checks`.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_decay_rate, check_learning_rate


def check_eps(value, name: str = "eps") -> float:
    """Return ``value`` as a float if it is a finite number > 0, else raise."""
    return check_learning_rate(value, name)


def check_betas(betas) -> tuple[float, float]:
    """Return Adam's ``(beta1, beta2)`` as floats, each in [0, 1), else raise."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__"):
        raise TypeError(f"betas must be a pair (beta1, beta2); got {type(betas).__name__} {betas!r}")
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2); got {len(betas)} value(s): {tuple(betas)!r}")
    return check_decay_rate(betas[0], "betas[0]"), check_decay_rate(betas[1], "betas[1]")


def _check_params(params) -> list[np.ndarray]:
    """Validate the list of parameter arrays an optimizer will update in place."""
    if isinstance(params, np.ndarray):
        raise TypeError("params must be a list of np.ndarray; got a single np.ndarray (wrap it: [array])")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"params must be a list of np.ndarray; got {type(params).__name__}") from None
    if not params:
        raise ValueError("params must hold at least one array; got an empty list")
    for index, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise TypeError(f"params[{index}] must be an np.ndarray; got {type(p).__name__}")
        if not np.issubdtype(p.dtype, np.floating):
            raise TypeError(
                f"params[{index}] must have a floating-point dtype (it is updated in place); got {p.dtype}"
            )
        if not p.flags.writeable:
            raise ValueError(f"params[{index}] must be writeable (it is updated in place); got a read-only array")
        if not np.all(np.isfinite(p)):
            raise ValueError(f"params[{index}] must be finite; got NaN or inf value(s)")
    ids = [id(p) for p in params]
    if len(set(ids)) != len(ids):
        raise ValueError("params must not contain the same array twice")
    return params


class Optimizer:
    """Base class: holds parameters, validates gradients, counts steps.

    Subclasses set their hyperparameters, call :meth:`_init_state` with the
    names of their per-parameter buffers, and implement :meth:`_update`, which
    receives the validated gradients and the step number ``t`` (1 on the first
    step) and changes ``self.params`` in place.
    """

    _buffers: tuple[str, ...] = ()

    def __init__(self, params, lr: float):
        self.params = _check_params(params)
        self.lr = lr
        self.zero_state()

    @property
    def lr(self) -> float:
        """The learning rate eta; assign to it between steps to follow a schedule."""
        return self._lr

    @lr.setter
    def lr(self, value) -> None:
        self._lr = check_learning_rate(value)

    def zero_state(self) -> None:
        """Forget the history: step counter to 0 and every buffer to zeros."""
        self.t = 0
        self.state = {name: [np.zeros_like(p) for p in self.params] for name in self._buffers}

    def state_dict(self) -> dict:
        """Copy of the optimizer's state: ``{"t": int, "lr": float, buffer name: [arrays]}``."""
        out = {"t": self.t, "lr": self.lr}
        out.update({name: [b.copy() for b in bufs] for name, bufs in self.state.items()})
        return out

    def load_state_dict(self, state: dict) -> None:
        """Restore a dict made by :meth:`state_dict` (shapes must match the parameters)."""
        missing = [key for key in ("t", "lr", *self._buffers) if key not in state]
        if missing:
            raise ValueError(f"state dict is missing {missing}; got keys {sorted(state)}")
        t = state["t"]
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"state['t'] must be an int >= 0; got {t!r}")
        buffers = {}
        for name in self._buffers:
            arrays = list(state[name])
            if len(arrays) != len(self.params):
                raise ValueError(f"state[{name!r}] must hold {len(self.params)} arrays; got {len(arrays)}")
            for index, (a, p) in enumerate(zip(arrays, self.params)):
                if np.shape(a) != p.shape:
                    raise ValueError(f"state[{name!r}][{index}] must have shape {p.shape}; got {np.shape(a)}")
            buffers[name] = [np.array(a, dtype=p.dtype) for a, p in zip(arrays, self.params)]
        self.lr = state["lr"]
        self.t = int(t)
        self.state = buffers

    def _check_grads(self, grads) -> list[np.ndarray]:
        if isinstance(grads, np.ndarray):
            raise TypeError("grads must be a list with one array per parameter; got a single np.ndarray")
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"expected {len(self.params)} gradient(s), one per parameter; got {len(grads)}")
        checked = []
        for index, (g, p) in enumerate(zip(grads, self.params)):
            g = as_float_array(g, f"grads[{index}]")
            if g.shape != p.shape:
                raise ValueError(f"grads[{index}] must have the shape of params[{index}], {p.shape}; got {g.shape}")
            checked.append(g.astype(p.dtype, copy=False))
        return checked

    def step(self, grads) -> None:
        """Apply one update to every parameter, in place, given one gradient per parameter."""
        grads = self._check_grads(grads)
        self.t += 1
        self._update(grads, self.t)

    def _update(self, grads: list[np.ndarray], t: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        shapes = [p.shape for p in self.params]
        return f"{type(self).__name__}(lr={self.lr!r}, t={self.t}, params={shapes})"
