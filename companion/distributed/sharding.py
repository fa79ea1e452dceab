"""Sharding the model and its optimiser over processes, by hand (book chapter 14).

Two ideas, each as a worker function for :func:`companion.distributed.launch.spawn_gloo`
(it runs on gloo processes on the CPU) and a single-process reference:

**Tensor parallelism** (Megatron-style MLP), Eq. (14.7). The first weight
matrix ``W1`` (d, h) is split by *columns* over the N ranks, the second, ``W2``
(h, d), by *rows*. Rank r computes ``GELU(X W1[:, cols_r]) W2[rows_r, :]``,
a full-size partial output; the sum over ranks (one all-reduce) is the full
product, because the element-wise GELU acts on each column block separately.
In the backward pass the same holds in reverse: the gradient with respect to
``X`` is a sum over ranks (the all-reduce of :class:`CopyToParallel`'s backward).

**ZeRO-1 optimiser-state sharding.** Every rank keeps all the weights but
only 1/N of Adam's state: the flattened parameter vector is cut into N equal
slices (the last padded with zeros). Each step, a **reduce-scatter** of the
gradients leaves on each rank the sum over ranks of *its* slice only, which it
divides by N (the mean of Eq. (14.3)); the rank updates its slice with Adam,
and an **all-gather** of the updated slices rebuilds the full weight vector on
every rank. A ring all-reduce is exactly a reduce-scatter followed by an
all-gather, so ZeRO-1 sends the same volume as DDP's all-reduce: per step, each
rank sends and receives (N - 1)/N of the gradient in the reduce-scatter and of
the weights in the all-gather. That holds for a backend with a real
reduce-scatter (NCCL's ring); PyTorch's gloo backend implements
``reduce_scatter`` as one all-reduce per slice, so on CPU processes the
gradients cost a full all-reduce. Adam is element-wise, so the result equals
unsharded Adam on the full batch.
"""

from __future__ import annotations

import math

import numpy as np

from companion.distributed.data_parallel import check_rank, check_world_size, shard_bounds


def _split(length: int, world_size: int, rank: int, what: str) -> slice:
    world_size = check_world_size(world_size)
    rank = check_rank(rank, world_size)
    if length % world_size:
        raise ValueError(f"{what} of size {length} must split evenly over world_size {world_size}; "
                         f"got remainder {length % world_size}")
    size = length // world_size
    return slice(rank * size, (rank + 1) * size)


def column_shard(weight, world_size, rank):
    """Rank ``rank``'s block of columns of ``weight`` (d_in, d_out), the x @ W convention."""
    return weight[:, _split(weight.shape[1], world_size, rank, "the column dimension")]


def row_shard(weight, world_size, rank):
    """Rank ``rank``'s block of rows of ``weight`` (d_in, d_out)."""
    return weight[_split(weight.shape[0], world_size, rank, "the row dimension"), :]


def _autograd_functions():
    import torch
    import torch.distributed as dist

    class CopyToParallel(torch.autograd.Function):
        """Identity forward; backward all-reduces the gradient (each rank used the full input)."""

        @staticmethod
        def forward(ctx, x):
            return x.view_as(x)

        @staticmethod
        def backward(ctx, grad):
            grad = grad.clone()
            dist.all_reduce(grad)
            return grad

    class ReduceFromParallel(torch.autograd.Function):
        """Forward all-reduces the partial outputs; backward is the identity."""

        @staticmethod
        def forward(ctx, partial):
            total = partial.clone()
            dist.all_reduce(total)
            return total

        @staticmethod
        def backward(ctx, grad):
            return grad

    return CopyToParallel, ReduceFromParallel


def _gelu(x):
    import torch.nn.functional as F

    return F.gelu(x)


def tensor_parallel_mlp_worker(rank, world_size, x, w1, b1, w2, b2, upstream) -> dict:
    """One rank of the column-parallel / row-parallel MLP pair, Eq. (14.7), forward and backward.

    Arguments are NumPy arrays (the full matrices; the rank keeps its shards).
    Returns the output ``y`` (n, d) seen on this rank after the all-reduce and
    the gradients of ``sum(y * upstream)`` with respect to ``x`` and to this
    rank's shards of ``W1`` and ``W2``.
    """
    import torch

    copy_to, reduce_from = _autograd_functions()
    x = torch.tensor(x, requires_grad=True)
    w1_local = torch.tensor(column_shard(np.asarray(w1), world_size, rank), requires_grad=True)
    b1_local = torch.tensor(np.asarray(b1)[_split(len(b1), world_size, rank, "b1")], requires_grad=True)
    w2_local = torch.tensor(row_shard(np.asarray(w2), world_size, rank), requires_grad=True)
    b2_full = torch.tensor(np.asarray(b2), requires_grad=True)
    h_local = _gelu(copy_to.apply(x) @ w1_local + b1_local)  # column-parallel: (n, h / N)
    y = reduce_from.apply(h_local @ w2_local) + b2_full  # row-parallel: partial sums, all-reduced
    (y * torch.tensor(upstream)).sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "w1_grad": w1_local.grad, "w2_grad": w2_local.grad}


