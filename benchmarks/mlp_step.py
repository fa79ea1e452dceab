"""Time one training step of the same MLP in NumPy (companion.nn.MLP) and in PyTorch, on the CPU.

A step is: forward pass, softmax cross-entropy loss, backward pass, plain SGD
update. Both frameworks run in float32 with the same initial weights, first
each with the threads it uses by default on this machine (NumPy: its BLAS pool;
PyTorch: ``torch.get_num_threads()``), then both limited to one thread (the
single-thread rows are also the steadier ones on a machine shared with other
work, where multi-threaded BLAS calls can stall waiting for a busy core). Each configuration is warmed up, then timed in
alternating rounds (NumPy steps, then PyTorch steps, repeated) so that a burst
of load from another process hits both; the table reports medians.

Usage:
    python benchmarks/mlp_step.py                 # full run, writes benchmarks/results/mlp_step_cpu.md
    python benchmarks/mlp_step.py --quick         # fewer repeats, prints only
    python benchmarks/mlp_step.py --output FILE   # write the table elsewhere
    python benchmarks/mlp_step.py --threads 4     # default thread count to use instead of the machine's

Book chapter 3 quotes the committed results file. The timing code lives in
companion/bench/mlp.py, which the chapter-13 harness (`python -m companion bench`) also runs.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from companion.bench.machine import cpu_model  # noqa: E402
from companion.bench.mlp import blas_description, blas_threads, mlp_benchmark  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "mlp_step_cpu.md"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; print only, write nothing")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--note", default="", help="a line to add to the results, e.g. how busy the machine was")
    parser.add_argument("--threads", type=int, default=None, help="thread count of the first pass (default: PyTorch's)")
    args = parser.parse_args(argv)

    import torch

    warmup, rounds, per_round = (2, 3, 3) if args.quick else (5, 8, 5)
    load_before = os.getloadavg()

    torch_default, blas_default = torch.get_num_threads(), blas_description()  # before any limit is set
    default_threads = args.threads or torch_default
    thread_counts = [default_threads] + ([1] if default_threads != 1 else [])
    numpy_default = blas_threads()
    rows = [
        (r["threads"], r["architecture"], r["batch"], r["numpy_ms"], r["torch_ms"], r["numpy_over_torch"])
        for r in mlp_benchmark(thread_counts=thread_counts, warmup=warmup, rounds=rounds, per_round=per_round,
                               progress=lambda line: print("  " + line, file=sys.stderr))
    ]
    load_after = os.getloadavg()

    from companion.bench.machine import available_cores

    cores = available_cores()
    lines = [
        "# One training step of an MLP on the CPU: NumPy versus PyTorch",
        "",
        "Produced by `python benchmarks/mlp_step.py`. A step is forward pass, softmax cross-entropy,",
        "backward pass and a plain SGD update, in float32, ReLU hidden layers, same initial weights.",
        f"Times are medians of {rounds * per_round} steps per framework after {warmup} warm-up steps,",
        "taken in alternating rounds. Ratio > 1 means NumPy is slower.",
        "",
        f"- date (UTC): {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M')}",
        f"- CPU: {cpu_model()}; {cores} core(s) available to this process (os.cpu_count() = {os.cpu_count()})",
        f"- Python {platform.python_version()} on {platform.system()} {platform.machine()}",
        f"- NumPy {np.__version__} ({blas_default} by default)",
        f"- PyTorch {torch.__version__} ({torch_default} intra-op thread(s) by default)",
        f"- thread counts timed: {', '.join(map(str, thread_counts))} (both libraries limited alike; NumPy's BLAS "
        f"pool {'limited with threadpoolctl' if numpy_default is not None else 'NOT limited: threadpoolctl missing'})",
        f"- load average (1 min) before / after: {load_before[0]:.2f} / {load_after[0]:.2f}",
    ]
    if args.note:
        lines.append(f"- note: {args.note}")
    lines += [
        "",
        "| architecture | batch | threads | NumPy ms/step | PyTorch ms/step | NumPy / PyTorch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {arch} | {batch} | {threads} | {tn:.3f} | {tt:.3f} | {ratio:.2f} |"
        for threads, arch, batch, tn, tt, ratio in rows
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    if not args.quick:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(table, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
