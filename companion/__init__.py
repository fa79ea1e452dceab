"""Companion package of the book *How Large-Model Products Are Made*.

Importing ``companion`` is cheap: it loads neither PyTorch nor TensorFlow. The
frameworks are imported by the functions and modules that need them.

The two entry points every chapter uses live here:

- :func:`get_device` / :func:`get_tf_device`: the one place where the device
  is chosen (CUDA, then Apple MPS, then CPU; ``COMPANION_DEVICE`` overrides).
- :func:`set_seed`: the one place where every random number generator is seeded.
"""

import os as _os

# TensorFlow prints C++ INFO lines (oneDNN, CUDA probing) when it is imported.
# They are noise in a notebook, so they are silenced before any chapter can
# import it. setdefault keeps a value the reader has chosen.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from companion.device import DeviceNotAvailableError, get_device, get_tf_device  # noqa: E402
from companion.seed import set_seed  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DeviceNotAvailableError",
    "__version__",
    "get_device",
    "get_tf_device",
    "set_seed",
]
