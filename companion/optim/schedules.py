"""Learning-rate schedules as functions of the step number (book chapter 6).

Steps count from 0. With base learning rate eta_base:

    step decay:   eta_t = eta_base gamma^floor(t / s)                              Eq. (6.6)
    cosine:       eta_t = eta_min + (eta_base - eta_min)(1 + cos(pi t / T)) / 2    Eq. (6.7)
    warmup + cosine: eta_t = eta_base (t + 1) / W for t < W, then Eq. (6.7) over
                  the remaining T - W steps, with t - W in place of t          Eq. (6.8)

Step decay equals ``torch.optim.lr_scheduler.StepLR``; cosine equals
``CosineAnnealingLR`` and Keras's ``CosineDecay`` (alpha = eta_min / eta_base);
warmup + cosine equals ``LinearLR(start_factor=1/W, total_iters=W-1)``
followed by ``CosineAnnealingLR`` in a ``SequentialLR``.
"""

from __future__ import annotations

import math

from companion.checks import check_positive_int
from companion.optim.base import check_lr as _check_lr


def _check_step(step) -> int:
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise ValueError(f"step must be an int >= 0; got {step!r}")
    return step


def step_decay(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Eq. (6.6): multiply the rate by ``gamma`` every ``step_size`` steps."""
    step = _check_step(step)
    base_lr = _check_lr(base_lr, "base_lr")
    step_size = check_positive_int(step_size, "step_size")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1]; got {gamma}")
    return base_lr * gamma ** (step // step_size)


def cosine_decay(step: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Eq. (6.7): half a cosine from ``base_lr`` at step 0 to ``min_lr`` at ``total_steps``."""
    step = _check_step(step)
    base_lr = _check_lr(base_lr, "base_lr")
    total_steps = check_positive_int(total_steps, "total_steps")
    if not 0 <= min_lr <= base_lr:
        raise ValueError(f"min_lr must be in [0, base_lr={base_lr}]; got {min_lr}")
    t = min(step, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """Eq. (6.8): linear warmup over ``warmup_steps``, then cosine decay to ``min_lr``."""
    step = _check_step(step)
    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    total_steps = check_positive_int(total_steps, "total_steps")
    if warmup_steps >= total_steps:
        raise ValueError(f"warmup_steps must be < total_steps; got {warmup_steps} >= {total_steps}")
    if step < warmup_steps:
        return _check_lr(base_lr, "base_lr") * (step + 1) / warmup_steps
    return cosine_decay(step - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)
