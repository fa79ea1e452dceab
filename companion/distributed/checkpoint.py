"""Checkpoint and resume (book chapter 14): everything a run needs to continue bit for bit.

A checkpoint holds the model's weights, the optimiser's state (Adam's moments
and step counts), the step reached, the states of the random number
generators (PyTorch CPU and CUDA, NumPy's global generator, Python's
``random``) and a **model signature**: the name and shape of every entry of
the model's ``state_dict``. Resuming from it continues the run exactly: the
same data order (the batch order is a function of the step, see
:func:`companion.distributed.ddp_train.batch_indices`), the same dropout
masks and the same updates.

The file is written with ``torch.save`` and read with
``torch.load(weights_only=True)``, which refuses anything but tensors and
plain Python containers, so loading a checkpoint cannot run code. Every value
stored here is of that kind (the NumPy generator state is converted to a
tensor). Before a single weight is copied, the stored signature is compared
with the model's; a checkpoint from a different model raises
:class:`CheckpointMismatchError` naming the first differences.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model (or optimiser) it is being loaded into."""


def unwrap(model):
    """The module inside a ``DistributedDataParallel`` (or ``DataParallel``) wrapper, else ``model``."""
    return getattr(model, "module", model)


def model_signature(model) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, shape), ...]`` for every entry of the (unwrapped) model's ``state_dict``, in order."""
    state = unwrap(model).state_dict()
    return [(name, tuple(int(d) for d in tensor.shape)) for name, tensor in state.items()]


def describe_mismatch(expected, got, limit: int = 3) -> str:
    """A readable list of the differences between two signatures (empty string when they agree)."""
    expected, got = dict(expected), dict(got)
    lines = []
    for name, shape in expected.items():
        if name in got and tuple(got[name]) != tuple(shape):
            lines.append(f"'{name}' has shape {tuple(got[name])} in the checkpoint, {tuple(shape)} in the model")
    missing = [name for name in expected if name not in got]
    extra = [name for name in got if name not in expected]
    if missing:
        lines.append(f"{len(missing)} model entr{'y' if len(missing) == 1 else 'ies'} missing from the checkpoint "
                     f"(e.g. {', '.join(repr(m) for m in missing[:limit])})")
    if extra:
        lines.append(f"{len(extra)} checkpoint entr{'y' if len(extra) == 1 else 'ies'} unknown to the model "
                     f"(e.g. {', '.join(repr(m) for m in extra[:limit])})")
    shown = lines[:limit]
    return "; ".join(shown) + ("" if len(lines) == len(shown) else f"; and {len(lines) - len(shown)} more")


def rng_state() -> dict:
    """The states of PyTorch's CPU (and CUDA) generators, NumPy's global generator and Python's ``random``."""
    import torch

    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "cached_gaussian": float(cached)},
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore the generators saved by :func:`rng_state`."""
    import torch

    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"],
                         n["cached_gaussian"]))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def save_checkpoint(path, model, optimizer, step, *, extra: dict | None = None) -> Path:
    """Write model, optimiser, step, RNG states and the model signature to ``path``.

    The file is written to a temporary name and then renamed, so a crash while
    saving never leaves a half-written checkpoint under ``path``. ``extra`` may
    hold more tensors or plain Python values (e.g. the losses so far).
    Returns the path.
    """
    import torch

    if isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step must be an int >= 0 (optimiser steps taken); got {type(step).__name__} {step!r}")
    if step < 0:
        raise ValueError(f"step must be an int >= 0 (optimiser steps taken); got {step}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "step": step,
        "signature": [[name, list(shape)] for name, shape in model_signature(model)],
        "model": unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "rng": rng_state(),
        "extra": extra or {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def read_checkpoint(path) -> dict:
    """Load a checkpoint's contents with ``torch.load(weights_only=True)`` onto the CPU."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        got = payload.get("format_version") if isinstance(payload, dict) else type(payload).__name__
        raise CheckpointMismatchError(f"{path} is not a checkpoint of format {FORMAT_VERSION}; got {got!r}")
    return payload


def load_checkpoint(path, model, optimizer=None, *, restore_rng: bool = True) -> dict:
    """Restore a checkpoint into ``model`` (and ``optimizer``); returns ``{"step", "extra"}``.

    Raises:
        CheckpointMismatchError: the stored model signature differs from the
            model's (the message names the parameters whose shapes differ and
            those missing on either side), or an optimiser state is requested
            from a checkpoint saved without one.
        FileNotFoundError: no file at ``path``.
    """
    payload = read_checkpoint(path)
    stored = [(name, tuple(shape)) for name, shape in payload["signature"]]
    expected = model_signature(model)
    if stored != expected:
        detail = describe_mismatch(expected, stored) or "the entries are in a different order"
        raise CheckpointMismatchError(
            f"checkpoint {Path(path).name} was saved from a different model: expected the model's "
            f"{len(expected)} state entries, got {len(stored)} in the checkpoint; {detail}"
        )
    unwrap(model).load_state_dict(payload["model"])
    if optimizer is not None:
        if payload["optimizer"] is None:
            raise CheckpointMismatchError(f"checkpoint {Path(path).name} holds no optimiser state; got None")
        optimizer.load_state_dict(payload["optimizer"])
    if restore_rng:
        set_rng_state(payload["rng"])
    return {"step": payload["step"], "extra": payload["extra"]}
