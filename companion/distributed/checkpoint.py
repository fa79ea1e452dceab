"""Checkpoint and resume (book chapter 14): everything a run needs to continue bit for bit.

A checkpoint holds the model's weights, the optimiser's state (Adam's moments
and step counts), the learning-rate scheduler's state (how far along its
schedule it is), the gradient scaler's state (``torch.amp.GradScaler``: the
current loss scale and how many good steps it has counted towards growing it),
the step reached, the states of the random number generators (PyTorch CPU and
CUDA, NumPy's global generator, Python's ``random``), the model's
**configuration** (the fields of its ``config`` dataclass, e.g. chapter 10's
``TransformerConfig``) and a **model signature**: the name and shape of every
entry of the model's ``state_dict``. Resuming from it continues the run
exactly: the same data order (the batch order is a function of the step, see
:func:`companion.distributed.ddp_train.batch_indices`), the same dropout
masks, the same learning rates, the same loss scales and the same updates.

The file is written with ``torch.save`` and read with
``torch.load(weights_only=True)``, which refuses anything but tensors and
plain Python containers, so loading a checkpoint cannot run code. Every value
stored here is of that kind (the NumPy generator state is converted to a
tensor). Before a single weight is copied, the stored configuration and
signature are compared with the model's; a checkpoint from a different model
raises :class:`CheckpointMismatchError` naming the fields or tensors that
differ. The configuration catches what the signature cannot: two models whose
tensors have the same names and shapes but that compute different functions
(a causal and a bidirectional encoder, say).
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path

import numpy as np

FORMAT_VERSION = 2  # 2: adds the model configuration, scheduler and gradient-scaler states


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the model (or optimiser) it is being loaded into."""


def _unwrap(model):
    """The module inside a ``DistributedDataParallel`` (or ``DataParallel``) wrapper, else ``model``."""
    return getattr(model, "module", model)


def model_signature(model) -> list[tuple[str, tuple[int, ...]]]:
    """``[(name, shape), ...]`` for every entry of the (unwrapped) model's ``state_dict``, in order."""
    state = _unwrap(model).state_dict()
    return [(name, tuple(int(d) for d in tensor.shape)) for name, tensor in state.items()]


_PLAIN = (bool, int, float, str, type(None))


def model_config(model) -> dict | None:
    """The (unwrapped) model's configuration as a plain dict, or None when it has none.

    A model with a ``config`` attribute that is a dataclass (chapter 10's
    ``TransformerConfig``) or a dict of plain values gives its fields; other
    models (a bare ``nn.Sequential``) give None and are checked by their
    signature alone.

    Raises:
        TypeError: a configuration field is not a plain value (bool, int,
            float, str or None), which ``torch.load(weights_only=True)`` could
            not read back.
    """
    config = getattr(_unwrap(model), "config", None)
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, dict):
        return None
    for key, value in config.items():
        if not isinstance(key, str) or not isinstance(value, _PLAIN):
            raise TypeError(f"model config field {key!r} must be a plain value (bool, int, float, str or None) "
                            f"to be stored in a checkpoint; got {type(value).__name__}")
    return dict(config)


def describe_config_mismatch(expected: dict, got: dict) -> str:
    """The fields of two configurations that differ, as text (empty string when they agree)."""
    lines = []
    for key in sorted(set(expected) | set(got)):
        if key not in got:
            lines.append(f"{key} is missing in the checkpoint, {expected[key]!r} in the model")
        elif key not in expected:
            lines.append(f"{key} is {got[key]!r} in the checkpoint, unknown to the model")
        elif got[key] != expected[key] or type(got[key]) is not type(expected[key]):
            lines.append(f"{key} is {got[key]!r} in the checkpoint, {expected[key]!r} in the model")
    return "; ".join(lines)


def _describe_mismatch(expected, got, limit: int = 3) -> str:
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


