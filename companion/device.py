"""Device choice: the single place in the book where a device is picked.

Order of preference: CUDA, then Apple MPS, then CPU. The environment variable
``COMPANION_DEVICE`` (``cpu``, ``cuda`` or ``mps``) overrides the choice; asking
for a device that is not present raises :class:`DeviceNotAvailableError`
rather than silently running somewhere else.

PyTorch and TensorFlow are imported inside the functions, so importing this
module stays cheap.
"""

from __future__ import annotations

import os
import sys

ENV_VAR = "COMPANION_DEVICE"
KNOWN_DEVICES = ("cpu", "cuda", "mps")


class DeviceNotAvailableError(RuntimeError):
    """A device was requested explicitly but this machine does not have it."""


def _requested_device() -> str | None:
    """Return the device named by ``COMPANION_DEVICE``, or None when unset.

    Raises:
        ValueError: the variable holds something other than cpu, cuda or mps.
    """
    raw = os.environ.get(ENV_VAR, "").strip().lower()
    if not raw:
        return None
    if raw not in KNOWN_DEVICES:
        raise ValueError(
            f"{ENV_VAR} must be one of {', '.join(KNOWN_DEVICES)} (or unset); "
            f"got {os.environ[ENV_VAR]!r}"
        )
    return raw


def torch_available_devices() -> list[str]:
    """Devices PyTorch can use on this machine, in order of preference."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def get_device():
    """Return the ``torch.device`` the book's PyTorch code runs on.

    CUDA when present, else Apple MPS, else CPU; ``COMPANION_DEVICE`` overrides.

    Raises:
        ValueError: ``COMPANION_DEVICE`` holds an unknown name.
        DeviceNotAvailableError: the requested device is not on this machine.
    """
    import torch

    available = torch_available_devices()
    wanted = _requested_device()
    if wanted is None:
        return torch.device(available[0])
    if wanted not in available:
        raise DeviceNotAvailableError(
            f"{ENV_VAR}={wanted} was requested, but PyTorch sees only "
            f"{', '.join(available)} on this machine. Unset {ENV_VAR} to choose "
            f"automatically, or set it to one of those."
        )
    return torch.device(wanted)


def tf_available_devices() -> list[str]:
    """Devices TensorFlow can use, in the same vocabulary as :func:`get_device`.

    TensorFlow reports both NVIDIA GPUs and Apple's Metal plug-in as ``GPU``;
    on macOS a TensorFlow GPU is therefore called ``mps`` here.
    """
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    found = []
    if tf.config.list_physical_devices("GPU"):
        found.append("mps" if sys.platform == "darwin" else "cuda")
    found.append("cpu")
    return found


def get_tf_device() -> str:
    """Return the TensorFlow device string (``"/GPU:0"`` or ``"/CPU:0"``).

    Use it as ``with tf.device(companion.get_tf_device()): ...``. Follows the
    same rule and the same override as :func:`get_device`.

    Raises:
        ValueError: ``COMPANION_DEVICE`` holds an unknown name.
        DeviceNotAvailableError: the requested device is not on this machine.
    """
    available = tf_available_devices()
    wanted = _requested_device()
    if wanted is None:
        wanted = available[0]
    elif wanted not in available:
        raise DeviceNotAvailableError(
            f"{ENV_VAR}={wanted} was requested, but TensorFlow sees only "
            f"{', '.join(available)} on this machine. Unset {ENV_VAR} to choose "
            f"automatically, or set it to one of those."
        )
    return "/CPU:0" if wanted == "cpu" else "/GPU:0"


def profile_for_device(device, cpu_profile, gpu_profile):
    """The experiment size for ``device``: ``gpu_profile`` on an accelerator, else ``cpu_profile``.

    Every chapter with a heavy experiment has two profiles, one sized for two CPU
    cores and one for a GPU; the same code runs both. ``device`` is a
    ``torch.device`` or a device name ("cpu", "cuda", "mps", "cuda:1").

    Raises:
        TypeError: ``device`` is neither a torch.device nor a string.
    """
    kind = getattr(device, "type", device)
    if not isinstance(kind, str):
        raise TypeError(f"device must be a torch.device or a device name; got {type(device).__name__}")
    return cpu_profile if kind.split(":")[0] == "cpu" else gpu_profile


def set_cpu_threads(count: int) -> int:
    """Use ``count`` CPU threads in PyTorch's intra-op pool and in NumPy's and SciPy's BLAS; returns
    PyTorch's previous count, so that ``set_cpu_threads(previous)`` restores it.

    Small models (a logistic regression on TF-IDF features, an embedding bag) spend
    more time synchronising two threads than computing, and a thread that has to
    wait for a core held by another program stalls its partner at every step:
    chapter 17 measured a 40-fold slowdown of a small PyTorch training on a 2-core
    machine with one core busy, and none on one thread. Large models (MiniLM) still
    gain from every core. The BLAS pools are set through ``threadpoolctl``.
    """
    import torch
    from threadpoolctl import threadpool_limits

    from companion.checks import check_positive_int

    count = check_positive_int(count, "count")
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    threadpool_limits(limits=count, user_api="blas")
    return previous
