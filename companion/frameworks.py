"""Importing TensorFlow quietly: the one place the book imports it first.

TensorFlow 2.21 writes INFO lines (oneDNN, CUDA probing) straight to file
descriptor 2 while it is imported, before its logging is initialised, so
``TF_CPP_MIN_LOG_LEVEL`` cannot hide them. In a notebook they become stderr
output carrying timestamps, which no two runs share. :func:`import_tensorflow`
sends descriptor 2 to the null device for the duration of the first import
only; an import error still propagates as a normal Python exception.
Every later ``import tensorflow`` is a no-op and prints nothing.
"""

from __future__ import annotations

import contextlib
import os
import sys


@contextlib.contextmanager
def _fd2_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_tensorflow():
    """Import and return the ``tensorflow`` module with its start-up noise silenced."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    with _fd2_silenced():  # companion/__init__ has set TF_CPP_MIN_LOG_LEVEL for later logs
        import tensorflow as tf
    tf.get_logger().setLevel("ERROR")
    return tf