def save_checkpoint(path, model, optimizer, step, *, scheduler=None, scaler=None,
                    extra: dict | None = None) -> Path:
    """Write model, optimiser, scheduler, gradient scaler, step, RNG states, configuration and signature.

    ``scheduler`` is a ``torch.optim.lr_scheduler`` object and ``scaler`` a
    ``torch.amp.GradScaler``; either may be None (nothing is stored for it).
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
        "config": model_config(model),
        "signature": [[name, list(shape)] for name, shape in model_signature(model)],
        "model": _unwrap(model).state_dict(),
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "rng": rng_state(),
        "extra": extra or {},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def _read_checkpoint(path) -> dict:
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


def _check_compatible(path, model) -> dict:
    """Read the checkpoint at ``path`` and check that it was saved from a model like ``model``; return it.

    Compares the stored configuration with the model's (when both have one)
    and then the signature (names and shapes of all state entries).

    Raises:
        CheckpointMismatchError: the configurations differ (the message names
            every differing field, as stored and as in the model) or the
            signatures differ (it names the tensors whose shapes differ and
            those missing on either side).
        FileNotFoundError: no file at ``path``.
    """
    payload = _read_checkpoint(path)
    name = Path(path).name
    stored_config, config = payload.get("config"), model_config(model)
    if stored_config is not None and config is not None and stored_config != config:
        raise CheckpointMismatchError(
            f"checkpoint {name} was saved from a model with a different configuration: "
            f"{describe_config_mismatch(config, stored_config)}")
    stored = [(entry, tuple(shape)) for entry, shape in payload["signature"]]
    expected = model_signature(model)
    if stored != expected:
        detail = _describe_mismatch(expected, stored) or "the entries are in a different order"
        raise CheckpointMismatchError(
            f"checkpoint {name} was saved from a different model: expected the model's "
            f"{len(expected)} state entries, got {len(stored)} in the checkpoint; {detail}"
        )
    return payload


def load_checkpoint(path, model, optimizer=None, *, scheduler=None, scaler=None,
                    restore_rng: bool = True) -> dict:
    """Restore a checkpoint into ``model`` (and optimiser, scheduler, scaler); returns ``{"step", "extra"}``.

    Nothing is copied until the configuration and the signature have been
    checked (:func:`_check_compatible`), so a refused checkpoint leaves the model
    as it was. A state that is not asked for (``scheduler=None``, say) is not
    restored, even when the checkpoint holds it.

    Raises:
        CheckpointMismatchError: the checkpoint was saved from a model with a
            different configuration or signature, or an optimiser, scheduler or
            scaler state is requested from a checkpoint saved without one.
        FileNotFoundError: no file at ``path``.
    """
    payload = _check_compatible(path, model)
    name = Path(path).name
    for key, what, target in (("optimizer", "optimiser", optimizer), ("scheduler", "scheduler", scheduler),
                              ("scaler", "gradient scaler", scaler)):
        if target is not None and payload.get(key) is None:
            raise CheckpointMismatchError(f"checkpoint {name} holds no {what} state; got None")
    _unwrap(model).load_state_dict(payload["model"])
    if optimizer is not None:
        optimizer.load_state_dict(payload["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(payload["scheduler"])
    if scaler is not None:
        scaler.load_state_dict(payload["scaler"])
    if restore_rng:
        set_rng_state(payload["rng"])
    return {"step": payload["step"], "extra": payload["extra"]}


def _differences(a, b, where: str, found: list) -> None:
    import torch

    if torch.is_tensor(a) or torch.is_tensor(b):
        same = (torch.is_tensor(a) and torch.is_tensor(b) and a.dtype == b.dtype and a.shape == b.shape
                and torch.equal(a, b))
        if not same:
            found.append(where)
    elif isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                found.append(f"{where}.{key}")
            else:
                _differences(a[key], b[key], f"{where}.{key}", found)
    elif isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            found.append(where)
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                _differences(x, y, f"{where}[{i}]", found)
    elif type(a) is not type(b) or a != b:
        found.append(where)


def state_differences(path_a, path_b, *,
                      parts=("model", "optimizer", "scheduler", "scaler", "rng", "step")) -> list[str]:
    """Where two checkpoints differ: entries such as ``"optimizer.state.3.exp_avg"``; empty when equal.

    Tensors are compared exactly (same dtype, shape and every bit of value
    equality), so two runs that agree here are the same run. ``parts`` selects
    the top-level entries to compare.
    """
    a, b = _read_checkpoint(path_a), _read_checkpoint(path_b)
    found: list[str] = []
    for part in parts:
        _differences(a.get(part), b.get(part), part, found)
    return found
