"""Timing helpers of the benchmark harness (book chapter 13).

A benchmark times a callable: a few warm-up calls (first calls pay for memory
allocation, kernel selection and, with ``torch.compile``, compilation), then
``repeats`` timed calls, reported as the median, which a burst of load from
another process on a shared machine moves less than the mean. On a GPU the
work is asynchronous, so the device is synchronised before each clock read.
"""

from __future__ import annotations

import statistics
import time

from companion.checks import check_positive_int


def _sync(device):
    if device is not None and getattr(device, "type", str(device)) == "cuda":
        import torch

        torch.cuda.synchronize(device)


def time_callable(fn, *, warmup: int = 2, repeats: int = 5, device=None) -> dict:
    """Median, minimum and all timings (seconds) of ``fn()`` after ``warmup`` untimed calls."""
    if not callable(fn):
        raise TypeError(f"fn must be callable; got {type(fn).__name__}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative int; got {warmup!r}")
    repeats = check_positive_int(repeats, "repeats")
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "times_s": times}


def time_pair(step_a, step_b, warmup: int, rounds: int, per_round: int):
    """Median seconds of two steps timed in alternating rounds (a burst of load hits both)."""
    for _ in range(warmup):
        step_a()
        step_b()
    times_a, times_b = [], []
    for _ in range(rounds):
        for step, times in ((step_a, times_a), (step_b, times_b)):
            for _ in range(per_round):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
    return statistics.median(times_a), statistics.median(times_b)
