"""Seeding: the single place in the book where random number generators are seeded.

``set_seed(seed)`` seeds Python's ``random``, NumPy's global generator, PyTorch
and TensorFlow, and turns on the determinism switches each framework offers.
Two runs of the same code on the same machine then print the same numbers.
Runs on different hardware (CPU versus GPU, or two CPU models) can still differ
in the last bits of a float, which is why the book rounds what it prints.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random

import numpy as np

from companion.checks import check_seed

FRAMEWORKS = ("numpy", "torch", "tensorflow")


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _seed_torch(seed: int) -> None:
    # cuBLAS is deterministic only with a fixed workspace; the variable must be
    # set before CUDA is initialised, so it is set before torch is used.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    torch.manual_seed(seed)  # seeds the CPU, every CUDA device and MPS
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    # warn_only: an op without a deterministic kernel warns instead of failing,
    # so a chapter still runs and the warning says which op it was.
    torch.use_deterministic_algorithms(True, warn_only=True)


def _seed_tensorflow(seed: int) -> None:
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    tf.keras.utils.set_random_seed(seed)  # Python, NumPy, TensorFlow and Keras
    tf.config.experimental.enable_op_determinism()


def set_seed(seed: int = 0, frameworks: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """Seed every random number generator the book uses.

    Args:
        seed: an integer in [0, 2**32 - 1].
        frameworks: which of ``"numpy"``, ``"torch"`` and ``"tensorflow"`` to
            seed. None (the default) seeds every one that is installed. Python's
            ``random`` is always seeded.

    Returns:
        The frameworks that were seeded, in a fixed order.

    Raises:
        TypeError: ``seed`` is not an integer.
        ValueError: ``seed`` is out of range, or ``frameworks`` names an
            unknown framework or one that is not installed.
    """
    seed = check_seed(seed)
    if frameworks is None:
        chosen = tuple(name for name in FRAMEWORKS if _installed(name))
    else:
        if isinstance(frameworks, str):
            frameworks = (frameworks,)
        unknown = [name for name in frameworks if name not in FRAMEWORKS]
        if unknown:
            raise ValueError(f"frameworks must be drawn from {FRAMEWORKS}; got unknown {unknown}")
        missing = [name for name in frameworks if not _installed(name)]
        if missing:
            raise ValueError(f"cannot seed {missing}: not installed (pip install -r requirements.txt)")
        chosen = tuple(name for name in FRAMEWORKS if name in frameworks)

    random.seed(seed)
    np.random.seed(seed)
    if "torch" in chosen:
        _seed_torch(seed)
    if "tensorflow" in chosen:
        _seed_tensorflow(seed)
    return chosen


@contextlib.contextmanager
def torch_seed_scope(seed: int):
    """Run a block with PyTorch's global CPU generator seeded, then restore its previous state.

    Use it where a result must depend on ``seed`` alone without disturbing the
    caller's random stream, e.g. building a model whose initial weights are a
    function of its seed (chapter 14's replicas). Inside the block, draws come
    from ``torch.manual_seed(seed)``; afterwards the generator continues exactly
    where it was. CUDA generators are not touched: initialise on the CPU and move.
    """
    import torch

    seed = check_seed(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
