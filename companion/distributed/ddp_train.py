"""Training with DistributedDataParallel, as a ``torchrun`` entry point (book chapter 14).

Run it as, for example::

    torchrun --nproc_per_node 2 -m companion.distributed.ddp_train \\
        --data data.npz --model '{"kind": "mlp", "sizes": [64, 32, 10]}' \\
        --steps 20 --global-batch 64 --lr 0.01 --out losses.json

``torchrun`` starts one worker process per rank and gives each its ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and the rendezvous address in environment
variables. Each worker

1. joins the process group: NCCL when ``companion.get_device()`` is CUDA and
   there is one GPU per rank, gloo on the CPU otherwise (``--backend`` overrides);
2. builds the model from ``--model`` with the seed ``seed + rank`` -- on
   purpose a *different* initialisation on every rank -- and wraps it in
   ``DistributedDataParallel``, whose constructor broadcasts rank 0's weights
   and buffers to every rank (the JSON output records a parameter checksum per
   rank before and after the wrap);
3. takes, at every step, the same global batch of ``--global-batch``
   examples (a function of the step and the seed, :func:`batch_indices`), keeps
   its own contiguous shard of B / N examples, Eq. (14.2), and runs forward and
   backward on it. During ``backward()`` DDP all-reduces the gradients in
   buckets (about 25 MB each by default), starting a bucket's all-reduce as
   soon as all its gradients exist, so communication overlaps the rest of the
   backward pass; it divides the sum by N, giving the mean of Eq. (14.3);
4. steps the optimiser (every rank holds the same weights and the same
   averaged gradient, so every rank takes the same step), and all-reduces the
   shard losses so that rank 0 can log the mean loss of the global batch.

Rank 0 writes the per-step losses to ``--out`` as JSON. ``--schedule W T``
adds chapter 6's learning-rate schedule, Eq. (6.8): W warm-up steps, then a
cosine decay that ends at step T (the planned length of the run, which an
interrupted and resumed run shares), and
``--grad-scaler`` a ``torch.amp.GradScaler`` (loss scaling, chapter 13).
``--save-at`` and ``--checkpoint`` write a checkpoint
(:mod:`companion.distributed.checkpoint`, with every rank's RNG state and the
scheduler's and scaler's states) after that many steps; ``--resume`` continues
from one.

The same loop runs in a single process (:func:`train`, ``world_size=1``), so
the single-process run with the same global batch is the reference that the
DDP losses are compared with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from companion.checks import check_choice, check_in_interval, check_learning_rate, check_positive_int
from companion.distributed.data_parallel import check_rank, check_world_size, shard_bounds

MODEL_KINDS = ("mlp", "transformer")
OPTIMIZERS = ("adam", "sgd")
BACKENDS = ("auto", "gloo", "nccl")


# --- model and data -------------------------------------------------------------


def check_model_spec(spec) -> dict:
    """Validate a model description (a dict, or its JSON text); returns the dict.

    ``{"kind": "mlp", "sizes": [d_in, h_1, ..., n_classes], "dropout": 0.0}``: Linear/ReLU layers
    (dropout after each hidden ReLU when > 0);
    ``{"kind": "transformer", "config": {...TransformerConfig fields...}, "num_classes": 2}``:
    chapter 10's ``TransformerClassifier``.
    """
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as error:
            raise ValueError(f"model spec must be a dict or JSON text; got unparsable text ({error})") from None
    if not isinstance(spec, dict):
        raise TypeError(f"model spec must be a dict; got {type(spec).__name__}")
    kind = spec.get("kind")
    check_choice(kind, "model spec 'kind'", MODEL_KINDS)
    if kind == "mlp":
        sizes = spec.get("sizes")
        if not isinstance(sizes, (list, tuple)) or len(sizes) < 2:
            raise ValueError(f"an mlp spec needs 'sizes' [d_in, ..., n_classes] with at least 2 entries; got {sizes!r}")
        for size in sizes:
            check_positive_int(size, "mlp size")
        dropout = spec.get("dropout", 0.0)
        check_in_interval(dropout, "mlp 'dropout'", 0, 1)
    else:
        if not isinstance(spec.get("config"), dict):
            raise ValueError("a transformer spec needs a 'config' dict of TransformerConfig fields; "
                             f"got {spec.get('config')!r}")
        check_positive_int(spec.get("num_classes"), "num_classes")
    return dict(spec)


def build_model(spec, seed: int):
    """Build the model described by ``spec`` with weights drawn from ``seed``.

    The initialisation is a function of ``seed`` alone: the global PyTorch
    generator is seeded for the build and restored afterwards
    (``companion.seed.torch_seed_scope``), so building a model does not disturb
    the caller's random stream.
    """
    from torch import nn

    spec = check_model_spec(spec)
    from companion.seed import torch_seed_scope

    with torch_seed_scope(seed):
        if spec["kind"] == "mlp":
            sizes, dropout = spec["sizes"], float(spec.get("dropout", 0.0))
            layers = []
            for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
                layers.append(nn.Linear(d_in, d_out))
                if i < len(sizes) - 2:
                    layers.append(nn.ReLU())
                    if dropout > 0:
                        layers.append(nn.Dropout(dropout))
            return nn.Sequential(*layers)
        from companion.models.config import TransformerConfig
        from companion.models.transformer import TransformerClassifier

        return TransformerClassifier(TransformerConfig(**spec["config"]), int(spec["num_classes"]))


def batch_indices(n_examples, global_batch, step, seed) -> np.ndarray:
    """Indices of the global batch used at ``step``: epoch-wise shuffles that depend only on (seed, epoch).

    Epoch e is the permutation ``default_rng([seed, e]).permutation(n)`` cut
    into ``n // global_batch`` batches (a smaller last batch is dropped, so
    every batch splits evenly over the ranks). Because the order is a function
    of the step, a resumed run reads exactly the batches the interrupted run
    would have read, and every rank computes the same global batch without
    communicating.
    """
    n = check_positive_int(n_examples, "n_examples")
    b = check_positive_int(global_batch, "global_batch")
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
        raise ValueError(f"step must be an int >= 0; got {step!r}")
    if b > n:
        raise ValueError(f"global_batch must be at most the {n} training examples; got {b}")
    per_epoch = n // b
    epoch, position = divmod(int(step), per_epoch)
    order = np.random.default_rng([int(seed), epoch]).permutation(n)
    return order[position * b:(position + 1) * b]


def make_optimizer(name: str, parameters, lr: float):
    """``torch.optim.Adam`` or plain ``torch.optim.SGD`` with learning rate ``lr``."""
    import torch

    check_choice(name, "optimizer", OPTIMIZERS)
    lr = check_learning_rate(lr)
    cls = torch.optim.Adam if name == "adam" else torch.optim.SGD
    return cls(parameters, lr=lr)


def make_scheduler(optimizer, warmup_steps: int, total_steps: int):
    """``LambdaLR`` following chapter 6's warm-up and cosine decay, Eq. (6.8), from the optimiser's rate.

    Call ``.step()`` after every optimiser step; step t then trains at
    ``lr * warmup_cosine(t, 1, warmup_steps, total_steps)``.
    """
    import torch

    from companion.optim.schedules import warmup_cosine

    warmup_steps = check_positive_int(warmup_steps, "warmup_steps")
    total_steps = check_positive_int(total_steps, "total_steps")
    warmup_cosine(0, 1.0, warmup_steps, total_steps)  # the schedule's own checks (warmup < total)
    return torch.optim.lr_scheduler.LambdaLR(optimizer,
                                             lambda step: warmup_cosine(step, 1.0, warmup_steps, total_steps))


def _schedule(schedule) -> tuple[int, int]:
    if not isinstance(schedule, (tuple, list)) or len(schedule) != 2:
        raise ValueError(f"schedule must be a pair (warmup_steps, total_steps); got {schedule!r}")
    return int(schedule[0]), int(schedule[1])


def make_grad_scaler(device, options: dict | None = None):
    """``torch.amp.GradScaler`` for ``device``'s type, with ``options`` (init_scale, growth_interval, ...)."""
    import torch

    options = {} if options is None else options
    if not isinstance(options, dict):
        raise TypeError(f"grad scaler options must be a dict such as {{'init_scale': 256.0}}; "
                        f"got {type(options).__name__}")
    allowed = {"init_scale", "growth_factor", "backoff_factor", "growth_interval"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"grad scaler options must be among {sorted(allowed)}; got {unknown}")
    return torch.amp.GradScaler(torch.device(device).type, **options)


