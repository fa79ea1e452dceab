"""Layers with a forward and a backward pass, in NumPy (book chapter 3).

Every layer follows one small interface:

- ``forward(X, training=True)`` computes the layer's output for a batch and
  remembers what its backward pass will need;
- ``backward(grad_out)`` takes dJ/d(output), the gradient of a scalar loss J
  with respect to the layer's output, stores the gradients of J with respect
  to the layer's parameters and returns dJ/d(input);
- ``params()`` and ``grads()`` return the parameter arrays and their gradients
  in matching order. ``params()`` returns the arrays themselves (not copies),
  so an optimiser can update them in place.

Convention (chapter 1): examples are rows. For a dense layer
Z = X W + 1 b^T (Eq. 1.2), and with Delta = dJ/dZ (n, d_out) the backward
pass is

    dJ/dW = X^T Delta,   dJ/db = 1^T Delta,   dJ/dX = Delta W^T      Eqs. (3.2)-(3.4)

An elementwise activation A = f(Z) passes the gradient on as

    dJ/dZ = dJ/dA * f'(Z)   (elementwise product)                    Eq. (3.5)

The ``training`` flag is unused by these layers; it is part of the interface
so that layers which behave differently in training (dropout, chapter 6) fit in.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_choice, check_dtype, check_positive_int, check_rng
from companion.nn.activations import ACTIVATIONS
from companion.nn.dense import dense_forward
from companion.nn.init import init_weights

DTYPES = (np.float32, np.float64)


def _check_input(X, name: str, dtype: np.dtype, width: int | None = None) -> np.ndarray:
    """X as a finite 2-D float array of the layer's dtype (and width), else raise."""
    X = as_float_array(X, name, ndim=2)
    if X.dtype != dtype:
        raise TypeError(
            f"{name} has dtype {X.dtype} but the layer's parameters are {dtype}; "
            f"convert it first, e.g. {name}.astype(np.{dtype})"
        )
    if width is not None and X.shape[1] != width:
        raise ValueError(f"{name} must have {width} columns; got shape {X.shape}")
    return X


class Layer:
    """Base class: a layer without parameters that passes nothing through.

    Subclasses override :meth:`forward` and :meth:`backward`; layers with
    parameters also override :meth:`params` and :meth:`grads`.
    """

    def forward(self, X, training: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, grad_out) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> list[np.ndarray]:
        """The layer's parameter arrays (the arrays themselves, for in-place updates)."""
        return []

    def grads(self) -> list[np.ndarray]:
        """dJ/d(parameter) for each array of :meth:`params`, from the last backward pass."""
        return []

    def __call__(self, X, training: bool = True) -> np.ndarray:
        return self.forward(X, training=training)

    def _check_grad_out(self, grad_out, cached: np.ndarray | None, expected_shape) -> np.ndarray:
        if cached is None:
            raise RuntimeError(f"{type(self).__name__}.backward was called before forward")
        grad = as_float_array(grad_out, "grad_out")
        if grad.shape != expected_shape:
            raise ValueError(
                f"grad_out must have the shape of the layer's last output {expected_shape}; got {grad.shape}"
            )
        if grad.dtype != cached.dtype:
            raise TypeError(f"grad_out has dtype {grad.dtype} but the layer computes in {cached.dtype}")
        return grad


