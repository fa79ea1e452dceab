"""The Kaplan-Meier product-limit estimate of a survival curve (book chapter 19, Eqs. (19.4)-(19.5)).

At each distinct event time t_j, n_j patients are still at risk (their time is
t_j or later) and d_j of them have the event. The chance of surviving t_j given
survival to just before it is estimated by 1 - d_j / n_j, and the survival
curve is the product of these factors, Eq. (19.4):

    S(t) = prod_{t_j <= t} (1 - d_j / n_j).

A censored patient counts in every n_j up to its time and then leaves; it never
counts as an event. Greenwood's formula, Eq. (19.5), estimates the variance:

    Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (n_j (n_j - d_j)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import as_float_array
from companion.survival.data import check_survival


@dataclass(frozen=True)
class KaplanMeier:
    """The curve at its distinct event times: ``survival[j]`` holds on [times[j], times[j + 1])."""

    times: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    survival: np.ndarray
    variance: np.ndarray

    def at(self, t) -> np.ndarray:
        """S(t) for each t (1 before the first event time): the curve as a step function."""
        t = as_float_array(t, "t")
        index = np.searchsorted(self.times, t, side="right")
        return np.concatenate([[1.0], self.survival])[index]

    def median(self) -> float:
        """The first time at which S(t) <= 0.5, or inf when the curve never gets there."""
        below = np.flatnonzero(self.survival <= 0.5)
        return float(self.times[below[0]]) if below.size else float("inf")


def kaplan_meier(time, event) -> KaplanMeier:
    """Eq. (19.4) and Greenwood's variance Eq. (19.5) from right-censored ``(time, event)``."""
    time, event = check_survival(time, event)
    times = np.unique(time[event])
    at_risk = len(time) - np.searchsorted(np.sort(time), times, side="left")
    events = np.array([np.count_nonzero(event & (time == t)) for t in times])
    factors = 1.0 - events / at_risk
    survival = np.cumprod(factors)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(at_risk > events, events / (at_risk * (at_risk - events)), np.inf)
        # once every patient at risk has had the event, S = 0 and so is its variance
        variance = np.where(survival == 0, 0.0, survival**2 * np.cumsum(terms))
    return KaplanMeier(times, at_risk, events, survival, variance)
