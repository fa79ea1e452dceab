"""One training step of the same MLP in NumPy (companion.nn.MLP) and in PyTorch, on the CPU.

A step is: forward pass, softmax cross-entropy loss, backward pass, plain SGD
update, in float32 with the same initial weights in both frameworks. Each
configuration is warmed up, then timed in alternating rounds (NumPy steps, then
PyTorch steps, repeated) so that a burst of load from another process hits
both; rows report medians. Thread counts are limited alike in both libraries
(NumPy's BLAS pool through threadpoolctl when it is installed).

Used by ``benchmarks/mlp_step.py`` (chapter 3's table) and by the chapter-13
harness (``python -m companion bench``).
"""

from __future__ import annotations

import numpy as np

from companion.bench.timing import time_pair

ARCHITECTURES = ((64, 128, 10), (784, 256, 256, 10), (784, 1024, 1024, 10))
BATCHES = (32, 256, 1024)
LR = 0.01


def blas_description() -> str:
    """NumPy's BLAS library, version and thread count (needs threadpoolctl)."""
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
    """Threads of the first BLAS pool, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    pools = [info for info in threadpool_info() if info.get("user_api") == "blas"]
    return pools[0].get("num_threads") if pools else None


class _thread_limit:
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


def _numpy_stepper(sizes, batch, rng):
    """A NumPy MLP, a batch of random data, and a closure doing one SGD training step."""
    from companion.nn import MLP
    from companion.train import sgd_step

    model = MLP(list(sizes), "relu", rng=rng, dtype=np.float32)
    X = rng.normal(size=(batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], size=batch)
    params = model.params()

    def step():
        model.loss_and_grad(X, y)
        sgd_step(params, model.grads(), LR)

    return model, X, y, step


def _torch_stepper(model, X, y):
    """A PyTorch copy of the NumPy ``model`` (same weights) and a closure doing one SGD step."""
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


def mlp_benchmark(architectures=ARCHITECTURES, batches=BATCHES, *, thread_counts=None, warmup: int = 5,
                  rounds: int = 8, per_round: int = 5, seed: int = 0, progress=None) -> list[dict]:
    """Time NumPy and PyTorch MLP training steps; one row per (threads, architecture, batch).

    Args:
        architectures: layer sizes, input first.
        batches: batch sizes.
        thread_counts: thread limits to time (default: PyTorch's default count, then 1).
        warmup, rounds, per_round: see :func:`companion.bench.timing.time_pair`.
        progress: optional callable receiving one line of text per row.

    Returns:
        Rows {"architecture", "batch", "threads", "numpy_ms", "torch_ms", "numpy_over_torch"}.
    """
    import torch

    # The data and weights come from this NumPy generator; the PyTorch models copy the NumPy
    # weights, so no global generator is seeded (and no deterministic-mode flag is set, which
    # could change what the later GPU benchmarks measure).
    rng = np.random.default_rng(seed)
    if thread_counts is None:
        default = torch.get_num_threads()
        thread_counts = [default] + ([1] if default != 1 else [])
    rows = []
    for threads in thread_counts:
        with _thread_limit(threads):
            for sizes in architectures:
                for batch in batches:
                    model, X, y, numpy_step = _numpy_stepper(sizes, batch, rng)
                    torch_step = _torch_stepper(model, X, y)
                    t_numpy, t_torch = time_pair(numpy_step, torch_step, warmup, rounds, per_round)
                    row = {"architecture": "-".join(map(str, sizes)), "batch": batch, "threads": threads,
                           "numpy_ms": t_numpy * 1e3, "torch_ms": t_torch * 1e3,
                           "numpy_over_torch": t_numpy / t_torch}
                    rows.append(row)
                    if progress is not None:
                        progress(f"mlp {threads} thread(s) {row['architecture']} batch {batch}: "
                                 f"NumPy {row['numpy_ms']:.3f} ms, PyTorch {row['torch_ms']:.3f} ms")
    return rows
