"""Gradient accumulation (book chapter 14): k micro-batches with loss / k equal one big batch.

A batch of B examples split into k equal micro-batches of B / k gives, by the
same algebra as the data-parallel identity, Eq. (14.3), a full-batch gradient
equal to the *sum* of the micro-batch gradients of ``loss / k``, Eq. (14.5).
Back-propagating each micro-batch adds into ``.grad``, so dividing each
micro-batch loss by k before ``backward()`` and stepping once after the last
one reproduces the big-batch step while holding only one micro-batch of
activations in memory. Forgetting the division multiplies the gradient by k.
"""

from __future__ import annotations

from companion.checks import check_positive_int
from companion.distributed.data_parallel import shard_size


def accumulate_gradients(model, loss_fn, x, y, micro_batches) -> float:
    """Back-propagate ``x, y`` in ``micro_batches`` equal pieces, each loss divided by k, Eq. (14.5).

    Gradients are *added* to the model's ``.grad`` fields (zero them first for
    one step, as an optimiser loop does). Returns the mean loss over the whole
    batch (the mean of the micro-batch losses). ``loss_fn`` must return the
    mean over its examples. Raises ValueError when the batch does not split into
    ``micro_batches`` equal pieces.
    """
    k = check_positive_int(micro_batches, "micro_batches")
    if k > len(x):
        raise ValueError(f"micro_batches must be at most the batch size {len(x)}; got {k}")
    size = shard_size(len(x), k, parts="micro_batches")
    total = 0.0
    for j in range(k):
        part = slice(j * size, (j + 1) * size)
        loss = loss_fn(model(x[part]), y[part]) / k
        loss.backward()
        total += float(loss.detach())
    return total


def accumulated_gradient(model, loss_fn, x, y, micro_batches) -> list:
    """The gradient of Eq. (14.5) as a list of tensors (one per parameter); ``.grad`` is left cleared."""
    model.zero_grad(set_to_none=True)
    accumulate_gradients(model, loss_fn, x, y, micro_batches)
    grads = [p.grad.detach().clone() for p in model.parameters() if p.grad is not None]
    model.zero_grad(set_to_none=True)
    return grads


def train_with_accumulation(model, optimizer, loss_fn, batches, micro_batches) -> list[float]:
    """One optimiser step per batch in ``batches`` (pairs ``(x, y)``), each accumulated over k micro-batches.

    Returns the mean loss of every batch. With ``micro_batches=1`` this is the
    ordinary training loop, so the two can be compared step by step.
    """
    check_positive_int(micro_batches, "micro_batches")
    losses = []
    for x, y in batches:
        optimizer.zero_grad(set_to_none=True)
        losses.append(accumulate_gradients(model, loss_fn, x, y, micro_batches))
        optimizer.step()
    return losses
