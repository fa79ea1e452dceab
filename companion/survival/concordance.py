"""Harrell's concordance index of a risk score (book chapter 19, Eq. (19.10)).

A pair of patients is *comparable* when the one with the shorter time had the
event at that time (then we know who failed first). The pair is *concordant*
when that patient also has the higher risk score. Over all comparable pairs,

    C = (concordant + 0.5 * tied scores) / comparable,

so C = 0.5 for a random score and 1 for a perfect ranking: the area under the
ROC curve of chapter 5, generalised to censored times. Two patients with the
same time are comparable when only one of them had the event (the other was
still event-free at that time), as in Harrell's definition and lifelines.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array
from companion.survival.data import check_survival


def concordance_index(time, event, risk) -> float:
    """Eq. (19.10): the fraction of comparable pairs that ``risk`` (higher = earlier event) orders rightly."""
    time, event = check_survival(time, event)
    risk = as_float_array(risk, "risk", ndim=1)
    if len(risk) != len(time):
        raise ValueError(f"risk must have one score per patient ({len(time)}); got {len(risk)}")
    earlier = (time[:, None] < time[None, :]) | ((time[:, None] == time[None, :]) & ~event[None, :])
    comparable = event[:, None] & earlier
    if not comparable.any():
        raise ValueError(
            "no comparable pair: at least one event must precede another patient's time"
        )
    difference = risk[:, None] - risk[None, :]
    concordant = np.count_nonzero(comparable & (difference > 0))
    tied = np.count_nonzero(comparable & (difference == 0))
    return float((concordant + 0.5 * tied) / np.count_nonzero(comparable))