def _parameter_checksum(model) -> float:
    """Sum of all parameter entries (float64): equal on every rank exactly when the weights agree."""
    return float(sum(p.detach().double().sum() for p in model.parameters()))


# --- the training loop shared by one process and many ----------------------------


def train_steps(model, optimizer, x, y, *, steps, global_batch, seed, start_step=0, rank=0, world_size=1,
                device=None, checkpoint_path=None, save_at=None, model_for_checkpoint=None, scheduler=None,
                scaler=None) -> list[float]:
    """Run optimiser steps ``start_step .. steps - 1``; returns the mean loss of each global batch.

    On rank ``rank`` of ``world_size``, each step uses that rank's shard of the
    global batch, Eq. (14.2). With ``world_size > 1`` the model must be a
    ``DistributedDataParallel`` module (which averages the gradients, Eq. (14.3))
    and the shard losses are all-reduced into the global mean loss. A
    ``scaler`` (``torch.amp.GradScaler``) scales the loss before the backward
    pass and unscales the gradients (skipping the step if they overflowed); a
    ``scheduler`` is stepped after every optimiser step. When ``save_at`` is
    reached, a checkpoint is written to ``checkpoint_path`` by rank 0, holding
    every rank's RNG state and the scheduler's and scaler's states.
    """
    import torch
    import torch.nn.functional as F

    from companion.distributed.checkpoint import rng_state, save_checkpoint

    world_size = check_world_size(world_size)
    rank = check_rank(rank, world_size)
    steps = check_positive_int(steps, "steps")
    if not 0 <= start_step < steps:
        raise ValueError(f"start_step must lie in [0, steps={steps}); got {start_step}")
    if save_at is not None and checkpoint_path is None:
        raise ValueError("save_at needs a checkpoint_path; got None")
    lo, hi = shard_bounds(global_batch, world_size, rank)
    distributed = world_size > 1
    if distributed:
        import torch.distributed as dist
    losses = []
    for step in range(start_step, steps):
        idx = batch_indices(len(x), global_batch, step, seed)[lo:hi]
        xb = torch.as_tensor(x[idx]).to(device)
        yb = torch.as_tensor(y[idx]).to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(xb), yb)
        if scaler is None:
            loss.backward()  # under DDP: bucketed all-reduce of the gradients, overlapped with backward
            optimizer.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # unscales; skips the step when a gradient is inf or NaN
            scaler.update()
        if scheduler is not None:
            scheduler.step()
        logged = loss.detach()
        if distributed:
            logged = logged.clone()
            dist.all_reduce(logged, op=dist.ReduceOp.SUM)
            logged = logged / world_size
        losses.append(float(logged))
        if save_at is not None and step + 1 == save_at:
            states = [None] * world_size
            if distributed:
                dist.all_gather_object(states, rng_state())
            else:
                states = [rng_state()]
            if rank == 0:
                save_checkpoint(checkpoint_path, model_for_checkpoint or model, optimizer, step + 1,
                                scheduler=scheduler, scaler=scaler,
                                extra={"rng_per_rank": states, "world_size": world_size})
            if distributed:
                dist.barrier()
    return losses


