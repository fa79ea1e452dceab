"""Two-dimensional convolution and max pooling in NumPy, forward and backward (book chapter 18).

Arrays are laid out as PyTorch lays them out: images ``X`` of shape
(N, C, H, W), filters ``W`` of shape (F, C, k_h, k_w), biases ``b`` of shape
(F,). A convolution layer of deep learning computes a cross-correlation

    Y[n, f, i, j] = b[f] + sum_{c, u, v} W[f, c, u, v] X~[n, c, s i + u, s j + v]    Eq. (18.1)

where X~ is X with ``padding`` zeros on every side and s is the stride. Its
output has

    H' = floor((H + 2 p - k) / s) + 1                                            Eq. (18.2)

rows (and likewise columns), and F (C k_h k_w + 1) parameters whatever the
image size (Eq. 18.3). Backpropagation through Eq. (18.1) gives

    dL/dW[f, c, u, v] = sum_{n, i, j} dL/dY[n, f, i, j] X~[n, c, s i + u, s j + v]    Eq. (18.4)
    dL/dX~[n, c, a, e] = sum_{f, i, j: s i + u = a, s j + v = e} dL/dY[n, f, i, j] W[f, c, u, v]
                                                                                 Eq. (18.5)

and dL/db[f] = sum of dL/dY over n, i, j. For stride 1, Eq. (18.5) is itself a
convolution: the upstream gradient padded by k - 1, cross-correlated with the
filters turned by 180 degrees and with input and output channels swapped
(:func:`conv2d_input_gradient_as_convolution`). Max pooling passes each
window's maximum forward and its gradient back to that one position (Eq. 18.6).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from companion.checks import as_float_array, check_positive_int


def _check_non_negative_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a non-negative int; got {type(value).__name__} {value!r}")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int; got {value}")
    return int(value)


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Output length along one axis, Eq. (18.2): floor((size + 2 padding - kernel) / stride) + 1.

    Raises ValueError when the padded input is shorter than the kernel.
    """
    size = check_positive_int(size, "size")
    kernel = check_positive_int(kernel, "kernel")
    padding = _check_non_negative_int(padding, "padding")
    stride = check_positive_int(stride, "stride")
    if size + 2 * padding < kernel:
        raise ValueError(
            f"the padded input ({size} + 2 x {padding} = {size + 2 * padding}) is shorter than the kernel ({kernel})"
        )
    return (size + 2 * padding - kernel) // stride + 1


def conv2d_parameter_count(in_channels: int, out_channels: int, kernel: int) -> int:
    """Eq. (18.3): F (C k^2 + 1) weights and biases, independent of the image size."""
    for value, name in ((in_channels, "in_channels"), (out_channels, "out_channels"), (kernel, "kernel")):
        check_positive_int(value, name)
    return out_channels * (in_channels * kernel * kernel + 1)


def _check_conv_inputs(X, W, b):
    X = as_float_array(X, "X", ndim=4)
    W = as_float_array(W, "W", ndim=4)
    if X.shape[1] != W.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} channel(s) but the filters W {W.shape} expect {W.shape[1]} (shape (F, C, k_h, k_w))"
        )
    if b is not None:
        b = as_float_array(b, "b", ndim=1)
        if b.shape != (W.shape[0],):
            raise ValueError(f"b must have shape ({W.shape[0]},), one bias per filter; got {b.shape}")
    return X, W, b


def _windows(X, kernel_shape, padding: int, stride: int) -> np.ndarray:
    """View of every k_h x k_w window of the padded X: (N, C, H', W', k_h, k_w), no copy."""
    k_h, k_w = kernel_shape
    for size, k, axis in ((X.shape[2], k_h, "height"), (X.shape[3], k_w, "width")):
        if size + 2 * padding < k:
            raise ValueError(f"X's {axis} {size} plus 2 x padding {padding} is smaller than the kernel's {k}")
    padded = np.pad(X, ((0, 0), (0, 0), (padding, padding), (padding, padding))) if padding else X
    return sliding_window_view(padded, (k_h, k_w), axis=(2, 3))[:, :, ::stride, ::stride]


