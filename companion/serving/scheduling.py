"""Static against continuous batching of generation requests, as schedules (book chapter 16).

A generation request of ``L`` new tokens needs ``L`` decoding steps. A server with ``slots``
places runs one batched step for all the sequences it holds; a step over ``b`` sequences
costs ``step_seconds(b)``, the batch cost of Eq. (16.5) measured for one decoding step.

* **Static batching** takes the next ``slots`` requests, runs steps until the longest of them
  is done, and only then takes the next group: a finished sequence keeps its place (and is
  computed as padding) until the whole group ends, Eq. (16.7).
* **Continuous batching** (iteration-level scheduling) refills a place as soon as its sequence
  finishes, so every step holds as many unfinished sequences as there are places or requests.

Both functions take the requests in the order given, all present at time 0 (an offline batch
or a queue that never runs dry), and return each request's completion time in seconds. Prefill
is not modelled: it is the same work in both schedules. A real continuous batcher also needs a
cache whose rows have different lengths; this module computes what the schedule gains, not how
the cache is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from companion.checks import check_positive_int


def _check(lengths: Sequence[int], slots: int, step_seconds: Callable[[int], float]) -> tuple[list[int], int]:
    values = list(lengths) if not isinstance(lengths, (str, bytes)) else None
    if not values or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 1
                             for n in values):
        raise ValueError(f"lengths must be a non-empty sequence of ints >= 1 (tokens per request); got {lengths!r}")
    if not callable(step_seconds):
        raise TypeError(f"step_seconds must be a callable b -> seconds; got {type(step_seconds).__name__}")
    return [int(n) for n in values], check_positive_int(slots, "slots")


def static_batching_schedule(lengths, slots: int, step_seconds: Callable[[int], float]) -> np.ndarray:
    """Completion times under static batching: groups of ``slots``, each run to its longest request.

    Every step of a group is computed for the whole group, so a group of ``g`` requests with
    longest length ``L_max`` takes ``L_max * step_seconds(g)`` (Eq. (16.7)); its requests all
    finish when it ends, since their answers leave together.
    """
    lengths, slots = _check(lengths, slots, step_seconds)
    done = np.empty(len(lengths))
    clock = 0.0
    for start in range(0, len(lengths), slots):
        group = lengths[start : start + slots]
        clock += max(group) * float(step_seconds(len(group)))
        done[start : start + len(group)] = clock
    return done


def continuous_batching_schedule(lengths, slots: int, step_seconds: Callable[[int], float]) -> np.ndarray:
    """Completion times under continuous batching: a finished request's place is refilled at once.

    Each step costs ``step_seconds(b)`` for the ``b`` unfinished requests it holds; a request
    finishes (and can be streamed out) at the end of its own last step.
    """
    lengths, slots = _check(lengths, slots, step_seconds)
    done = np.empty(len(lengths))
    remaining = {}  # request index -> steps left
    waiting = iter(range(len(lengths)))
    clock = 0.0
    while True:
        while len(remaining) < slots:
            index = next(waiting, None)
            if index is None:
                break
            remaining[index] = lengths[index]
        if not remaining:
            return done
        clock += float(step_seconds(len(remaining)))
        for index in list(remaining):
            remaining[index] -= 1
            if remaining[index] == 0:
                done[index] = clock
                del remaining[index]
