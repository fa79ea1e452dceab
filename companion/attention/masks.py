"""Attention masks (book chapter 9): which keys each query may see.

Convention (the one ``torch.nn.functional.scaled_dot_product_attention`` uses
for boolean masks): ``True`` means *may attend*, ``False`` means *hidden*. A
hidden entry gets the score -inf before the softmax over the keys, Eq. (9.5), so its
attention weight is exactly 0.

Shapes: a mask must broadcast to ``(batch, heads, T_q, T_k)``. The usual
building blocks are

- a padding mask ``(batch, T_k)``: key j of example b is a real token
  (``companion.text.padding_mask(lengths, T_k)``, Eq. (7.3), builds it from lengths);
- a causal mask ``(T_q, T_k)``: query i may see key j only if j is not in its future.

This module is NumPy only; the PyTorch module builds the same masks as tensors
(``companion.attention.torch_attention``), and the tests check that they agree.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int


def causal_mask(T_q: int, T_k: int | None = None, *, offset: int | None = None) -> np.ndarray:
    """Boolean (T_q, T_k) mask: query i may see key j iff j <= offset + i.

    Query i sits at absolute position ``offset + i``. The default offset
    ``T_k - T_q`` aligns the queries with the *end* of the keys, which is what
    incremental generation needs: with T_k - T_q earlier keys held in a cache,
    the last query is the newest token and sees every key. With T_q == T_k the
    offset is 0 and the mask is the lower triangle.
    """
    T_q = check_positive_int(T_q, "T_q")
    T_k = T_q if T_k is None else check_positive_int(T_k, "T_k")
    if offset is None:
        offset = T_k - T_q
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)):
        raise TypeError(f"offset must be an int; got {type(offset).__name__}")
    query_position = offset + np.arange(T_q)[:, None]
    return np.arange(T_k)[None, :] <= query_position


def check_attention_mask(mask, batch: int, heads: int, T_q: int, T_k: int) -> None:
    """Raise a ValueError unless ``mask`` is boolean and broadcasts to (batch, heads, T_q, T_k).

    Works for NumPy arrays and PyTorch tensors alike (anything with ``shape`` and ``dtype``).
    """
    target = (batch, heads, T_q, T_k)
    shape = tuple(getattr(mask, "shape", ()))
    dtype = str(getattr(mask, "dtype", type(mask).__name__))
    if dtype not in ("bool", "torch.bool"):
        raise ValueError(
            f"attention mask must be boolean (True = may attend); got dtype {dtype}. "
            "Convert an additive or 0/1 mask with mask == 0 or mask.bool() as appropriate."
        )
    if len(shape) > 4 or not all(m in (1, t) for m, t in zip(shape[::-1], target[::-1])):
        raise ValueError(
            f"attention mask of shape {shape} does not broadcast to (batch, heads, T_q, T_k) = {target}; "
            "expected e.g. (T_q, T_k), (batch, 1, T_q, T_k) or (batch, 1, 1, T_k)"
        )