def _resume(path, model, optimizer, rank: int, scheduler=None, scaler=None) -> int:
    from companion.distributed.checkpoint import load_checkpoint, set_rng_state

    info = load_checkpoint(path, model, optimizer, scheduler=scheduler, scaler=scaler, restore_rng=False)
    states = info["extra"].get("rng_per_rank", [])
    if rank < len(states):
        set_rng_state(states[rank])
    return info["step"]


def train(spec, x, y, *, steps, global_batch, lr, seed=0, optimizer="adam", device=None,
          checkpoint_path=None, save_at=None, resume=None, init_seed=None, schedule=None,
          grad_scaler=None) -> list[float]:
    """The single-process run: the same loop as one DDP rank with ``world_size=1``.

    Seeds the generators with ``companion.set_seed(seed)`` (NumPy and PyTorch,
    as a rank-0 worker does), builds the model from ``spec`` with
    ``init_seed`` (default ``seed``), and trains ``steps`` steps with global
    batches of ``global_batch``. ``schedule=(warmup_steps, total_steps)`` adds
    the warm-up and cosine schedule (:func:`make_scheduler`), planned over
    ``total_steps`` whatever ``steps`` is, so that a run stopped early follows
    the same rates as the whole run; ``grad_scaler``
    (a dict of ``GradScaler`` options, ``{}`` for the defaults) adds loss scaling.
    ``resume`` continues from a checkpoint (weights, optimiser, scheduler,
    scaler, step and RNG state); ``save_at`` / ``checkpoint_path`` write one.
    Returns the losses of the steps it ran.
    """
    from companion.device import get_device
    from companion.seed import set_seed

    device = get_device() if device is None else device
    set_seed(seed, frameworks=("numpy", "torch"))
    model = build_model(spec, seed if init_seed is None else init_seed).to(device)
    opt = make_optimizer(optimizer, model.parameters(), lr)
    scheduler = make_scheduler(opt, *_schedule(schedule)) if schedule is not None else None
    scaler = make_grad_scaler(device, grad_scaler) if grad_scaler is not None else None
    start = _resume(resume, model, opt, 0, scheduler, scaler) if resume is not None else 0
    return train_steps(model, opt, x, y, steps=steps, global_batch=global_batch, seed=seed, start_step=start,
                       device=device, checkpoint_path=checkpoint_path, save_at=save_at, scheduler=scheduler,
                       scaler=scaler)


