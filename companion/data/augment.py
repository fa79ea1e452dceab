"""Random shifts and small rotations of a batch of images, on its own device (book chapter 18).

Each image is moved by its own random affine map: a rotation by an angle
drawn uniformly from [-max_degrees, max_degrees] and a shift of up to
``max_shift`` pixels along each axis, resampled bilinearly with zeros
outside the image (``torch.nn.functional.affine_grid`` and ``grid_sample``).
The draws come from a ``torch.Generator`` on the CPU, so a seed gives the
same transformations on every device.
"""

from __future__ import annotations

import math

from companion.checks import check_positive_int


def _check_non_negative(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def random_affine(flat_images, side: int, generator, *, max_shift: float = 2.0, max_degrees: float = 10.0):
    """Transform each of the flat (n, side^2) images by its own random shift and rotation.

    Returns a tensor of the same shape, device and dtype.
    """
    import torch
    import torch.nn.functional as F

    side = check_positive_int(side, "side")
    max_shift = _check_non_negative(max_shift, "max_shift")
    max_degrees = _check_non_negative(max_degrees, "max_degrees")
    if flat_images.ndim != 2 or flat_images.shape[1] != side * side:
        raise ValueError(f"images must be flat, shape (n, {side * side}); got {tuple(flat_images.shape)}")
    n = flat_images.shape[0]
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
    # affine_grid works in coordinates from -1 to 1, so one pixel is 2 / side
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * max_shift * 2 / side
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    theta = theta.to(device=flat_images.device, dtype=flat_images.dtype)
    images = flat_images.reshape(n, 1, side, side)
    grid = F.affine_grid(theta, images.shape, align_corners=False)
    moved = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return moved.reshape(n, side * side)
