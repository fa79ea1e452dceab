"""Gradient checking: backpropagation against finite differences and autodiff (book chapter 3).

A backward pass is code, and code has bugs that still "train". The check
compares each analytic gradient with the central difference

    dJ/dtheta_k ~ (J(theta + h e_k) - J(theta - h e_k)) / (2 h)          Eq. (3.11)

whose error is O(h^2), and reports one relative error per parameter array,

    rel(g, g~) = ||g - g~||_2 / max(||g||_2 + ||g~||_2, tiny)            Eq. (3.12)

In float64 with h = 1e-6 a correct backward pass gives rel around 1e-9 or
smaller; a missing factor gives rel of order 1e-1 to 1. float32 has too few
digits for the difference quotient, so the checks insist on float64.

:func:`torch_gradients` and :func:`tf_gradients` compute the same gradients
with ``torch.autograd`` and ``tf.GradientTape`` (imported on use).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from companion.checks import as_float_array

_TINY = 1e-300


def relative_error(analytic, numeric) -> float:
    """||a - b||_2 / max(||a||_2 + ||b||_2, tiny), Eq. (3.12); 0.0 when both are zero."""
    a = as_float_array(analytic, "analytic")
    b = as_float_array(numeric, "numeric")
    if a.shape != b.shape:
        raise ValueError(f"analytic and numeric must have the same shape; got {a.shape} and {b.shape}")
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / max(scale, _TINY))


def _check_float64(array, name: str) -> np.ndarray:
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array that the loss reads (perturbed in place); got {type(array).__name__}"
        )
    if array.dtype != np.float64:
        raise TypeError(f"{name} must be float64 for a finite-difference check; got {array.dtype}")
    return array


def numerical_gradient(loss_fn: Callable[[], float], array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of ``loss_fn()`` with respect to ``array``, Eq. (3.11).

    Args:
        loss_fn: a function of no arguments that returns the scalar loss and
            reads ``array`` when it runs (for example ``lambda: model.loss(X, y)``).
        array: a float64 array that ``loss_fn`` depends on. Each entry is
            perturbed in place by +-eps and then restored exactly.
        eps: the step h (positive float).

    Returns:
        An array of ``array``'s shape.
    """
    array = _check_float64(array, "array")
    if isinstance(eps, bool) or not isinstance(eps, (float, int)) or not np.isfinite(eps) or eps <= 0:
        raise ValueError(f"eps must be a positive finite number; got {eps!r}")
    grad = np.zeros_like(array)
    flat, flat_grad = array.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("array must be contiguous so that it can be perturbed in place")
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        plus = float(loss_fn())
        flat[k] = original - eps
        minus = float(loss_fn())
        flat[k] = original
        flat_grad[k] = (plus - minus) / (2.0 * eps)
    return grad


def gradient_check(
    loss_fn: Callable[[], float],
    arrays: Sequence[np.ndarray],
    analytic_grads: Sequence[np.ndarray],
    names: Sequence[str] | None = None,
    eps: float = 1e-6,
) -> dict[str, float]:
    """Relative error, Eq. (3.12), between each analytic gradient and its finite difference, Eq. (3.11).

    Args:
        loss_fn: returns the scalar loss, reading ``arrays``.
        arrays: float64 arrays to check (parameters, or the input itself).
        analytic_grads: the gradients backpropagation computed, same shapes.
        names: one label per array (default ``"0"``, ``"1"``, ...).
        eps: the finite-difference step.

    Returns:
        ``{name: relative error}`` in the order given.
    """
    arrays, analytic_grads = list(arrays), list(analytic_grads)
    if len(arrays) != len(analytic_grads):
        raise ValueError(
            f"need one gradient per array; got {len(arrays)} array(s) and {len(analytic_grads)} gradient(s)"
        )
    names = [str(k) for k in range(len(arrays))] if names is None else list(names)
    if len(names) != len(arrays):
        raise ValueError(f"need one name per array; got {len(arrays)} array(s) and {len(names)} name(s)")
    # Copy the analytic gradients first: running loss_fn may overwrite the arrays they live in.
    analytic = [as_float_array(g, f"gradient {name}").copy() for g, name in zip(analytic_grads, names)]
    errors = {}
    for name, array, grad in zip(names, arrays, analytic):
        _check_float64(array, name)
        if grad.shape != array.shape:
            raise ValueError(f"gradient {name} must have the shape of its array {array.shape}; got {grad.shape}")
        errors[name] = relative_error(grad, numerical_gradient(loss_fn, array, eps))
    return errors


