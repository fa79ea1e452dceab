"""One check of right-censored survival data (book chapter 19, Section "Censored times").

A study follows patient i until time T_i: either the event happened then
(event_i = 1) or follow-up stopped without it (event_i = 0, *censored*: the
event time is only known to exceed T_i). Every function of
:mod:`companion.survival` takes the pair (time, event) through
:func:`check_survival`.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array


def check_survival(time, event, *, need_event: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(time, event)`` as float64 and bool arrays of one length, or raise.

    ``time`` must be finite and non-negative; ``event`` must hold only 0/1 or
    booleans. With ``need_event`` at least one event must be observed (no
    likelihood or curve can be estimated from censored times alone).
    """
    time = as_float_array(time, "time", ndim=1).astype(np.float64)
    if time.size == 0:
        raise ValueError("time must hold at least one follow-up time; got an empty array")
    if np.any(time < 0):
        raise ValueError(f"time must be non-negative; got minimum {time.min()}")
    raw = np.asarray(event)
    if raw.ndim != 1:
        raise ValueError(f"event must have 1 dimension(s); got shape {raw.shape}")
    if raw.dtype == object or not (raw.dtype == bool or np.issubdtype(raw.dtype, np.number)):
        raise TypeError(f"event must be 0/1 or boolean; got dtype {raw.dtype}")
    if raw.dtype != bool and not np.all(np.isin(raw, (0, 1))):
        bad = np.unique(raw[~np.isin(raw, (0, 1))])[:5]
        raise ValueError(
            f"event must hold only 0 (censored) and 1 (event); got values {bad.tolist()}"
        )
    if len(raw) != len(time):
        raise ValueError(
            f"time and event must have the same length; got {len(time)} and {len(raw)}"
        )
    event = raw.astype(bool)
    if need_event and not event.any():
        raise ValueError(
            "event must contain at least one observed event (1); every time is censored"
        )
    return time, event
