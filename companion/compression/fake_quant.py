"""Fake quantisation with the straight-through estimator, for quantisation-aware training (book chapter 15).

During quantisation-aware training the forward pass uses the values an int8 model
would compute with, ``x_hat = s (clamp(round(x / s) + z, q_min, q_max) - z)``
(Eqs. (15.1)-(15.2)), while the backward pass treats rounding as the identity,
Eq. (15.8): ``d x_hat / d x = 1`` where ``x`` lies inside the representable range and 0
where it was clamped. Rounding itself has derivative 0 almost everywhere, so without
this estimator no gradient would reach the weights.

PyTorch's ``torch.fake_quantize_per_tensor_affine`` computes the same thing; the
chapter checks the two against each other, forward and backward.
"""

from __future__ import annotations

import torch


def fake_quantize_ste(x: torch.Tensor, scale: float, zero_point: int, q_min: int, q_max: int) -> torch.Tensor:
    """``x_hat`` of Eqs. (15.1)-(15.2) forward, the clipped straight-through gradient of Eq. (15.8) backward.

    The code is computed as ``round(x * (1 / s))``, multiplying by the reciprocal as
    PyTorch's kernel does, so that values exactly halfway between two codes round the same way.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor; got {type(x).__name__}")
    if not scale > 0:
        raise ValueError(f"scale must be positive; got {scale}")
    if not (isinstance(q_min, int) and isinstance(q_max, int) and q_min < q_max):
        raise ValueError(f"q_min < q_max must be ints; got {q_min!r} and {q_max!r}")
    if not (isinstance(zero_point, int) and q_min <= zero_point <= q_max):
        raise ValueError(f"zero_point must be an int in [{q_min}, {q_max}]; got {zero_point!r}")
    codes = torch.round(x * (1.0 / scale)) + zero_point
    inside = (codes >= q_min) & (codes <= q_max)
    x_hat = (codes.clamp(q_min, q_max) - zero_point) * scale
    # Forward: x_hat. Backward: the gradient of x where inside, of a constant elsewhere.
    return torch.where(inside, x + (x_hat - x).detach(), x_hat.detach())
