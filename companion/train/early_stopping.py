"""Early stopping on a validation metric (book chapter 6).

Training stops once the monitored value has failed to improve by more than
``min_delta`` for ``patience`` consecutive evaluations; the model to keep is
the one from ``best_step``.
"""

from __future__ import annotations

import math

from companion.checks import check_positive_int


class EarlyStopping:
    """Track a validation metric and say when to stop.

    Args:
        patience: evaluations without improvement before stopping (positive int).
        min_delta: how much better than the best so far counts as an improvement (>= 0).
        mode: ``"min"`` for a loss, ``"max"`` for an accuracy.
    """

    def __init__(self, patience: int, min_delta: float = 0.0, mode: str = "min"):
        self.patience = check_positive_int(patience, "patience")
        if not (isinstance(min_delta, (int, float)) and min_delta >= 0):
            raise ValueError(f"min_delta must be a number >= 0; got {min_delta!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max'; got {mode!r}")
        self.min_delta = float(min_delta)
        self.mode = mode
        self.best_value = math.inf if mode == "min" else -math.inf
        self.best_step = None
        self.bad_evaluations = 0
        self.step = -1

    def update(self, value: float) -> bool:
        """Record the next evaluation; return True when training should stop."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"the monitored value must be finite; got {value}")
        self.step += 1
        improved = (
            value < self.best_value - self.min_delta if self.mode == "min" else value > self.best_value + self.min_delta
        )
        if improved:
            self.best_value, self.best_step, self.bad_evaluations = value, self.step, 0
        else:
            self.bad_evaluations += 1
        return self.bad_evaluations >= self.patience
