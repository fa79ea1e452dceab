"""Padding masks and masked pooling for right-padded batches of token ids.

A batch of sequences of different lengths is stored as an ``(n, T)`` id matrix
padded on the right; the mask says which positions hold real tokens,
Eq. (7.3), and a masked mean averages only those, Eq. (7.6).
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int


def _check_lengths(lengths) -> np.ndarray:
    array = np.asarray(lengths)
    if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"lengths must be an integer array; got dtype {array.dtype}")
    if array.ndim != 1:
        raise ValueError(f"lengths must be 1-D (one length per sequence); got shape {array.shape}")
    if array.size and array.min() < 0:
        raise ValueError(f"lengths must be >= 0; got minimum {int(array.min())}")
    return array.astype(np.int64)


def padding_mask(lengths, max_len: int | None = None) -> np.ndarray:
    """Boolean mask of real tokens, Eq. (7.3): ``mask[i, j] = j < lengths[i]``.

    ``lengths`` is a 1-D integer array of n sequence lengths; the result has
    shape ``(n, max_len)`` (``max_len`` defaults to ``max(lengths)``). Raises
    ValueError if a length is negative or exceeds ``max_len``.
    """
    lengths = _check_lengths(lengths)
    if max_len is None:
        max_len = int(lengths.max()) if lengths.size else 0
    else:
        max_len = check_positive_int(max_len, "max_len")
        if lengths.size and lengths.max() > max_len:
            raise ValueError(
                f"lengths must lie in [0, {max_len}] (the padded length T); "
                f"got min {int(lengths.min())}, max {int(lengths.max())}"
            )
    return np.arange(max_len)[None, :] < lengths[:, None]


def masked_mean(x, mask) -> np.ndarray:
    """Average of ``x`` over real positions only, Eq. (7.6).

    ``x`` has shape ``(n, T, d)`` (for example embedded tokens) and ``mask``
    shape ``(n, T)`` (True or 1 at real tokens). Returns ``(n, d)``. A row
    whose mask is all False has no tokens to average and gives a zero vector,
    not 0/0, as the PyTorch pooling of chapter 10 does
    (``companion.models.transformer.masked_mean``).
    """
    x = as_float_array(x, "x", ndim=3)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        if not np.issubdtype(mask.dtype, np.number) or not np.isin(mask, (0, 1)).all():
            raise TypeError(f"mask must be boolean or 0/1; got dtype {mask.dtype}")
        mask = mask.astype(bool)
    if mask.shape != x.shape[:2]:
        raise ValueError(f"mask must have shape {x.shape[:2]} (n, T) to match x; got {mask.shape}")
    counts = np.maximum(mask.sum(axis=1), 1)
    return (x * mask[:, :, None]).sum(axis=1) / counts[:, None]