def check_model_gradients(model, X, y, loss: str = "softmax_cross_entropy", eps: float = 1e-6) -> dict[str, float]:
    """Gradient-check every parameter of a float64 ``companion.nn.MLP`` on the batch (X, y).

    Runs ``model.loss_and_grad`` once for the analytic gradients, then Eq. (3.11)
    for every entry of every parameter. Returns ``{"W1": rel, "b1": rel, ...}``.
    """
    if np.dtype(model.dtype) != np.float64:
        raise TypeError(f"gradient checks need a float64 model; got {model.dtype} (build it with dtype=np.float64)")
    X = as_float_array(X, "X", ndim=2).astype(np.float64)
    model.loss_and_grad(X, y, loss=loss)
    analytic = [g.copy() for g in model.grads()]
    return gradient_check(lambda: model.loss(X, y, loss=loss), model.params(), analytic, model.param_names(), eps)


# ------------------------------------------------------------------ autodiff twins
_TORCH_ACT = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}


def _unpack(model):
    params = model.to_params()
    return params, model.activations


def torch_gradients(model, X, y, loss: str = "softmax_cross_entropy", device=None) -> list[np.ndarray]:
    """The gradients of ``model``'s loss on (X, y) computed by ``torch.autograd``.

    The network is rebuilt in PyTorch from copies of the model's parameters (in
    the model's dtype) with the book's layout W (d_in, d_out), so the returned
    list matches ``model.grads()`` entry for entry. Loss: ``F.cross_entropy``,
    ``F.binary_cross_entropy_with_logits`` or ``F.mse_loss`` (mean reduction).
    ``device`` defaults to ``companion.get_device()`` (Apple's MPS has no float64:
    pass ``device="cpu"`` there for a float64 model).
    """
    import torch
    import torch.nn.functional as F

    from companion.device import get_device

    model.loss(X, y, loss=loss)  # the NumPy checks: shapes, dtypes, finite values, label range
    device = get_device() if device is None else torch.device(device)
    params, names = _unpack(model)
    dtype = torch.float64 if np.dtype(model.dtype) == np.float64 else torch.float32
    tensors = [
        (
            torch.tensor(W, dtype=dtype, device=device, requires_grad=True),
            torch.tensor(b, dtype=dtype, device=device, requires_grad=True),
        )
        for W, b in params
    ]
    out = torch.as_tensor(model._as_input(X), device=device)
    for (W, b), name in zip(tensors, names):
        out = out @ W + b
        if name != "linear":
            out = getattr(torch, _TORCH_ACT[name])(out)
    if loss == "softmax_cross_entropy":
        value = F.cross_entropy(out, torch.as_tensor(np.asarray(y), dtype=torch.long, device=device))
    elif loss == "binary_cross_entropy":
        value = F.binary_cross_entropy_with_logits(out, torch.as_tensor(np.asarray(y), dtype=dtype, device=device))
    else:
        value = F.mse_loss(out, torch.as_tensor(np.asarray(y), dtype=dtype, device=device))
    value.backward()
    return [t.grad.cpu().numpy().copy() for pair in tensors for t in pair]


def tf_gradients(model, X, y, loss: str = "softmax_cross_entropy", device=None) -> list[np.ndarray]:
    """The gradients of ``model``'s loss on (X, y) computed by ``tf.GradientTape``.

    Same rebuild as :func:`torch_gradients`, in TensorFlow. Loss:
    ``tf.nn.sparse_softmax_cross_entropy_with_logits``,
    ``tf.nn.sigmoid_cross_entropy_with_logits`` or the mean squared error,
    each averaged like the NumPy losses. ``device`` defaults to
    ``companion.get_tf_device()``.
    """
    from companion.device import get_tf_device
    from companion.frameworks import import_tensorflow

    tf = import_tensorflow()
    model.loss(X, y, loss=loss)  # the NumPy checks: shapes, dtypes, finite values, label range
    params, names = _unpack(model)
    dtype = tf.float64 if np.dtype(model.dtype) == np.float64 else tf.float32
    X = model._as_input(X)
    with tf.device(get_tf_device() if device is None else device):
        variables = [(tf.Variable(W, dtype=dtype), tf.Variable(b, dtype=dtype)) for W, b in params]
        with tf.GradientTape() as tape:
            out = tf.constant(X, dtype=dtype)
            for (W, b), name in zip(variables, names):
                out = tf.matmul(out, W) + b
                if name != "linear":
                    out = getattr(tf.nn, _TORCH_ACT[name])(out)
            if loss == "softmax_cross_entropy":
                labels = tf.constant(np.asarray(y), dtype=tf.int64)
                value = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=out))
            elif loss == "binary_cross_entropy":
                targets = tf.constant(np.asarray(y), dtype=dtype)
                value = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=out))
            else:
                value = tf.reduce_mean(tf.square(out - tf.constant(np.asarray(y), dtype=dtype)))
        flat = [v for pair in variables for v in pair]
        grads = tape.gradient(value, flat)
    return [g.numpy().copy() for g in grads]