def tensor_parallel_mlp_reference(x, w1, b1, w2, b2, upstream) -> dict:
    """The same MLP, ``GELU(x W1 + b1) W2 + b2``, in one process, with the same gradients (full matrices)."""
    import torch

    x, w1, w2 = (torch.tensor(np.asarray(a), requires_grad=True) for a in (x, w1, w2))
    y = _gelu(x @ w1 + torch.tensor(np.asarray(b1))) @ w2 + torch.tensor(np.asarray(b2))
    (y * torch.tensor(np.asarray(upstream))).sum().backward()
    return {"y": y.detach(), "x_grad": x.grad, "w1_grad": w1.grad, "w2_grad": w2.grad}


def flat_shard_bounds(n_elements, world_size, rank) -> tuple[int, int]:
    """``(start, stop)`` of rank ``rank``'s slice of a flat vector of ``n_elements``, padded to N equal slices.

    The last slices may be shorter (or empty) when N does not divide the length.
    """
    world_size = check_world_size(world_size)
    rank = check_rank(rank, world_size)
    size = math.ceil(n_elements / world_size)
    return min(rank * size, n_elements), min((rank + 1) * size, n_elements)


def zero1_adam_worker(rank, world_size, spec, x, y, steps, global_batch, lr, seed) -> dict:
    """One rank of data-parallel training with ZeRO-1 sharded Adam.

    Every rank builds the same model (seed ``seed``), reads its shard of each
    global batch (:func:`companion.distributed.ddp_train.batch_indices`) and
    back-propagates it. A reduce-scatter of the flat gradient gives the rank the
    sum of its slice over all ranks (divided by N: the mean of Eq. (14.3));
    ``torch.optim.Adam`` updates that slice only, and an all-gather of the
    updated slices rebuilds the full parameter vector on every rank.
    Returns the global-batch losses, the final flat parameters, how many
    optimiser-state numbers this rank holds, and how many numbers each
    collective of one step handled on this rank (its input and output sizes).
    """
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.utils import parameters_to_vector, vector_to_parameters

    from companion.distributed.ddp_train import batch_indices, build_model

    model = build_model(spec, seed)
    params = list(model.parameters())
    n = sum(p.numel() for p in params)
    lo, hi = flat_shard_bounds(n, world_size, rank)
    slice_len = math.ceil(n / world_size)
    padded = slice_len * world_size
    shard = torch.nn.Parameter(parameters_to_vector(params).detach()[lo:hi].clone())
    optimizer = torch.optim.Adam([shard], lr=lr)
    b_lo, b_hi = shard_bounds(global_batch, world_size, rank)
    losses = []
    for step in range(steps):
        idx = batch_indices(len(x), global_batch, step, seed)[b_lo:b_hi]
        model.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(torch.as_tensor(x[idx])), torch.as_tensor(y[idx]))
        loss.backward()
        grad = torch.zeros(padded)
        grad[:n] = parameters_to_vector([p.grad for p in params])
        my_grad = torch.empty(slice_len)
        dist.reduce_scatter(my_grad, list(grad.split(slice_len)))  # this rank's slice, summed over ranks ...
        shard.grad = my_grad[: hi - lo] / world_size  # ... and the mean of Eq. (14.3)
        optimizer.step()  # Adam on this rank's slice only: 1/N of the moments
        mine = torch.zeros(slice_len)
        mine[: hi - lo] = shard.detach()
        pieces = [torch.empty(slice_len) for _ in range(world_size)]
        dist.all_gather(pieces, mine)
        vector_to_parameters(torch.cat(pieces)[:n], params)
        logged = loss.detach().clone()
        dist.all_reduce(logged)
        losses.append(float(logged) / world_size)
    state_numel = sum(t.numel() for s in optimizer.state.values() for t in s.values()
                      if torch.is_tensor(t) and t.dim() > 0)
    return {"losses": losses, "params": parameters_to_vector(params).detach(), "state_numel": state_numel,
            "n_params": n, "reduce_scatter_numel": (padded, slice_len), "all_gather_numel": (slice_len, padded)}


def adam_reference(spec, x, y, steps, global_batch, lr, seed) -> dict:
    """Unsharded Adam on the full global batch in one process (same keys as :func:`zero1_adam_worker`)."""
    import torch
    import torch.nn.functional as F
    from torch.nn.utils import parameters_to_vector

    from companion.distributed.ddp_train import batch_indices, build_model

    model = build_model(spec, seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for step in range(steps):
        idx = batch_indices(len(x), global_batch, step, seed)
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(torch.as_tensor(x[idx])), torch.as_tensor(y[idx]))
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    state_numel = sum(t.numel() for s in optimizer.state.values() for t in s.values()
                      if torch.is_tensor(t) and t.dim() > 0)
    n = sum(p.numel() for p in model.parameters())
    return {"losses": losses, "params": parameters_to_vector(model.parameters()).detach(),
            "state_numel": state_numel, "n_params": n}
