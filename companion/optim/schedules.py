"""Learning-rate schedules as functions of the step number (book chapter 6).

Steps count from 0. With base learning rate eta_base:

    step decay:   eta_t = eta_base gamma^floor(t / s)                              Eq. (6.6)
    cosine:       eta_t = eta_min + (eta_base - eta_min)(1 + cos(pi t / T)) / 2    Eq. (6.7)
    warmup + cosine: eta_t = eta_base (t + 1) / W for t < W, then Eq. (6.7) over
                  the remaining T - W steps, with t - W in place of t          Eq. (6.8)
    warmup + linear: eta_t = eta_base (t + 1) / W for t < W,
                  eta_t = eta_base (T - t) / (T - W) for W <= t <= T           Eq. (11.6)

With W = 0 both warmup schedules start at eta_base. The linear one is the
fine-tuning schedule of chapter 11: it climbs to eta_base at step W - 1, stays
there at step W, falls by eta_base / (T - W) per step and reaches 0 at t = T,
after the last update. (Hugging Face's ``get_linear_schedule_with_warmup`` uses
t / W during warmup, so its first update has rate 0; the decay is the same.)
Steps may be Python or NumPy integers; a wrong type raises TypeError, a
negative step ValueError.

Step decay equals ``torch.optim.lr_scheduler.StepLR``; cosine equals
``CosineAnnealingLR`` and Keras's ``CosineDecay`` (alpha = eta_min / eta_base);
warmup + cosine equals ``LinearLR(start_factor=1/W, total_iters=W-1)``
followed by ``CosineAnnealingLR`` in a ``SequentialLR``; warmup + linear is a
``LambdaLR`` (:func:`warmup_linear_scheduler`).
"""

from __future__ import annotations

import math

import numpy as np

from companion.checks import check_in_interval, check_learning_rate, check_positive_int


def _check_step(step) -> int:
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be an int >= 0; got {type(step).__name__} {step!r}")
    if step < 0:
        raise ValueError(f"step must be an int >= 0; got {step}")
    return int(step)


def check_schedule(warmup_steps, total_steps) -> tuple[int, int]:
    """``0 <= warmup_steps < total_steps``, both ints, else ValueError/TypeError naming both numbers."""
    total_steps = check_positive_int(total_steps, "total_steps")
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer)):
        raise TypeError(f"warmup_steps must be an int >= 0; got {type(warmup_steps).__name__} {warmup_steps!r}")
    warmup_steps = int(warmup_steps)
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0; got {warmup_steps}")
    if warmup_steps >= total_steps:
        raise ValueError(
            f"warmup_steps must be smaller than total_steps (some steps must remain to decay); "
            f"got warmup_steps={warmup_steps}, total_steps={total_steps}"
        )
    return warmup_steps, total_steps


def step_decay(step: int, base_lr: float, step_size: int, gamma: float = 0.1) -> float:
    """Eq. (6.6): multiply the rate by ``gamma`` every ``step_size`` steps."""
    step = _check_step(step)
    base_lr = check_learning_rate(base_lr, "base_lr")
    step_size = check_positive_int(step_size, "step_size")
    gamma = check_in_interval(gamma, "gamma", 0, 1, closed="right")
    return base_lr * gamma ** (step // step_size)


def cosine_decay(step: int, base_lr: float, total_steps: int, min_lr: float = 0.0) -> float:
    """Eq. (6.7): half a cosine from ``base_lr`` at step 0 to ``min_lr`` at ``total_steps``."""
    step = _check_step(step)
    base_lr = check_learning_rate(base_lr, "base_lr")
    total_steps = check_positive_int(total_steps, "total_steps")
    if not 0 <= min_lr <= base_lr:
        raise ValueError(f"min_lr must be in [0, base_lr={base_lr}]; got {min_lr}")
    t = min(step, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t / total_steps)) / 2


def warmup_cosine(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    """Eq. (6.8): linear warmup over ``warmup_steps`` (0 = none), then cosine decay to ``min_lr``."""
    step = _check_step(step)
    warmup_steps, total_steps = check_schedule(warmup_steps, total_steps)
    if step < warmup_steps:
        return check_learning_rate(base_lr, "base_lr") * (step + 1) / warmup_steps
    return cosine_decay(step - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)


def warmup_linear_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """eta_t / eta_base of Eq. (11.6) at optimizer step ``step`` (0-based); 0 from ``total_steps`` on."""
    step = _check_step(step)
    warmup_steps, total_steps = check_schedule(warmup_steps, total_steps)
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    return max(0.0, (total_steps - step) / (total_steps - warmup_steps))


def warmup_linear_lr(step: int, base_lr: float, warmup_steps: int, total_steps: int) -> float:
    """Eq. (11.6): the learning rate at ``step`` for peak rate ``base_lr``."""
    return check_learning_rate(base_lr, "base_lr") * warmup_linear_factor(step, warmup_steps, total_steps)


def warmup_linear_scheduler(optimizer, warmup_steps: int, total_steps: int):
    """A ``torch.optim.lr_scheduler.LambdaLR`` following Eq. (11.6); call ``.step()`` after each update."""
    import torch

    warmup_steps, total_steps = check_schedule(warmup_steps, total_steps)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_linear_factor(step, warmup_steps, total_steps)
    )


def warmup_steps_for(total_steps: int, fraction: float) -> int:
    """round(fraction * total_steps) warmup steps, at least 1 when fraction > 0, and fewer than total_steps."""
    total_steps = check_positive_int(total_steps, "total_steps")
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"warmup fraction must lie in [0, 1); got {fraction}")
    if fraction == 0.0:
        return 0
    return min(max(1, round(fraction * total_steps)), total_steps - 1)
