"""Benchmark: written-out attention versus ``scaled_dot_product_attention`` (book chapter 9).

For each sequence length T it times, on the same random (B, H, T, D_h) queries,
keys and values,

- the written-out path, :func:`companion.attention.torch_attention.written_out_attention`,
  which materialises the (B, H, T, T) score and weight matrices of Eqs. (9.2)-(9.3), and
- ``torch.nn.functional.scaled_dot_product_attention`` (SDPA), which may use a fused
  kernel that never stores the whole (T, T) matrix,

and measures how much extra memory each call needs at its peak. The cost
count of Eq. (9.8), B H T^2 entries per score matrix, is reported beside it.

Timing: on CUDA with ``torch.cuda.Event`` pairs after a synchronise; elsewhere with
``time.perf_counter``; the median of ``repeats`` calls after one warm-up call,
the two paths alternating so that a burst of load from another process hits both.

Peak memory: on CUDA, ``torch.cuda.max_memory_allocated`` after
``reset_peak_memory_stats``, minus what was allocated before the call. On Linux CPUs,
the growth of the process's peak resident set size (``VmHWM`` in
``/proc/self/status``, reset through ``/proc/self/clear_refs`` after returning freed
heap memory with ``malloc_trim``); that includes everything the call touched, so it is
an upper bound on the call's own tensors. Elsewhere the memory columns are None.

The function returns rows and never prints; ``benchmarks/attention.py`` prints and saves them.
"""

from __future__ import annotations

import functools
import statistics
import time

DEFAULT_SEQ_LENS = (128, 256, 512, 1024, 2048, 4096)
QUICK_SEQ_LENS = (64, 128, 256)
_MIB = 2**20


def _linux_peak_rss_reader():
    """Return a function measuring the peak-RSS growth of a call in MiB, or None where unsupported.

    ``companion.scaling.measure.peak_process_bytes`` does the measuring; glibc's
    ``malloc_trim(0)`` first hands freed heap back to the system, so that memory
    left over from the previous call cannot hide this call's growth.
    """
    import ctypes
    import ctypes.util
    import sys

    from companion.scaling.measure import peak_process_bytes

    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None

    def measure(fn):
        trim(0)
        grown, _, _ = peak_process_bytes(fn)
        return max(grown, 0) / _MIB

    if peak_process_bytes(lambda: None)[0] is None:
        return None
    return measure


def _cuda_peak_reader(torch, device):
    from companion.scaling.measure import peak_cuda_bytes

    def measure(fn):
        return peak_cuda_bytes(fn, device=device)[0] / _MIB

    return measure


def _timer(torch, device):
    if device.type == "cuda":
        def time_ms(fn):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize(device)
            start.record()
            fn()
            end.record()
            torch.cuda.synchronize(device)
            return start.elapsed_time(end)
    else:
        def time_ms(fn):
            start = time.perf_counter()
            fn()
            return (time.perf_counter() - start) * 1e3
    return time_ms


def attention_benchmark(seq_lens=None, *, batch: int = 1, heads: int = 8, head_dim: int = 64, device=None,
                        dtype=None, repeats: int | None = None, causal: bool = False,
                        quick: bool = False) -> list[dict]:
    """Time and measure the written-out path against SDPA for each sequence length.

    Args:
        seq_lens: sequence lengths T (queries = keys = T). Default ``DEFAULT_SEQ_LENS``
            (``QUICK_SEQ_LENS`` when ``quick``).
        batch, heads, head_dim: B, H, D_h of the (B, H, T, D_h) inputs.
        device: a torch device; default ``companion.get_device()``.
        dtype: default float16 on CUDA (where the fused kernels need it), float32 elsewhere.
        repeats: timed calls per path and length (median reported); default 5 (2 when ``quick``).
        causal: benchmark causal self-attention (``is_causal=True`` on both paths).
        quick: small lengths and few repeats, for tests and smoke runs.

    Returns:
        One dict per length with keys ``seq_len, batch, heads, head_dim, dtype, device, causal,
        written_out_ms, sdpa_ms, speedup`` (written-out time / SDPA time), ``score_matrix_mib``
        (B H T^2 entries of the dtype, Eq. (9.8)), ``written_out_peak_mib``, ``sdpa_peak_mib``
        (None where not measurable), ``memory_method`` and ``max_abs_diff`` between the two outputs.
    """
    import torch
    import torch.nn.functional as F

    from companion.attention.torch_attention import written_out_attention
    from companion.checks import check_positive_int
    from companion.device import get_device

    if seq_lens is None:
        seq_lens = QUICK_SEQ_LENS if quick else DEFAULT_SEQ_LENS
    seq_lens = tuple(check_positive_int(T, "seq_lens entry") for T in seq_lens)
    if not seq_lens:
        raise ValueError("seq_lens must hold at least one sequence length; got none")
    batch = check_positive_int(batch, "batch")
    heads = check_positive_int(heads, "heads")
    head_dim = check_positive_int(head_dim, "head_dim")
    repeats = check_positive_int(repeats if repeats is not None else (2 if quick else 5), "repeats")
    device = torch.device(device) if device is not None else get_device()
    if dtype is None:
        dtype = torch.float16 if device.type == "cuda" else torch.float32
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype; got {dtype!r}")

    if device.type == "cuda":
        peak_reader, method = _cuda_peak_reader(torch, device), "torch.cuda.max_memory_allocated"
    else:
        peak_reader = _linux_peak_rss_reader()
        method = "peak RSS growth (Linux /proc)" if peak_reader is not None else "not measured"
    time_ms = _timer(torch, device)
    generator = torch.Generator(device="cpu").manual_seed(0)
    element = torch.tensor([], dtype=dtype).element_size()

    rows = []
    with torch.inference_mode():
        for T in seq_lens:
            shape = (batch, heads, T, head_dim)
            q, k, v = (torch.randn(shape, generator=generator).to(device=device, dtype=dtype) for _ in range(3))

            written_out = functools.partial(written_out_attention, q, k, v, is_causal=causal)
            sdpa = functools.partial(F.scaled_dot_product_attention, q, k, v, is_causal=causal)

            diff = (written_out().float() - sdpa().float()).abs().max().item()  # also the warm-up call
            times = {"written_out": [], "sdpa": []}
            for _ in range(repeats):
                times["written_out"].append(time_ms(written_out))
                times["sdpa"].append(time_ms(sdpa))
            w_ms, s_ms = statistics.median(times["written_out"]), statistics.median(times["sdpa"])
            w_peak = s_peak = None
            if peak_reader is not None:
                w_peak, s_peak = peak_reader(written_out), peak_reader(sdpa)
            rows.append({
                "seq_len": T, "batch": batch, "heads": heads, "head_dim": head_dim,
                "dtype": str(dtype).replace("torch.", ""), "device": str(device), "causal": bool(causal),
                "written_out_ms": w_ms, "sdpa_ms": s_ms, "speedup": w_ms / s_ms if s_ms > 0 else float("nan"),
                "score_matrix_mib": batch * heads * T * T * element / _MIB,
                "written_out_peak_mib": w_peak, "sdpa_peak_mib": s_peak, "memory_method": method,
                "max_abs_diff": diff,
            })
            del written_out, sdpa, q, k, v  # free this length's tensors before the next one
    return rows
