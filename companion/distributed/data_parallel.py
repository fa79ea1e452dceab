"""The data-parallel identity (book chapter 14) and sharding a global batch over ranks.

With a mean loss over a global batch of B examples, Eq. (14.1), split into N
equal shards of b = B / N examples, the full loss is the mean of the shard
losses, Eq. (14.2), and so its gradient is the mean of the per-shard gradients,
Eq. (14.3). That is what every data-parallel trainer relies on: each replica
back-propagates its own shard and an all-reduce averages the gradients. With
unequal shards the plain mean is wrong; the shards must be weighted by their
sizes, Eq. (14.4).

Sharding is only defined here for a global batch that divides evenly by the
world size: an uneven split raises ValueError instead of silently changing
the gradient.

The gradient helpers take a PyTorch module and a loss function and import
PyTorch inside the functions; the sharding helpers work on anything that
supports ``len`` and slicing (NumPy arrays, tensors, lists).
"""

from __future__ import annotations

from companion.checks import check_positive_int


def check_world_size(world_size) -> int:
    """Return ``world_size`` as an int if it is a positive integer (the number of replicas), else raise."""
    return check_positive_int(world_size, "world_size")


def check_rank(rank, world_size) -> int:
    """Return ``rank`` if it is an int in [0, world_size), else raise TypeError/ValueError."""
    world_size = check_world_size(world_size)
    if isinstance(rank, bool) or not isinstance(rank, int):
        raise TypeError(f"rank must be an int in [0, {world_size}); got {type(rank).__name__} {rank!r}")
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be an int in [0, {world_size}) for world_size {world_size}; got {rank}")
    return rank


def shard_size(global_batch, world_size, *, parts: str = "world_size") -> int:
    """Examples per replica, b = B / N, for the equal split of Eq. (14.2).

    Raises ValueError when the global batch ``B`` is not a multiple of the
    world size ``N`` (the message names both and the remainder). ``parts``
    names N in messages (gradient accumulation passes ``"micro_batches"``).
    """
    global_batch = check_positive_int(global_batch, "global_batch")
    world_size = check_positive_int(world_size, parts)
    if global_batch % world_size:
        raise ValueError(
            f"a global batch must split into equal shards: expected a multiple of {parts} {world_size}, "
            f"got global batch {global_batch} (remainder {global_batch % world_size}); unequal shards break "
            f"the mean of Eq. (14.3)"
        )
    return global_batch // world_size


def shard_bounds(global_batch, world_size, rank) -> tuple[int, int]:
    """``(start, stop)`` of rank ``rank``'s contiguous shard of a global batch, Eq. (14.2)."""
    b = shard_size(global_batch, world_size)
    rank = check_rank(rank, world_size)
    return rank * b, (rank + 1) * b


def _shard_batch(batch, world_size, rank):
    """Rank ``rank``'s equal, contiguous slice of ``batch`` (anything with ``len`` and slicing)."""
    start, stop = shard_bounds(len(batch), world_size, rank)
    return batch[start:stop]


def split_batch(batch, world_size) -> list:
    """All ``world_size`` equal shards of ``batch``, in rank order (raises for an uneven split)."""
    world_size = check_world_size(world_size)
    return [_shard_batch(batch, world_size, rank) for rank in range(world_size)]


def _check_shard_sizes(shard_sizes, total: int) -> list[int]:
    sizes = [check_positive_int(size, "shard size") for size in shard_sizes]
    if sum(sizes) != total:
        raise ValueError(f"shard sizes must add up to the batch of {total} examples; got {sizes} (sum {sum(sizes)})")
    return sizes


def _gradients(model, loss_fn, x, y) -> list:
    model.zero_grad(set_to_none=True)
    loss = loss_fn(model(x), y)
    loss.backward()
    grads = [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad(set_to_none=True)
    return grads


def full_batch_gradient(model, loss_fn, x, y) -> list:
    """Gradient of the mean loss of Eq. (14.1) over the whole batch, one tensor per parameter.

    ``loss_fn(outputs, y)`` must return the *mean* loss over the examples it
    receives (PyTorch's default ``reduction="mean"``). The model's ``.grad``
    fields are left cleared.
    """
    return _gradients(model, loss_fn, x, y)


def replica_gradients(model, loss_fn, x, y, world_size=None, *, shard_sizes=None) -> list[list]:
    """The per-shard gradients that N replicas would compute, one list of tensors per replica.

    Give ``world_size`` for the equal split of Eq. (14.2) (ValueError when the
    batch does not divide evenly), or ``shard_sizes`` to cut the batch into
    consecutive shards of those sizes (used to show what unequal shards do).
    """
    n = len(x)
    if (world_size is None) == (shard_sizes is None):
        raise ValueError("give exactly one of world_size and shard_sizes; got "
                         f"world_size={world_size!r}, shard_sizes={shard_sizes!r}")
    if shard_sizes is None:
        b = shard_size(n, world_size)
        sizes = [b] * check_world_size(world_size)
    else:
        sizes = _check_shard_sizes(shard_sizes, n)
    grads, start = [], 0
    for size in sizes:
        grads.append(_gradients(model, loss_fn, x[start:start + size], y[start:start + size]))
        start += size
    return grads


def average_gradients(per_replica, weights=None) -> list:
    """Combine per-replica gradients: the plain mean of Eq. (14.3), or a weighted sum, Eq. (14.4).

    ``weights`` (one per replica, e.g. ``b_r / B``) must add up to 1.
    """
    if not per_replica:
        raise ValueError("per_replica must hold the gradients of at least one replica; got none")
    n = len(per_replica)
    if weights is None:
        weights = [1.0 / n] * n
    weights = [float(w) for w in weights]
    if len(weights) != n:
        raise ValueError(f"weights must have one entry per replica ({n}); got {len(weights)}")
    if abs(sum(weights) - 1.0) > 1e-9:
        raise ValueError(f"weights must add up to 1; got sum {sum(weights):.6g}")
    return [sum(w * g[i] for w, g in zip(weights, per_replica)) for i in range(len(per_replica[0]))]


def max_abs_difference(grads_a, grads_b) -> float:
    """Largest absolute entry-wise difference between two gradient lists of matching shapes."""
    if len(grads_a) != len(grads_b):
        raise ValueError(f"gradient lists must have the same length; got {len(grads_a)} and {len(grads_b)}")
    worst = 0.0
    for i, (a, b) in enumerate(zip(grads_a, grads_b)):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"gradient {i}: shapes differ, {tuple(a.shape)} and {tuple(b.shape)}")
        worst = max(worst, float((a - b).abs().max()))
    return worst
