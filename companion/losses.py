"""Loss functions and their gradients, in NumPy (book chapter 2).

Every loss here is the negative log-likelihood of a probability model,
averaged over the examples (Eq. 2.1):

    Gaussian     -> mean squared error                    Eqs. (2.2)-(2.4)
    Bernoulli    -> binary cross-entropy (from logits)    Eqs. (2.5)-(2.6), (2.11)-(2.12)
    categorical  -> softmax cross-entropy                 Eqs. (2.7)-(2.8), (2.10)

Each loss returns a Python float, and its ``*_grad`` twin returns the gradient
of that float with respect to the first argument, with the same shape.
The cross-entropies take *logits* (pre-activations), never probabilities: the
logit form can be computed stably (log-sum-exp, Eq. 2.9) and has the simple
gradient "probability minus target" (Eqs. 2.10 and 2.12).

Conventions: the mean squared error and the binary cross-entropy average over
every element; the softmax cross-entropy averages over the n rows of an (n, k)
logit matrix. These match the defaults (``reduction="mean"``) of PyTorch's
``F.mse_loss``, ``F.binary_cross_entropy_with_logits`` and ``F.cross_entropy``.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int
from companion.nn.activations import sigmoid, softmax


def _check_integer_labels(labels, name: str = "labels") -> np.ndarray:
    """Return ``labels`` as an int64 array, or raise if they are not integers."""
    array = np.asarray(labels)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must be integer class indices; got dtype {array.dtype}")
    return array.astype(np.int64)


def _check_labels_in_range(labels: np.ndarray, num_classes: int, name: str = "labels") -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise ValueError(
            f"{name} must lie in [0, {num_classes}) for {num_classes} class(es); "
            f"got {bad.size} value(s) outside it, e.g. {int(bad[0])}"
        )


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    # No silent broadcasting: (n,) against (n, 1) would broadcast to (n, n)
    # and return a plausible-looking but wrong number.
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"{name_a} must hold at least one element to average over; got shape {a.shape}")


def _check_logits_and_labels(logits, labels):
    logits = as_float_array(logits, "logits", ndim=2)
    n, k = logits.shape
    if n == 0 or k == 0:
        raise ValueError(f"logits must have shape (n, k) with n >= 1 and k >= 1; got {logits.shape}")
    labels = _check_integer_labels(labels)
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one class index per row of logits; got {labels.shape}")
    _check_labels_in_range(labels, k)
    return logits, labels


def _check_logits_and_targets(logits, targets):
    logits = as_float_array(logits, "logits")
    targets = as_float_array(targets, "targets")
    _check_same_shape(logits, targets, "logits", "targets")
    if np.any((targets < 0) | (targets > 1)):
        outside = targets[(targets < 0) | (targets > 1)]
        raise ValueError(
            f"targets must be probabilities in [0, 1]; got {outside.size} value(s) outside, e.g. {float(outside[0])}"
        )
    return logits, targets


def logsumexp(z, axis: int = -1, keepdims: bool = False):
    """log(sum_j exp(z_j)) along ``axis``, computed stably, Eq. (2.9).

    With m = max_j z_j, log sum_j exp(z_j) = m + log sum_j exp(z_j - m): every
    exponent is <= 0, so nothing overflows, and the largest term is exp(0) = 1,
    so the sum is >= 1 and its log never underflows to -inf.

    Args:
        z: a finite float array with at least one axis.
        axis: the axis to reduce (default: the last).
        keepdims: keep the reduced axis with length 1.

    Raises:
        ValueError: ``z`` is a scalar, the axis is empty or out of range, or ``z`` holds NaN/inf.
        TypeError: ``z`` is not numeric, or ``axis`` is not an int.
    """
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("logsumexp needs at least one axis to reduce; got a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"axis must be an int; got {type(axis).__name__} {axis!r}")
    if not -z.ndim <= axis < z.ndim:
        raise ValueError(f"axis must be in [{-z.ndim}, {z.ndim}) for an array of shape {z.shape}; got {axis}")
    if z.shape[axis] == 0:
        raise ValueError(f"logsumexp needs a non-empty axis; axis {axis} of shape {z.shape} is empty")
    m = np.max(z, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(z):
    """log softmax(z) along the last axis: z_j - logsumexp(z), Eqs. (2.8)-(2.9).

    Computed without ever forming softmax(z), so a probability that underflows
    to 0 still has a finite log-probability.
    """
    z = as_float_array(z, "z")
    if z.ndim == 0:
        raise ValueError("log_softmax needs at least one axis to normalise over; got a scalar")
    return z - logsumexp(z, axis=-1, keepdims=True)


def one_hot(labels, num_classes: int):
    """One-hot rows: out[..., c] = 1 if labels[...] == c else 0, as in Eq. (2.7).

    Args:
        labels: integer class indices in [0, num_classes), any shape.
        num_classes: the number of classes k (a positive int).

    Returns:
        float64 array of shape ``labels.shape + (num_classes,)``.
    """
    num_classes = check_positive_int(num_classes, "num_classes")
    labels = _check_integer_labels(labels)
    _check_labels_in_range(labels, num_classes)
    return (labels[..., None] == np.arange(num_classes)).astype(np.float64)


def mse(pred, target) -> float:
    """Mean squared error over all elements, (1/N) sum (pred - target)^2, Eq. (2.4).

    It is the Gaussian negative log-likelihood of Eq. (2.3) with its constant
    dropped and multiplied by 2 sigma^2, so both have the same minimiser.

    Raises:
        ValueError: the shapes differ (no broadcasting), the arrays are empty, or hold NaN/inf.
        TypeError: an input is not numeric.
    """
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target")
    _check_same_shape(pred, target, "pred", "target")
    return float(np.mean((pred - target) ** 2))


def mse_grad(pred, target):
    """Gradient of :func:`mse` with respect to ``pred``: 2 (pred - target) / N, Eq. (2.4)."""
    pred = as_float_array(pred, "pred")
    target = as_float_array(target, "target")
    _check_same_shape(pred, target, "pred", "target")
    return 2.0 * (pred - target) / pred.size


def softmax_cross_entropy(logits, labels) -> float:
    """Mean categorical cross-entropy from logits, Eq. (2.8).

    loss = (1/n) sum_i [logsumexp(z_i) - z_{i, y_i}] = -(1/n) sum_i log softmax(z_i)[y_i].

    Args:
        logits: shape (n, k), one row of k class scores per example.
        labels: shape (n,), integer class indices in [0, k).

    Raises:
        ValueError: a shape is wrong, a label is out of range, or the logits hold NaN/inf.
        TypeError: the logits are not numeric or the labels are not integers.
    """
    logits, labels = _check_logits_and_labels(logits, labels)
    picked = log_softmax(logits)[np.arange(labels.size), labels]
    return float(0.0 - np.mean(picked))  # 0.0 - x, not -x: a perfect fit gives 0.0, never -0.0


def softmax_cross_entropy_grad(logits, labels):
    """Gradient of :func:`softmax_cross_entropy` with respect to the logits, Eq. (2.10).

    d loss / d z_i = (softmax(z_i) - onehot(y_i)) / n: "probability minus
    target", at the logits (not at the probabilities).
    """
    logits, labels = _check_logits_and_labels(logits, labels)
    n, k = logits.shape
    return (softmax(logits) - one_hot(labels, k).astype(logits.dtype)) / n


def binary_cross_entropy_with_logits(logits, targets) -> float:
    """Mean binary cross-entropy from logits, computed stably, Eq. (2.11).

    Per element, -[y log s(z) + (1 - y) log(1 - s(z))] with s the sigmoid equals
    max(z, 0) - z y + log(1 + exp(-|z|)), in which exp never overflows.

    Args:
        logits: pre-activations z, any shape.
        targets: same shape, probabilities in [0, 1] (usually the labels 0 and 1).

    Raises:
        ValueError: the shapes differ, a target is outside [0, 1], or an input holds NaN/inf.
        TypeError: an input is not numeric.
    """
    z, y = _check_logits_and_targets(logits, targets)
    per_element = np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_element))


def binary_cross_entropy_with_logits_grad(logits, targets):
    """Gradient of :func:`binary_cross_entropy_with_logits` w.r.t. the logits: (s(z) - y) / N, Eq. (2.12)."""
    z, y = _check_logits_and_targets(logits, targets)
    return (sigmoid(z) - y) / z.size
