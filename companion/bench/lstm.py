"""Training-step throughput of a PyTorch LSTM (book chapters 8 and 13).

One step: ``torch.nn.LSTM`` over a (batch, seq_len, input_size) batch of
random inputs, a linear layer on the last hidden state, cross-entropy, backward
pass and an SGD update. The rows report milliseconds per step and tokens
(sequence positions) per second. The recurrence runs its time steps one after
the other, so unlike the Transformer's a larger sequence does not give the
hardware more independent work per step.
"""

from __future__ import annotations

from companion.bench.timing import time_callable
from companion.checks import check_positive_int

QUICK_SHAPES = ((8, 16, 32, 32),)
FULL_SHAPES = ((32, 64, 64, 128), (64, 128, 128, 256))


def _lstm_step(batch: int, seq_len: int, input_size: int, hidden_size: int, *, device=None, seed: int = 0):
    """Build an LSTM classifier on random data; return a closure doing one SGD training step."""
    import torch
    import torch.nn.functional as F

    from companion.device import get_device

    for value, name in ((batch, "batch"), (seq_len, "seq_len"), (input_size, "input_size"),
                        (hidden_size, "hidden_size")):
        check_positive_int(value, name)
    device = torch.device(device) if device is not None else get_device()
    generator = torch.Generator().manual_seed(seed)
    lstm = torch.nn.LSTM(input_size, hidden_size, batch_first=True).to(device)
    head = torch.nn.Linear(hidden_size, 2).to(device)
    params = list(lstm.parameters()) + list(head.parameters())
    optimizer = torch.optim.SGD(params, lr=0.01)
    x = torch.randn(batch, seq_len, input_size, generator=generator).to(device)
    y = torch.randint(0, 2, (batch,), generator=generator).to(device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        _, (h, _) = lstm(x)
        F.cross_entropy(head(h[-1]), y).backward()
        optimizer.step()

    return step


def lstm_benchmark(shapes=FULL_SHAPES, *, device=None, warmup: int = 2, repeats: int = 5, progress=None) -> list[dict]:
    """One row per (batch, seq_len, input_size, hidden_size): ms per step and tokens per second."""
    import torch

    from companion.device import get_device

    device = torch.device(device) if device is not None else get_device()
    rows = []
    for batch, seq_len, input_size, hidden_size in shapes:
        step = _lstm_step(batch, seq_len, input_size, hidden_size, device=device)
        timing = time_callable(step, warmup=warmup, repeats=repeats, device=device)
        seconds = timing["median_s"]
        row = {"batch": batch, "seq_len": seq_len, "input_size": input_size, "hidden_size": hidden_size,
               "device": device.type, "ms_per_step": seconds * 1e3, "tokens_per_s": batch * seq_len / seconds}
        rows.append(row)
        if progress is not None:
            progress(f"lstm batch {batch} T {seq_len} hidden {hidden_size}: {row['ms_per_step']:.2f} ms/step")
    return rows
