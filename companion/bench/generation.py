"""What batching does for text generation: decoding-step costs and three schedules, measured (chapter 16).

:func:`decode_step_costs` times one decoding step of a GPT with its key/value cache (chapter 12),
as ``generate`` runs it, at several batch sizes and fits ``c(b) = c_0 + b c_1`` (Eq. (16.5)).

:func:`compare_schedules` serves a workload of generation requests of different lengths three
ways and reports, for each, the useful tokens per second and the mean time until a request is
complete (all requests present at time 0):

* one request at a time (``generate`` on a batch of one), measured;
* static batching, groups of ``slots`` requests each run to its longest member, measured
  with ``generate`` on the group's prompts, Eq. (16.7);
* continuous batching, computed with :func:`companion.serving.scheduling.continuous_batching_schedule`
  from the fitted step cost, because the cache of this book's GPT keeps one length for all the
  rows of a batch and so cannot hold sequences that joined at different steps.

The two measured schedules are also predicted from the same step cost, which checks the model
of the cost before it is trusted for the third. Both functions print nothing.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from companion.bench.serving import fit_batch_cost
from companion.checks import check_positive_int


def decode_step_costs(model, *, batch_sizes=(1, 4, 16, 64), prompt_len: int = 16, new_tokens: int = 96,
                      runs: int = 3) -> dict:
    """Seconds per decoding step of ``generate`` at each batch size, and the fit of Eq. (16.5).

    A step as ``generate`` runs it: the cached forward pass of one token per row, the choice of
    the next token and the bookkeeping. Timing ``new_tokens`` steps and one step after the same
    prefill, and dividing the difference by ``new_tokens - 1``, leaves the prefill out; the
    context grows from ``prompt_len`` to ``prompt_len + new_tokens`` on the way, as in a real
    request. The figure is the median over ``runs``.
    """
    import torch

    from companion.generation.generate import generate

    runs, prompt_len = check_positive_int(runs, "runs"), check_positive_int(prompt_len, "prompt_len")
    new_tokens = check_positive_int(new_tokens, "new_tokens")
    if new_tokens < 2 or prompt_len + new_tokens > model.config.max_len:
        raise ValueError(f"need 2 <= new_tokens and prompt_len + new_tokens <= max_len {model.config.max_len}; "
                         f"got {prompt_len} + {new_tokens}")
    generator = torch.Generator().manual_seed(0)
    medians = {}
    with torch.inference_mode():
        for batch_size in batch_sizes:
            batch_size = check_positive_int(batch_size, "batch_size")
            per_step = []
            generate(model, torch.randint(2, model.config.vocab_size, (batch_size, prompt_len)), new_tokens)  # warm-up
            for _ in range(runs):
                ids = torch.randint(2, model.config.vocab_size, (batch_size, prompt_len), generator=generator)
                began = time.perf_counter()
                generate(model, ids, 1)
                one = time.perf_counter() - began
                began = time.perf_counter()
                generate(model, ids, new_tokens)
                per_step.append((time.perf_counter() - began - one) / (new_tokens - 1))
            medians[batch_size] = statistics.median(per_step)
    fit = fit_batch_cost(list(medians), list(medians.values()))
    return {"step_ms": {b: 1e3 * s for b, s in medians.items()}, **fit, "prompt_len": prompt_len,
            "new_tokens": new_tokens, "runs": runs}


def workload_lengths(n_requests: int = 64, low: int = 8, high: int = 112, seed: int = 0) -> list[int]:
    """Requested new tokens per request: uniform integers in [low, high], seeded."""
    n_requests = check_positive_int(n_requests, "n_requests")
    if not 1 <= low <= high:
        raise ValueError(f"need 1 <= low <= high; got low={low}, high={high}")
    return np.random.default_rng(seed).integers(low, high + 1, size=n_requests).tolist()


def _summary(done_s: np.ndarray, lengths) -> dict:
    return {"seconds": float(done_s.max()), "tokens_per_s": float(sum(lengths) / done_s.max()),
            "mean_completion_s": float(done_s.mean())}


def compare_schedules(model, lengths, *, slots: int = 16, prompt_len: int = 16, step_cost: dict | None = None) -> dict:
    """One at a time and static batching measured; all three schedules predicted from ``step_cost``.

    ``step_cost`` is a result of :func:`decode_step_costs` (measured here when not given); a step
    of ``b`` rows costs its measured time, interpolated linearly between the batch sizes measured.
    """
    import torch

    from companion.generation.generate import generate
    from companion.serving.scheduling import continuous_batching_schedule, static_batching_schedule

    lengths = [check_positive_int(n, "length") for n in lengths]
    slots = check_positive_int(slots, "slots")
    if prompt_len + max(lengths) > model.config.max_len:
        raise ValueError(f"prompt_len + the longest request = {prompt_len + max(lengths)} exceeds the model's "
                         f"max_len {model.config.max_len}")
    step_cost = step_cost if step_cost is not None else decode_step_costs(model, prompt_len=prompt_len)
    sizes = sorted(int(b) for b in step_cost["step_ms"])
    seconds = [step_cost["step_ms"][b] / 1e3 for b in sizes]

    def cost(b):  # the measured step times, linear between the batch sizes measured
        return float(np.interp(b, sizes, seconds))

    prompts = torch.randint(2, model.config.vocab_size, (len(lengths), prompt_len),
                            generator=torch.Generator().manual_seed(1))
    measured = {}
    with torch.inference_mode():
        done, began = np.empty(len(lengths)), time.perf_counter()
        for index, length in enumerate(lengths):
            generate(model, prompts[index : index + 1], length)
            done[index] = time.perf_counter() - began
        measured["one at a time"] = _summary(done, lengths)
        done, began = np.empty(len(lengths)), time.perf_counter()
        for start in range(0, len(lengths), slots):
            group = lengths[start : start + slots]
            generate(model, prompts[start : start + len(group)], max(group))
            done[start : start + len(group)] = time.perf_counter() - began
        measured["static batching"] = _summary(done, lengths)
    predicted = {"one at a time": _summary(np.cumsum([n * cost(1) for n in lengths]), lengths),
                 "static batching": _summary(static_batching_schedule(lengths, slots, cost), lengths),
                 "continuous batching": _summary(continuous_batching_schedule(lengths, slots, cost), lengths)}
    return {"requests": len(lengths), "tokens": int(sum(lengths)), "slots": slots, "prompt_len": prompt_len,
            "step_cost": step_cost, "measured": measured, "predicted": predicted}
