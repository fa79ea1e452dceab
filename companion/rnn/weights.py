"""Copying LSTM weights between the book's layout, ``torch.nn.LSTM`` and ``keras.layers.LSTM``.

The three libraries compute the same function, Eqs. (8.3)-(8.6), and store it
differently:

=================  ==========================  ==========================  ==============
weights            book (NumPy)                PyTorch ``nn.LSTM``         Keras ``LSTM``
=================  ==========================  ==========================  ==============
input              ``W`` (d, 4h)               ``weight_ih_l0`` (4h, d)    ``kernel`` (d, 4h)
recurrent          ``U`` (h, 4h)               ``weight_hh_l0`` (4h, h)    ``recurrent_kernel`` (h, 4h)
bias               ``b`` (4h,)                 ``bias_ih_l0 + bias_hh_l0`` ``bias`` (4h,)
gate order         i, f, g, o                  i, f, g, o                  i, f, c, o (c is g)
=================  ==========================  ==========================  ==============

PyTorch keeps two bias vectors that are only ever added, so only their sum
matters; copying into PyTorch puts the whole bias in ``bias_ih_l0`` and zeros
in ``bias_hh_l0``. Keras's ``unit_forget_bias=True`` (its default) is an
*initialisation* rule, forget-gate bias 1, and plays no part once weights are
copied in.
"""

from __future__ import annotations

import numpy as np

from companion.rnn.lstm_numpy import LSTMParams, check_lstm_params


def _check_torch_lstm(module):
    from torch import nn

    if not isinstance(module, nn.LSTM):
        raise TypeError(f"expected a torch.nn.LSTM; got {type(module).__name__}")
    problems = []
    if module.num_layers != 1:
        problems.append(f"num_layers={module.num_layers} (expected 1)")
    if module.bidirectional:
        problems.append("bidirectional=True (expected False)")
    if not module.bias:
        problems.append("bias=False (expected True)")
    if getattr(module, "proj_size", 0):
        problems.append(f"proj_size={module.proj_size} (expected 0)")
    if problems:
        raise ValueError("only a single-layer, one-direction LSTM with biases maps to Eqs. (8.3)-(8.6); "
                         "got " + ", ".join(problems))


def _check_target_shapes(params: LSTMParams, input_size: int, hidden_size: int, target: str):
    if (params.input_size, params.hidden_size) != (input_size, hidden_size):
        raise ValueError(
            f"weight shapes do not match the {target}: it has input size {input_size} and hidden size "
            f"{hidden_size}; the weights have input size {params.input_size} and hidden size {params.hidden_size} "
            f"(W {params.W.shape}, U {params.U.shape})"
        )


def to_torch_lstm(module, params) -> None:
    """Copy book-layout weights into a ``torch.nn.LSTM`` in place (transposes W and U)."""
    import torch

    _check_torch_lstm(module)
    params = check_lstm_params(params)
    _check_target_shapes(params, module.input_size, module.hidden_size, "torch.nn.LSTM")
    ref = module.weight_ih_l0
    as_t = lambda a: torch.as_tensor(np.ascontiguousarray(a), dtype=ref.dtype, device=ref.device)  # noqa: E731
    with torch.no_grad():
        module.weight_ih_l0.copy_(as_t(params.W.T))
        module.weight_hh_l0.copy_(as_t(params.U.T))
        module.bias_ih_l0.copy_(as_t(params.b))
        module.bias_hh_l0.zero_()


def from_torch_lstm(module) -> LSTMParams:
    """Read a ``torch.nn.LSTM``'s weights into the book's layout (the two biases are summed)."""
    _check_torch_lstm(module)
    get = lambda p: p.detach().cpu().numpy()  # noqa: E731
    return LSTMParams(
        get(module.weight_ih_l0).T.copy(),
        get(module.weight_hh_l0).T.copy(),
        get(module.bias_ih_l0) + get(module.bias_hh_l0),
    )


def _check_keras_lstm(layer):
    import keras

    if isinstance(layer, keras.layers.LSTM):
        cell = layer.cell
    elif isinstance(layer, keras.layers.LSTMCell):
        cell = layer
    else:
        raise TypeError(f"expected a keras.layers.LSTM or LSTMCell; got {type(layer).__name__}")
    if not cell.built:
        raise ValueError("the Keras LSTM has no weights yet: build it first (call it once or give the model an Input)")
    if not cell.use_bias:
        raise ValueError("only a Keras LSTM with use_bias=True maps to Eqs. (8.3)-(8.6); got use_bias=False")
    return cell


def to_keras_lstm(layer, params) -> None:
    """Copy book-layout weights into a built ``keras.layers.LSTM`` (or ``LSTMCell``) in place."""
    cell = _check_keras_lstm(layer)
    params = check_lstm_params(params)
    kernel = cell.kernel
    _check_target_shapes(params, int(kernel.shape[0]), int(cell.units), "Keras LSTM")
    dtype = kernel.dtype
    cell.kernel.assign(np.asarray(params.W, dtype=dtype))
    cell.recurrent_kernel.assign(np.asarray(params.U, dtype=dtype))
    cell.bias.assign(np.asarray(params.b, dtype=dtype))


def from_keras_lstm(layer) -> LSTMParams:
    """Read a built Keras LSTM's weights into the book's layout (no transposes needed)."""
    cell = _check_keras_lstm(layer)
    return LSTMParams(
        np.asarray(cell.kernel.numpy()), np.asarray(cell.recurrent_kernel.numpy()), np.asarray(cell.bias.numpy())
    )
