"""A recurrent cell and an LSTM cell, forward pass in NumPy (book chapter 8).

Conventions follow chapter 1: examples are rows. A batch of sequences is an
array ``X`` of shape (n, T, d): n sequences, T time steps, d features per step.
A sequence shorter than T is right-padded, and ``lengths[k]`` says how many of
its steps are real.

The LSTM weights use one layout, the book's, which is also Keras's:

- ``W`` (d, 4h): input weights, columns in the gate order i, f, g, o;
- ``U`` (h, 4h): recurrent weights, same column order;
- ``b`` (4h,): one bias.

The pre-activation of all four gates is one matrix product, Eq. (8.3):
``Z = x_t W + h_{t-1} U + b``; its four column blocks give the input gate
i = sigma(z_i), the forget gate f = sigma(z_f), the candidate g = tanh(z_g) and
the output gate o = sigma(z_o), Eq. (8.4); then c_t = f * c_{t-1} + i * g,
Eq. (8.5), and h_t = o * tanh(c_t), Eq. (8.6). Padded steps leave the state
unchanged, Eq. (8.8).

The mapping to the frameworks' layouts lives in :mod:`companion.rnn.weights`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from companion.checks import as_float_array, check_positive_int, check_rng
from companion.nn.activations import sigmoid  # the overflow-safe sigmoid of chapter 1, Eq. (1.4)
from companion.text.padding import padding_mask  # Eq. (7.3)

GATES = ("i", "f", "g", "o")


class RecurrentParams(NamedTuple):
    """The weights of a recurrent cell in the book's layout: W (d, k h), U (h, k h), b (k h,).

    k is the number of gate blocks: 1 for the plain RNN of Eq. (8.1), 4 for the
    LSTM of Eq. (8.3) (columns in the gate order i, f, g, o).
    """

    W: np.ndarray
    U: np.ndarray
    b: np.ndarray

    @property
    def input_size(self) -> int:
        return int(self.W.shape[0])

    @property
    def hidden_size(self) -> int:
        return int(self.U.shape[0])


class LSTMParams(RecurrentParams):
    """LSTM weights: W (d, 4h), U (h, 4h), b (4h,), gates i, f, g, o, Eq. (8.3)."""

    __slots__ = ()
    blocks = 4


class RNNParams(RecurrentParams):
    """Plain (Elman) RNN weights: W (d, h), U (h, h), b (h,), Eq. (8.1)."""

    __slots__ = ()
    blocks = 1


def _check_params(params, kind: type[RecurrentParams], name: str) -> RecurrentParams:
    if not isinstance(params, tuple) or len(params) != 3:
        raise TypeError(f"{name} params must be a tuple (W, U, b); got {type(params).__name__}")
    W = as_float_array(params[0], "W", ndim=2)
    U = as_float_array(params[1], "U", ndim=2)
    b = as_float_array(params[2], "b", ndim=1)
    h, width = U.shape[0], kind.blocks * U.shape[0]
    kh = "h" if kind.blocks == 1 else f"{kind.blocks}h"
    if U.shape != (h, width):
        raise ValueError(f"U must have shape (h, {kh}); got {U.shape}")
    if W.shape[1] != width:
        raise ValueError(f"W must have shape (d, {kh}) = (d, {width}) to match U {U.shape}; got {W.shape}")
    if b.shape != (width,):
        raise ValueError(f"b must have shape ({kh},) = ({width},) to match U {U.shape}; got {b.shape}")
    return kind(W, U, b)


def check_lstm_params(params) -> LSTMParams:
    """Return ``params`` as :class:`LSTMParams` of float arrays, or raise on inconsistent shapes.

    W must be (d, 4h), U (h, 4h) and b (4h,) for one hidden size h.
    """
    return _check_params(params, LSTMParams, "LSTM")


def check_rnn_params(params) -> RNNParams:
    """Return ``params`` as :class:`RNNParams`, or raise: W (d, h), U (h, h), b (h,)."""
    return _check_params(params, RNNParams, "RNN")


def _init_params(kind: type[RecurrentParams], input_size, hidden_size, rng, dtype) -> RecurrentParams:
    input_size = check_positive_int(input_size, "input_size")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(hidden_size)
    width = kind.blocks * hidden_size
    W = rng.uniform(-bound, bound, size=(input_size, width)).astype(dtype)
    U = rng.uniform(-bound, bound, size=(hidden_size, width)).astype(dtype)
    b = rng.uniform(-bound, bound, size=width).astype(dtype)
    return kind(W, U, b)


def init_lstm(input_size: int, hidden_size: int, rng, dtype=np.float64) -> LSTMParams:
    """Random LSTM weights, uniform in [-1/sqrt(h), 1/sqrt(h)] as PyTorch initialises them.

    The biases are random too (not zero), so that a comparison with a framework
    exercises every weight. ``rng`` is a NumPy Generator or an int seed.
    """
    return _init_params(LSTMParams, input_size, hidden_size, rng, dtype)


def init_rnn(input_size: int, hidden_size: int, rng, dtype=np.float64) -> RNNParams:
    """Random RNN weights, uniform in [-1/sqrt(h), 1/sqrt(h)]; ``rng`` is a Generator or an int seed."""
    return _init_params(RNNParams, input_size, hidden_size, rng, dtype)


def split_gates(Z: np.ndarray) -> dict:
    """Split the (n, 4h) gate pre-activations of Eq. (8.3) into the blocks z_i, z_f, z_g, z_o."""
    Z = np.asarray(Z)
    if Z.ndim < 1 or Z.shape[-1] % 4:
        raise ValueError(f"gate pre-activations need a last axis of size 4h; got shape {Z.shape}")
    return dict(zip(GATES, np.split(Z, 4, axis=-1)))


def lstm_cell_step(x_t, h_prev, c_prev, params, return_gates: bool = False):
    """One LSTM step for a batch, Eqs. (8.3)-(8.6).

    Args:
        x_t: (n, d) inputs at step t.
        h_prev, c_prev: (n, h) hidden and cell state at step t - 1.
        params: :class:`LSTMParams` (W, U, b).
        return_gates: also return the dict of gate activations i, f, g, o.

    Returns:
        (h_t, c_t), or (h_t, c_t, gates) with ``return_gates``.
    """
    W, U, b = check_lstm_params(params)
    x_t = as_float_array(x_t, "x_t", ndim=2)
    h_prev = as_float_array(h_prev, "h_prev", ndim=2)
    c_prev = as_float_array(c_prev, "c_prev", ndim=2)
    n, h = x_t.shape[0], U.shape[0]
    if x_t.shape[1] != W.shape[0]:
        raise ValueError(f"x_t must have {W.shape[0]} features to match W {W.shape}; got shape {x_t.shape}")
    for name, state in (("h_prev", h_prev), ("c_prev", c_prev)):
        if state.shape != (n, h):
            raise ValueError(f"{name} must have shape (n, h) = ({n}, {h}); got {state.shape}")
    z = split_gates(x_t @ W + h_prev @ U + b)  # Eq. (8.3)
    gates = {"i": sigmoid(z["i"]), "f": sigmoid(z["f"]), "g": np.tanh(z["g"]), "o": sigmoid(z["o"])}  # Eq. (8.4)
    c_t = gates["f"] * c_prev + gates["i"] * gates["g"]  # Eq. (8.5)
    h_t = gates["o"] * np.tanh(c_t)  # Eq. (8.6)
    return (h_t, c_t, gates) if return_gates else (h_t, c_t)


def rnn_cell_step(x_t, h_prev, params):
    """One plain RNN step h_t = tanh(x_t W + h_{t-1} U + b) for a batch, Eq. (8.1)."""
    W, U, b = check_rnn_params(params)
    x_t = as_float_array(x_t, "x_t", ndim=2)
    h_prev = as_float_array(h_prev, "h_prev", ndim=2)
    if x_t.shape[1] != W.shape[0]:
        raise ValueError(f"x_t must have {W.shape[0]} features to match W {W.shape}; got shape {x_t.shape}")
    if h_prev.shape != (x_t.shape[0], U.shape[0]):
        raise ValueError(f"h_prev must have shape ({x_t.shape[0]}, {U.shape[0]}); got {h_prev.shape}")
    return np.tanh(x_t @ W + h_prev @ U + b)


def _prepare_sequences(X, lengths, h0, hidden: int, input_size: int):
    X = as_float_array(X, "X", ndim=3)
    n, T, d = X.shape
    if d != input_size:
        raise ValueError(f"X must have {input_size} features per step to match W; got shape {X.shape}")
    if lengths is None:
        lengths = np.full(n, T, dtype=np.int64)
    lengths = np.asarray(lengths)
    if lengths.shape != (n,):
        raise ValueError(f"lengths must have one entry per sequence, shape ({n},); got shape {lengths.shape}")
    mask = padding_mask(lengths, T)
    if h0 is None:
        h0 = np.zeros((n, hidden), dtype=X.dtype)
    h0 = as_float_array(h0, "h0", ndim=2)
    if h0.shape != (n, hidden):
        raise ValueError(f"initial state must have shape ({n}, {hidden}); got {h0.shape}")
    return X, mask, h0


def lstm_forward(X, params, lengths=None, h0=None, c0=None):
    """Run the LSTM of Eqs. (8.3)-(8.6) over a batch of right-padded sequences.

    At a padded step (``t >= lengths[k]``) the state of sequence k is carried
    over unchanged, Eq. (8.8), and its output is zero, as PyTorch's
    ``pad_packed_sequence`` returns it. The final state is therefore the state
    after each sequence's last real step, which is what a packed
    ``torch.nn.LSTM`` and a masked ``keras.layers.LSTM`` return.

    Args:
        X: (n, T, d) inputs.
        params: :class:`LSTMParams` (W (d, 4h), U (h, 4h), b (4h,)).
        lengths: (n,) integers in [0, T]; None means every sequence has T steps.
        h0, c0: (n, h) initial states; zeros by default.

    Returns:
        (outputs (n, T, h), (h_T, c_T)) with h_T, c_T of shape (n, h).
    """
    params = check_lstm_params(params)
    hidden = params.hidden_size
    X, mask, h = _prepare_sequences(X, lengths, h0, hidden, params.input_size)
    c = np.zeros_like(h) if c0 is None else as_float_array(c0, "c0", ndim=2)
    if c.shape != h.shape:
        raise ValueError(f"c0 must have shape {h.shape}; got {c.shape}")
    n, T, _ = X.shape
    outputs = np.zeros((n, T, hidden), dtype=np.result_type(X, params.W))
    for t in range(T):
        h_new, c_new = lstm_cell_step(X[:, t], h, c, params)
        m = mask[:, t : t + 1]
        h = np.where(m, h_new, h)  # Eq. (8.8)
        c = np.where(m, c_new, c)
        outputs[:, t] = np.where(m, h_new, 0.0)
    return outputs, (h, c)


def rnn_forward(X, params, lengths=None, h0=None):
    """Run the plain RNN of Eq. (8.1) over a batch of right-padded sequences.

    Padded steps carry the state over and output zero, as in :func:`lstm_forward`.

    Returns:
        (outputs (n, T, h), h_T (n, h)).
    """
    params = check_rnn_params(params)
    X, mask, h = _prepare_sequences(X, lengths, h0, params.hidden_size, params.input_size)
    n, T, _ = X.shape
    outputs = np.zeros((n, T, params.hidden_size), dtype=np.result_type(X, params.W))
    for t in range(T):
        h_new = rnn_cell_step(X[:, t], h, params)
        m = mask[:, t : t + 1]
        h = np.where(m, h_new, h)
        outputs[:, t] = np.where(m, h_new, 0.0)
    return outputs, h
