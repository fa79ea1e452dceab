"""Mini-batch stochastic gradient descent for the NumPy MLP (book chapter 3).

One step on a mini-batch B of examples: forward pass, loss, backward pass
(Eqs. 3.2-3.7), then for every parameter array theta

    theta <- theta - eta * dJ_B/dtheta                                   Eq. (3.13)

where J_B is the mean loss over the batch. An epoch visits every training
example once, in a fresh random order drawn from the caller's Generator.
Chapter 4 replaces this plain update with momentum, RMSProp and Adam.
"""

from __future__ import annotations

import time
from typing import Iterator, Sequence

import numpy as np

from companion.checks import as_float_array, check_learning_rate, check_positive_int, check_rng


def minibatches(n: int, batch_size: int, rng=None, shuffle: bool = True) -> Iterator[np.ndarray]:
    """Yield index arrays that split range(n) into batches of ``batch_size`` (the last may be smaller).

    Args:
        n: number of examples.
        batch_size: examples per batch.
        rng: a ``numpy.random.Generator`` or int seed; needed when ``shuffle``.
        shuffle: visit the examples in a random order (a new one per call).
    """
    n = check_positive_int(n, "n")
    batch_size = check_positive_int(batch_size, "batch_size")
    if shuffle:
        if rng is None:
            raise TypeError("shuffle=True needs rng (a numpy.random.Generator or an int seed); got None")
        order = check_rng(rng).permutation(n)
    else:
        order = np.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def sgd_step(params: Sequence[np.ndarray], grads: Sequence[np.ndarray], lr: float) -> None:
    """In-place update theta <- theta - lr * grad for every pair, Eq. (3.13)."""
    lr = check_learning_rate(lr)
    if len(params) != len(grads):
        raise ValueError(f"need one gradient per parameter; got {len(params)} and {len(grads)}")
    for index, (param, grad) in enumerate(zip(params, grads)):
        if param.shape != grad.shape:
            raise ValueError(f"gradient {index} has shape {grad.shape} but its parameter has {param.shape}")
        param -= lr * grad


def model_accuracy(model, X, y) -> float:
    """Accuracy, Eq. (5.2), of ``model.predict(X)`` against the integer labels ``y``.

    ``companion.metrics.accuracy(y_true, y_pred)`` compares two label arrays;
    this is the same number for a model and its inputs.
    """
    from companion.metrics import accuracy

    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"y must be integer class labels; got dtype {y.dtype}")
    predicted = model.predict(X)
    if predicted.shape != y.shape:
        raise ValueError(f"y must have shape {predicted.shape}, one label per row of X; got {y.shape}")
    return accuracy(y, predicted)


def train_numpy(
    model,
    X,
    y,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    rng,
    loss: str = "softmax_cross_entropy",
    X_val=None,
    y_val=None,
) -> dict[str, list[float]]:
    """Train ``model`` (a ``companion.nn.MLP``) with mini-batch SGD, Eq. (3.13).

    Args:
        model: the network; updated in place.
        X, y: training inputs (n, d_0) and labels or targets for ``loss``.
        epochs, batch_size, lr: the schedule (plain SGD with a constant rate).
        rng: a ``numpy.random.Generator`` or int seed for the shuffling.
        loss: a name from ``companion.nn.mlp.LOSSES``.
        X_val, y_val: optional validation data, evaluated after every epoch.

    Returns:
        History with one entry per epoch: ``train_loss`` (mean of the batch
        losses during the epoch), ``seconds`` (wall time of the epoch) and, with
        validation data, ``val_loss`` and, for class labels, ``val_accuracy``.
    """
    epochs = check_positive_int(epochs, "epochs")
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X and y must have the same number of rows; got {X.shape[0]} and {y.shape[0]}")
    if (X_val is None) != (y_val is None):
        raise ValueError("pass both X_val and y_val, or neither")
    rng = check_rng(rng)
    X = X.astype(model.dtype, copy=False)
    history: dict[str, list[float]] = {"train_loss": [], "seconds": []}
    classify = loss == "softmax_cross_entropy"
    if X_val is not None:
        history["val_loss"] = []
        if classify:
            history["val_accuracy"] = []
    params = model.params()
    for _ in range(epochs):
        start, total, count = time.perf_counter(), 0.0, 0
        for index in minibatches(X.shape[0], batch_size, rng):
            total += model.loss_and_grad(X[index], y[index], loss=loss) * index.size
            count += index.size
            sgd_step(params, model.grads(), lr)
        history["seconds"].append(time.perf_counter() - start)
        history["train_loss"].append(total / count)
        if X_val is not None:
            history["val_loss"].append(model.loss(X_val, y_val, loss=loss))
            if classify:
                history["val_accuracy"].append(model_accuracy(model, X_val, y_val))
    return history