class Dense(Layer):
    """Fully connected layer Z = X W + 1 b^T (Eq. 1.2) with its backward pass, Eqs. (3.2)-(3.4).

    Args:
        d_in, d_out: input and output widths.
        scheme: weight initialisation, one of ``companion.nn.init.SCHEMES``
            (Eqs. 1.10-1.11). Biases start at zero.
        rng: a ``numpy.random.Generator`` (or an int seed) for the weights; required,
            so that two layers never share a draw by accident.
        dtype: float32 or float64.

    Use :meth:`from_params` to build the layer around given arrays instead.
    """

    def __init__(self, d_in: int, d_out: int, scheme: str = "he_normal", *, rng, dtype=np.float64):
        d_in = check_positive_int(d_in, "d_in")
        d_out = check_positive_int(d_out, "d_out")
        dtype = check_dtype(dtype)
        W = init_weights(d_in, d_out, scheme, check_rng(rng)).astype(dtype)
        self._set(W, np.zeros(d_out, dtype=dtype))

    @classmethod
    def from_params(cls, W, b) -> "Dense":
        """A dense layer holding copies of ``W`` (d_in, d_out) and ``b`` (d_out,)."""
        W = as_float_array(W, "W", ndim=2)
        b = as_float_array(b, "b", ndim=1)
        check_dtype(W.dtype)
        if b.shape != (W.shape[1],):
            raise ValueError(f"b must have shape ({W.shape[1]},) to match W {W.shape}; got {b.shape}")
        if b.dtype != W.dtype:
            raise TypeError(f"W and b must share a dtype; got {W.dtype} and {b.dtype}")
        layer = cls.__new__(cls)
        layer._set(W.copy(), b.copy())
        return layer

    def _set(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b
        self.dW, self.db = np.zeros_like(W), np.zeros_like(b)
        self._X: np.ndarray | None = None

    @property
    def dtype(self) -> np.dtype:
        return self.W.dtype

    def forward(self, X, training: bool = True) -> np.ndarray:
        """Z = X W + 1 b^T for a batch X of shape (n, d_in), Eq. (1.2)."""
        X = _check_input(X, "X", self.W.dtype, self.W.shape[0])
        self._X = X  # the backward pass needs the input: dJ/dW = X^T Delta
        return dense_forward(X, self.W, self.b)

    def backward(self, grad_out) -> np.ndarray:
        """Store dJ/dW = X^T Delta and dJ/db = 1^T Delta; return dJ/dX = Delta W^T, Eqs. (3.2)-(3.4).

        ``grad_out`` is Delta = dJ/dZ, shape (n, d_out). The products sum over
        the n examples, so the stored gradients are those of the batch loss J.
        """
        X = self._X
        delta = self._check_grad_out(grad_out, X, None if X is None else (X.shape[0], self.W.shape[1]))
        np.matmul(X.T, delta, out=self.dW)
        np.sum(delta, axis=0, out=self.db)
        return delta @ self.W.T

    def params(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def grads(self) -> list[np.ndarray]:
        return [self.dW, self.db]

    def __repr__(self) -> str:
        return f"Dense({self.W.shape[0]}, {self.W.shape[1]}, dtype={self.W.dtype})"


class Activation(Layer):
    """Elementwise activation A = f(Z) with backward dJ/dZ = dJ/dA * f'(Z), Eq. (3.5).

    Args:
        name: ``"sigmoid"``, ``"tanh"`` or ``"relu"`` (the functions and
            derivatives of ``companion.nn.activations``, Eqs. 1.4-1.6).
    """

    ELEMENTWISE = ("sigmoid", "tanh", "relu")

    def __init__(self, name: str):
        check_choice(name, "activation layer", self.ELEMENTWISE)
        self.name = name
        self._f, self._df = ACTIVATIONS[name]
        self._Z: np.ndarray | None = None

    def forward(self, X, training: bool = True) -> np.ndarray:
        Z = as_float_array(X, "X")
        self._Z = Z
        return self._f(Z)

    def backward(self, grad_out) -> np.ndarray:
        """dJ/dZ = grad_out * f'(Z), elementwise, Eq. (3.5)."""
        Z = self._Z
        grad = self._check_grad_out(grad_out, Z, None if Z is None else Z.shape)
        return grad * self._df(Z)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """Sigmoid layer, Eq. (1.4); backward multiplies by s(z)(1 - s(z)), Eq. (3.5)."""

    def __init__(self):
        super().__init__("sigmoid")


class Tanh(Activation):
    """Tanh layer, Eq. (1.5); backward multiplies by 1 - tanh(z)^2, Eq. (3.5)."""

    def __init__(self):
        super().__init__("tanh")


class ReLU(Activation):
    """ReLU layer, Eq. (1.6); backward passes the gradient where z > 0 and zeroes it elsewhere, Eq. (3.5)."""

    def __init__(self):
        super().__init__("relu")


ACTIVATION_LAYERS = {"sigmoid": Sigmoid, "tanh": Tanh, "relu": ReLU}
