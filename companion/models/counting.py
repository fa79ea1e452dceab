"""Counting a model's parameters, the number the closed forms of chapters 10, 11 and 13 predict."""

from __future__ import annotations


def count_parameters(model, *, trainable_only: bool = False) -> int:
    """Number of scalar parameters of a torch module, each shared (tied) tensor counted once.

    ``model.parameters()`` yields a tensor shared by two modules once (chapter 12's
    tied embedding and output matrix, for instance); the ``id`` check keeps that true
    for any iterable of parameters a caller passes through ``model``.

    Args:
        model: a ``torch.nn.Module``.
        trainable_only: count only parameters with ``requires_grad`` (what an optimizer updates).
    """
    parameters = getattr(model, "parameters", None)
    if not callable(parameters):
        raise TypeError(f"model must be a torch.nn.Module (with .parameters()); got {type(model).__name__}")
    seen, total = set(), 0
    for parameter in parameters():
        if id(parameter) in seen or (trainable_only and not parameter.requires_grad):
            continue
        seen.add(id(parameter))
        total += parameter.numel()
    return total