# --- the torchrun entry point ------------------------------------------------------


def choose_backend(requested: str = "auto", local_rank: int = 0, world_size: int = 1,
                   local_world_size: int | None = None):
    """``(backend, device)`` for one worker.

    ``"auto"``: NCCL on ``cuda:local_rank`` when the book's device
    (``companion.get_device()``) is CUDA and this machine has one GPU for each of
    its ranks (NCCL cannot put two ranks on one GPU); gloo on the CPU otherwise.
    ``local_world_size`` is the number of ranks on this machine (torchrun's
    ``LOCAL_WORLD_SIZE``; on several nodes it is smaller than ``world_size``);
    it defaults to ``world_size``, one machine.
    """
    import torch

    from companion.device import get_device

    check_choice(requested, "backend", BACKENDS)
    ranks_here = world_size if local_world_size is None else local_world_size
    gpus = torch.cuda.device_count() if get_device().type == "cuda" else 0
    if requested == "auto":
        requested = "nccl" if gpus >= ranks_here else "gloo"
    if requested == "nccl":
        if gpus < ranks_here:
            raise ValueError(f"backend 'nccl' needs one CUDA GPU per rank on this machine: expected {ranks_here}, "
                             f"got {gpus} (use gloo)")
        torch.cuda.set_device(local_rank)
        return requested, torch.device("cuda", local_rank)
    return requested, torch.device("cpu")