def conv2d_forward(X, W, b=None, *, stride: int = 1, padding: int = 0) -> np.ndarray:
    """Eq. (18.1): (N, C, H, W) images and (F, C, k_h, k_w) filters -> (N, F, H', W') maps."""
    X, W, b = _check_conv_inputs(X, W, b)
    stride = check_positive_int(stride, "stride")
    padding = _check_non_negative_int(padding, "padding")
    windows = _windows(X, W.shape[2:], padding, stride)
    Y = np.einsum("nchwuv,fcuv->nfhw", windows, W, optimize=True)
    return Y if b is None else Y + b[None, :, None, None]


def conv2d_backward(dY, X, W, *, stride: int = 1, padding: int = 0):
    """Gradients (dX, dW, db) of Eq. (18.1), by Eqs. (18.4) and (18.5), given dL/dY."""
    X, W, _ = _check_conv_inputs(X, W, None)
    stride = check_positive_int(stride, "stride")
    padding = _check_non_negative_int(padding, "padding")
    windows = _windows(X, W.shape[2:], padding, stride)
    dY = as_float_array(dY, "dY", ndim=4)
    expected = (X.shape[0], W.shape[0], windows.shape[2], windows.shape[3])
    if dY.shape != expected:
        raise ValueError(f"dY must have the output's shape {expected}; got {dY.shape}")
    dW = np.einsum("nchwuv,nfhw->fcuv", windows, dY, optimize=True)
    db = dY.sum(axis=(0, 2, 3))
    N, C, H, W_in = X.shape
    dX_padded = np.zeros((N, C, H + 2 * padding, W_in + 2 * padding), dtype=np.result_type(dY, W))
    out_h, out_w = dY.shape[2:]
    for u in range(W.shape[2]):  # Eq. (18.5): each filter tap sends dY back to the inputs it read
        for v in range(W.shape[3]):
            rows = slice(u, u + stride * (out_h - 1) + 1, stride)
            cols = slice(v, v + stride * (out_w - 1) + 1, stride)
            dX_padded[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dY, W[:, :, u, v])
    dX = dX_padded[:, :, padding : padding + H, padding : padding + W_in]
    return dX, dW, db


def conv2d_input_gradient_as_convolution(dY, W, *, padding: int = 0) -> np.ndarray:
    """dL/dX for stride 1 as a convolution: pad dY by k - 1, correlate with the turned, transposed filters.

    Equal to the ``dX`` of :func:`conv2d_backward` with ``stride=1``; the
    chapter checks it. (This is what a *transposed convolution* computes.)
    """
    W = as_float_array(W, "W", ndim=4)
    dY = as_float_array(dY, "dY", ndim=4)
    padding = _check_non_negative_int(padding, "padding")
    k_h, k_w = W.shape[2:]
    if k_h != k_w:
        raise ValueError(f"this helper takes square kernels; got {k_h} x {k_w}")
    turned = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, F, k, k)
    full = conv2d_forward(dY, turned, stride=1, padding=k_h - 1)  # the padded input's gradient
    if padding:
        full = full[:, :, padding:-padding, padding:-padding]
    return full


def maxpool2d_forward(X, size: int = 2, stride: int | None = None):
    """Eq. (18.6): the maximum of every size x size window; returns (Y, argmax) for the backward pass.

    ``stride`` defaults to ``size`` (windows that do not overlap). Rows and
    columns that do not fill a window at the end are dropped, as PyTorch's
    ``MaxPool2d`` does by default.
    """
    X = as_float_array(X, "X", ndim=4)
    size = check_positive_int(size, "size")
    stride = size if stride is None else check_positive_int(stride, "stride")
    windows = _windows(X, (size, size), 0, stride)
    flat = windows.reshape(*windows.shape[:4], size * size)
    argmax = flat.argmax(axis=-1)
    return np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0], argmax


def maxpool2d_backward(dY, argmax, input_shape, size: int = 2, stride: int | None = None) -> np.ndarray:
    """Gradient of max pooling: each window's dY goes to the position of its maximum (Eq. 18.6)."""
    size = check_positive_int(size, "size")
    stride = size if stride is None else check_positive_int(stride, "stride")
    dY = as_float_array(dY, "dY", ndim=4)
    argmax = np.asarray(argmax)
    if argmax.shape != dY.shape:
        raise ValueError(f"argmax must have dY's shape {dY.shape}; got {argmax.shape}")
    dX = np.zeros(tuple(input_shape), dtype=dY.dtype)
    n, c, i, j = np.indices(dY.shape)
    rows = i * stride + argmax // size
    cols = j * stride + argmax % size
    np.add.at(dX, (n, c, rows, cols), dY)  # overlapping windows may share a maximum
    return dX
