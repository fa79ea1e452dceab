"""The chapter 1 MLP as a PyTorch module, built from NumPy parameters.

``nn.Linear`` stores its weight as (d_out, d_in) and computes X W^T + b, so a
book weight matrix W (d_in, d_out) is copied in transposed. With the weights
copied, the module computes exactly Eq. (1.9).
"""

from __future__ import annotations

import numpy as np

from companion.nn.forward import check_network


def _torch_activation(name: str):
    from torch import nn

    return {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "linear": nn.Identity,
        "softmax": lambda: nn.Softmax(dim=-1),
    }[name]()


def torch_mlp_from_params(params, activations, dtype=None, device=None):
    """Build an ``nn.Sequential`` whose layers hold copies of ``params``.

    Args:
        params: list of (W, b) in the book's layout, W (d_in, d_out).
        activations: one name per layer.
        dtype: a torch dtype; default torch.float64 for float64 weights, else float32.
        device: where to put the module; default ``companion.get_device()``.
    """
    import torch
    from torch import nn

    from companion.device import get_device

    check_network(params, activations)
    if dtype is None:
        dtype = torch.float64 if np.asarray(params[0][0]).dtype == np.float64 else torch.float32
    device = get_device() if device is None else device
    modules = []
    for (W, b), name in zip(params, activations):
        W = np.asarray(W)
        linear = nn.Linear(W.shape[0], W.shape[1], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W.T, dtype=dtype))  # (d_out, d_in)
            linear.bias.copy_(torch.as_tensor(np.asarray(b), dtype=dtype))
        modules += [linear, _torch_activation(name)]
    return nn.Sequential(*modules).to(device)