def _load_arrays(path) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` from an ``.npz`` file with arrays ``x`` (features or token ids) and ``y`` (class ids)."""
    with np.load(path, allow_pickle=False) as data:
        missing = {"x", "y"} - set(data.files)
        if missing:
            raise ValueError(f"{path} must hold arrays 'x' and 'y'; got {sorted(data.files)}")
        x, y = data["x"], data["y"]
    if len(x) != len(y):
        raise ValueError(f"x and y must have one row per example; got {len(x)} and {len(y)}")
    return x, y.astype(np.int64)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m companion.distributed.ddp_train",
                                     description="Train with DistributedDataParallel (launch with torchrun).")
    parser.add_argument("--data", required=True, help=".npz file with arrays x and y")
    parser.add_argument("--model", required=True, help="model spec as JSON text (see check_model_spec)")
    parser.add_argument("--steps", type=int, required=True)
    parser.add_argument("--global-batch", type=int, required=True)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--backend", choices=BACKENDS, default="auto")
    parser.add_argument("--out", required=True, help="JSON file for the per-step losses (written by rank 0)")
    parser.add_argument("--checkpoint", default=None, help="checkpoint file to write at --save-at")
    parser.add_argument("--save-at", type=int, default=None)
    parser.add_argument("--resume", default=None, help="checkpoint file to resume from")
    parser.add_argument("--schedule", type=int, nargs=2, default=None, metavar=("WARMUP", "TOTAL"),
                        help="warm-up and cosine learning-rate schedule ending at step TOTAL (Eq. 6.8)")
    parser.add_argument("--grad-scaler", default=None,
                        help="GradScaler options as JSON text, e.g. '{\"init_scale\": 256}' ('{}': defaults)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    """Entry point of one worker; returns the exit status."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from companion.seed import set_seed

    args = parse_args(argv)
    rank = int(os.environ.get("RANK", "0"))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    shard_bounds(args.global_batch, world_size, rank)  # fail early, with the sizes, on an uneven split
    spec = check_model_spec(args.model)
    x, y = _load_arrays(args.data)
    local_world_size = int(os.environ.get("LOCAL_WORLD_SIZE", str(world_size)))  # ranks on this node
    backend, device = choose_backend(args.backend, local_rank, world_size, local_world_size)
    dist.init_process_group(backend, rank=rank, world_size=world_size)
    try:
        set_seed(args.seed + rank, frameworks=("numpy", "torch"))  # each rank its own stream (dropout)
        model = build_model(spec, args.seed + rank).to(device)  # deliberately different on every rank
        before = _parameter_checksum(model)
        ddp = DistributedDataParallel(model, device_ids=[local_rank] if device.type == "cuda" else None)
        after = _parameter_checksum(model)  # the constructor broadcast rank 0's weights
        optimizer = make_optimizer(args.optimizer, ddp.parameters(), args.lr)
        scheduler = make_scheduler(optimizer, *args.schedule) if args.schedule else None
        scaler = make_grad_scaler(device, json.loads(args.grad_scaler)) if args.grad_scaler is not None else None
        start = _resume(args.resume, model, optimizer, rank, scheduler, scaler) if args.resume else 0
        began = time.perf_counter()
        losses = train_steps(ddp, optimizer, x, y, steps=args.steps, global_batch=args.global_batch, seed=args.seed,
                             start_step=start, rank=rank, world_size=world_size, device=device,
                             checkpoint_path=args.checkpoint, save_at=args.save_at, model_for_checkpoint=model,
                             scheduler=scheduler, scaler=scaler)
        seconds = time.perf_counter() - began
        checksums = [None] * world_size
        dist.all_gather_object(checksums, (before, after, _parameter_checksum(model)))
        if rank == 0:
            result = {
                "losses": losses, "start_step": start, "world_size": world_size, "backend": backend,
                "device": str(device), "global_batch": args.global_batch,
                "checksum_before_wrap": [c[0] for c in checksums],
                "checksum_after_wrap": [c[1] for c in checksums],
                "checksum_final": [c[2] for c in checksums],
                "train_seconds": seconds,
            }
            Path(args.out).write_text(json.dumps(result, indent=1))
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
