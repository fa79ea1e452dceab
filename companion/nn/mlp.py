"""A multilayer perceptron built from layers, with backpropagation, in NumPy (book chapter 3).

The network is a list of layers ``Dense, f, Dense, f, ..., Dense`` (the last
activation may be left out: a linear output gives logits). The forward pass is
Eq. (1.9); the backward pass runs the layers in reverse, each turning
dJ/d(output) into dJ/d(input) and storing its parameter gradients:

    Delta^(L)   = dJ/dZ^(L)                      (from the loss, e.g. Eq. 3.7)
    dJ/dW^(l)   = A^(l-1)T Delta^(l),   dJ/db^(l) = 1^T Delta^(l)      Eqs. (3.2)-(3.3)
    Delta^(l-1) = (Delta^(l) W^(l)T) * f'(Z^(l-1))                      Eq. (3.6)

For softmax with cross-entropy at the logits, Delta^(L) = (softmax(Z^(L)) - Y) / n,
Eq. (3.7). No step loops over examples: every product handles the whole batch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from companion import losses
from companion.checks import as_float_array, check_choice, check_dtype, check_positive_int, check_rng
from companion.nn.activations import sigmoid, softmax
from companion.nn.init import SCHEMES
from companion.nn.layers import ACTIVATION_LAYERS, Dense

OUTPUTS = ("linear", "sigmoid", "tanh", "relu")
LOSSES = ("softmax_cross_entropy", "binary_cross_entropy", "mse")


class MLP:
    """Multilayer perceptron with a vectorised forward and backward pass.

    Args:
        sizes: layer widths ``[d_0, d_1, ..., d_L]`` (input first, at least two).
        activations: either one name (``"relu"``, ``"tanh"`` or ``"sigmoid"``)
            used for every hidden layer with a linear output layer, or a list of
            L names, one per layer, whose last may be ``"linear"``.
        init: a weight scheme from ``companion.nn.init.SCHEMES`` (Eqs. 1.10-1.11),
            or None for He (``"he_normal"``) when every hidden layer is ReLU and
            Xavier (``"xavier_normal"``) otherwise. Biases start at zero.
        rng: a ``numpy.random.Generator`` or an int seed (keyword, required).
        dtype: float32 or float64.

    Example:
        >>> model = MLP([64, 32, 10], "relu", rng=0)
        >>> logits = model.forward(X)                           # (n, 10)
        >>> loss = model.loss_and_grad(X, y)                    # fills model.grads()
    """

    def __init__(self, sizes: Sequence[int], activations="relu", init: str | None = None, *, rng, dtype=np.float64):
        sizes = [check_positive_int(size, "layer size") for size in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output width; got {sizes}")
        names = self._activation_names(activations, len(sizes) - 1)
        if init is None:
            init = "he_normal" if all(name == "relu" for name in names[:-1]) else "xavier_normal"
        check_choice(init, "init", SCHEMES, hint=" or None")
        rng = check_rng(rng)
        dtype = check_dtype(dtype)
        layers = []
        for d_in, d_out, name in zip(sizes[:-1], sizes[1:], names):
            layers.append(Dense(d_in, d_out, init, rng=rng, dtype=dtype))
            if name != "linear":
                layers.append(ACTIVATION_LAYERS[name]())
        self._build(sizes, names, layers, init, dtype)

    @staticmethod
    def _activation_names(activations, n_layers: int) -> list[str]:
        if isinstance(activations, str):
            names = [activations] * (n_layers - 1) + ["linear"]
        else:
            names = list(activations)
            if len(names) != n_layers:
                raise ValueError(
                    f"need one activation per layer: got {n_layers} layer(s) and {len(names)} activation(s)"
                )
        for index, name in enumerate(names):
            allowed = OUTPUTS if index == n_layers - 1 else tuple(ACTIVATION_LAYERS)
            if name not in allowed:
                where = "the output layer" if index == n_layers - 1 else f"hidden layer {index + 1}"
                hint = " (softmax belongs in the loss: use a linear output)" if name == "softmax" else ""
                raise ValueError(f"activation of {where} must be one of {allowed}; got {name!r}{hint}")
        return names

    def _build(self, sizes, names, layers, init, dtype) -> None:
        self.sizes, self.activations, self.layers = list(sizes), list(names), layers
        self.init, self.dtype = init, dtype
        self.dense_layers = [layer for layer in layers if isinstance(layer, Dense)]

    @classmethod
    def from_params(cls, params, activations) -> "MLP":
        """An MLP holding copies of chapter 1's ``[(W1, b1), ...]`` (see ``companion.nn.init_mlp``)."""
        if len(params) == 0:
            raise ValueError("a network needs at least one layer; got an empty parameter list")
        dense = [Dense.from_params(W, b) for W, b in params]
        for index in range(1, len(dense)):
            if dense[index - 1].W.shape[1] != dense[index].W.shape[0]:
                raise ValueError(
                    f"layer {index} outputs {dense[index - 1].W.shape[1]} values but layer "
                    f"{index + 1} expects {dense[index].W.shape[0]} inputs"
                )
        dtypes = {layer.dtype for layer in dense}
        if len(dtypes) != 1:
            raise TypeError(f"all parameters must share one dtype; got {sorted(str(d) for d in dtypes)}")
        names = cls._activation_names(activations, len(dense))
        layers = []
        for layer, name in zip(dense, names):
            layers.append(layer)
            if name != "linear":
                layers.append(ACTIVATION_LAYERS[name]())
        sizes = [dense[0].W.shape[0]] + [layer.W.shape[1] for layer in dense]
        model = cls.__new__(cls)
        model._build(sizes, names, layers, None, dense[0].dtype)
        return model

    def to_params(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Copies of the parameters as chapter 1's ``[(W1, b1), ...]`` (for the PyTorch/Keras twins)."""
        return [(layer.W.copy(), layer.b.copy()) for layer in self.dense_layers]

    # ----------------------------------------------------------- forward / backward
    def _as_input(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have {self.sizes[0]} columns (the input width); got shape {X.shape}")
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one row; got shape (0, ...)")
        return X.astype(self.dtype, copy=False)

    def forward(self, X, training: bool = True) -> np.ndarray:
        """Output of the last layer for a batch X (n, d_0), Eq. (1.9); logits for a linear output.

        X is converted to the model's dtype (float64 input to a float32 model is rounded).
        """
        out = self._as_input(X)
        for layer in self.layers:
            out = layer.forward(out, training=training)
        return out

    def backward(self, grad_output) -> np.ndarray:
        """Backpropagate dJ/d(output) through every layer, Eqs. (3.2)-(3.6).

        Args:
            grad_output: dJ/d(network output), shape (n, d_L); for a linear
                output layer this is Delta^(L) = dJ/dZ^(L).

        Returns:
            dJ/dX, shape (n, d_0). The parameter gradients are left in :meth:`grads`.
        """
        grad = grad_output
        if isinstance(grad, np.ndarray) and grad.dtype != self.dtype and np.issubdtype(grad.dtype, np.floating):
            raise TypeError(f"grad_output has dtype {grad.dtype} but the model computes in {self.dtype}")
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def loss(self, X, y, loss: str = "softmax_cross_entropy") -> float:
        """The mean loss of the batch (forward pass only)."""
        return self._loss_fn(loss)[0](self.forward(X, training=False), y)

    def loss_and_grad(self, X, y, loss: str = "softmax_cross_entropy") -> float:
        """Forward pass, loss, and backward pass; returns the loss and fills :meth:`grads`.

        Args:
            X: inputs (n, d_0).
            y: integer class labels (n,) for ``"softmax_cross_entropy"``; targets
                of the output's shape for ``"binary_cross_entropy"`` (from logits) and ``"mse"``.
            loss: one of ``LOSSES``. The cross-entropies take the linear output as
                logits, so their gradient at the logits is "probability minus target"
                divided by the count (Eq. 3.7).
        """
        value_fn, grad_fn = self._loss_fn(loss)
        out = self.forward(X, training=True)
        value = value_fn(out, y)
        self.backward(grad_fn(out, y).astype(self.dtype, copy=False))
        return value

    def _loss_fn(self, loss: str):
        check_choice(loss, "loss", LOSSES)
        if loss != "mse" and self.activations[-1] != "linear":
            raise ValueError(
                f"{loss} takes logits, so the output layer must be linear; got {self.activations[-1]!r}"
            )
        return {
            "softmax_cross_entropy": (losses.softmax_cross_entropy, losses.softmax_cross_entropy_grad),
            "binary_cross_entropy": (
                losses.binary_cross_entropy_with_logits,
                losses.binary_cross_entropy_with_logits_grad,
            ),
            "mse": (losses.mse, losses.mse_grad),
        }[loss]

    # ------------------------------------------------------------------ parameters
    def params(self) -> list[np.ndarray]:
        """Every parameter array, ``[W1, b1, W2, b2, ...]`` (the arrays themselves)."""
        return [array for layer in self.layers for array in layer.params()]

    def grads(self) -> list[np.ndarray]:
        """dJ/d(parameter) from the last backward pass, in the order of :meth:`params`."""
        return [array for layer in self.layers for array in layer.grads()]

    def param_names(self) -> list[str]:
        """Names ``["W1", "b1", "W2", "b2", ...]`` in the order of :meth:`params`."""
        return [f"{kind}{index}" for index in range(1, len(self.dense_layers) + 1) for kind in ("W", "b")]

    @property
    def n_params(self) -> int:
        return int(sum(array.size for array in self.params()))

    # ------------------------------------------------------------------ prediction
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        A linear output with k >= 2 units gives softmax(logits) (rows sum to 1);
        a linear output with one unit gives sigmoid(logit), the probability of
        class 1; a sigmoid output is returned as it is (independent per-unit
        probabilities; a softmax on top of sigmoids would be wrong).
        """
        out = self.forward(X, training=False)
        last = self.activations[-1]
        if last == "sigmoid":
            return out
        if last != "linear":
            raise ValueError(f"predict_proba needs a linear or sigmoid output layer; got {last!r}")
        return sigmoid(out) if out.shape[1] == 1 else softmax(out)

    def predict(self, X) -> np.ndarray:
        """Predicted class per row: argmax of the outputs, or logit > 0 for a single output unit."""
        out = self.forward(X, training=False)
        if out.shape[1] == 1:
            threshold = 0.5 if self.activations[-1] == "sigmoid" else 0.0
            return (out[:, 0] > threshold).astype(np.int64)
        return np.argmax(out, axis=1)

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activations={self.activations}, init={self.init!r}, dtype={self.dtype})"
