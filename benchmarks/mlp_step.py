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

Book chapter 3 quotes the committed results file.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ARCHITECTURES = ([64, 128, 10], [784, 256, 256, 10], [784, 1024, 1024, 10])
BATCHES = (32, 256, 1024)
RESULTS = Path(__file__).resolve().parent / "results" / "mlp_step_cpu.md"
LR = 0.01


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS pool size unknown (threadpoolctl not installed)"
    pools = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    pools = [info for info in pools if "numpy" in info.get("filepath", "")] or pools
    if not pools:
        return "BLAS unknown"
    info = pools[0]
    return f"{info.get('internal_api')} {info.get('version')}, {info.get('num_threads')} thread(s)"


def blas_threads() -> int | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    return pools[0].get("num_threads") if pools else None


class thread_limit:
    """Limit NumPy's BLAS pool (via threadpoolctl, when installed) and PyTorch to ``n`` threads."""

    def __init__(self, n: int):
        self.n = n

    def __enter__(self):
        import torch

        self._torch = torch.get_num_threads()
        torch.set_num_threads(self.n)
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            self._limits = None
        else:
            self._limits = threadpool_limits(limits=self.n, user_api="blas")
        return self

    def __exit__(self, *exc):
        import torch

        if self._limits is not None:
            self._limits.restore_original_limits()
        torch.set_num_threads(self._torch)  # after threadpoolctl, which may touch the OpenMP pool
        return False


def numpy_stepper(sizes, batch, rng):
    from companion.nn import MLP
    from companion.train import sgd_step

    model = MLP(sizes, "relu", rng=rng, dtype=np.float32)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    params = model.params()

    def step():
        model.loss_and_grad(X, y)
        sgd_step(params, model.grads(), LR)

    return model, X, y, step


def torch_stepper(model, X, y):
    import torch
    import torch.nn.functional as F

    layers = []
    for index, (W, b) in enumerate(model.to_params()):
        linear = torch.nn.Linear(W.shape[0], W.shape[1])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T.copy()))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if index < len(model.dense_layers) - 1:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    optimizer = torch.optim.SGD(net.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(net(Xt), yt).backward()
        optimizer.step()

    return step


def time_pair(step_a, step_b, warmup: int, rounds: int, per_round: int):
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; print only, write nothing")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    parser.add_argument("--note", default="", help="a line to add to the results, e.g. how busy the machine was")
    parser.add_argument("--threads", type=int, default=None, help="thread count of the first pass (default: PyTorch's)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import torch

    warmup, rounds, per_round = (2, 3, 3) if args.quick else (5, 8, 5)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    load_before = os.getloadavg()

    torch_default, blas_default = torch.get_num_threads(), blas_description()  # before any limit is set
    default_threads = args.threads or torch_default
    thread_counts = [default_threads] + ([1] if default_threads != 1 else [])
    numpy_default = blas_threads()
    rows = []
    for threads in thread_counts:
        with thread_limit(threads):
            for sizes in ARCHITECTURES:
                for batch in BATCHES:
                    model, X, y, numpy_step = numpy_stepper(sizes, batch, rng)
                    torch_step = torch_stepper(model, X, y)
                    t_numpy, t_torch = time_pair(numpy_step, torch_step, warmup, rounds, per_round)
                    arch = "-".join(map(str, sizes))
                    rows.append((threads, arch, batch, t_numpy * 1e3, t_torch * 1e3, t_numpy / t_torch))
                    print(f"  {threads} thread(s) {arch:>16} batch {batch:>5}: NumPy {t_numpy * 1e3:9.3f} ms, "
                          f"PyTorch {t_torch * 1e3:9.3f} ms", file=sys.stderr)
    load_after = os.getloadavg()

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
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
