"""Scaled dot-product and multi-head attention in NumPy: the book's reference (chapter 9).

Equations (chapter 9):
    projections       Eq. (9.1):  Q = X_q W_Q,  K = X_kv W_K,  V = X_kv W_V
    scores            Eq. (9.2):  S = Q K^T / sqrt(d_k)            (T_q, T_k)
    weights, output   Eq. (9.3):  A = softmax over the keys of S,  out = A V
    scaling           Eq. (9.4):  Var(q . k) = d_k for independent unit-variance components
    masked scores     Eq. (9.5):  S_ij = -inf where the mask is False
    multi-head        Eq. (9.6):  out = concat_h(A_h V_h) W_O
    cross-attention   Eq. (9.7):  Q from the decoder (x_q), K and V from the encoder (x_kv)

Layout: the book multiplies row vectors from the right, ``x @ W``, so every
weight matrix here is (d_in, d_out) = (D, D). ``nn.Linear`` stores the
transpose, and Keras' ``MultiHeadAttention`` stores the same matrices reshaped
per head; :func:`params_to_torch` and :mod:`companion.attention.keras_attention`
copy between the layouts.

Masks are boolean with True = may attend (``companion.attention.masks``). A
query whose keys are all hidden gets zero weights and a zero output, not NaN.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from companion.checks import as_float_array, check_positive_int, check_rng


class MHAParams(NamedTuple):
    """Weights of one multi-head attention layer, in the ``x @ W`` layout.

    ``W_q, W_k, W_v, W_o`` are (D, D); ``b_q, b_k, b_v, b_o`` are (D,) or all None
    (a layer without biases).
    """

    W_q: np.ndarray
    W_k: np.ndarray
    W_v: np.ndarray
    W_o: np.ndarray
    b_q: np.ndarray | None = None
    b_k: np.ndarray | None = None
    b_v: np.ndarray | None = None
    b_o: np.ndarray | None = None

    @property
    def d_model(self) -> int:
        return int(np.shape(self.W_q)[0])

    @property
    def has_bias(self) -> bool:
        return self.b_q is not None


def init_mha_params(d_model: int, rng: np.random.Generator, *, bias: bool = True, dtype=np.float64) -> MHAParams:
    """Random parameters: weights ~ U(-1/sqrt(D), 1/sqrt(D)) (PyTorch's nn.Linear rule), biases likewise."""
    d_model = check_positive_int(d_model, "d_model")
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(d_model)
    weights = [rng.uniform(-bound, bound, size=(d_model, d_model)).astype(dtype) for _ in range(4)]
    biases = [rng.uniform(-bound, bound, size=d_model).astype(dtype) if bias else None for _ in range(4)]
    return MHAParams(*weights, *biases)


def check_mha_params(params: MHAParams) -> int:
    """Raise unless ``params`` is an :class:`MHAParams` with (D, D) weights and (D,) biases (or none); return D."""
    if not isinstance(params, MHAParams):
        raise TypeError(f"params must be an MHAParams; got {type(params).__name__}")
    D = int(np.shape(params.W_q)[0]) if np.ndim(params.W_q) == 2 else -1
    for name in ("W_q", "W_k", "W_v", "W_o"):
        shape = np.shape(getattr(params, name))
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] != D:
            raise ValueError(f"params.{name} must have shape (d_model, d_model) = ({D}, {D}); got {shape}")
    present = [getattr(params, name) is not None for name in ("b_q", "b_k", "b_v", "b_o")]
    if any(present) and not all(present):
        raise ValueError(f"params must hold all four biases or none; got biases present = {present}")
    if all(present):
        for name in ("b_q", "b_k", "b_v", "b_o"):
            shape = np.shape(getattr(params, name))
            if shape != (D,):
                raise ValueError(f"params.{name} must have shape (d_model,) = ({D},); got {shape}")
    return D


def _check_bool_mask(mask, target: tuple, name: str = "mask") -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"{name} must be boolean (True = may attend); got dtype {mask.dtype}. "
                        "Convert a 0/1 mask with mask.astype(bool)")
    try:
        broadcast = np.broadcast_shapes(mask.shape, target)
    except ValueError:
        broadcast = None
    if broadcast != tuple(target):
        raise ValueError(f"{name} of shape {mask.shape} does not broadcast to the scores' shape {tuple(target)}; "
                         "expected e.g. (T_q, T_k), (batch, 1, T_q, T_k) or (batch, 1, 1, T_k)")
    return mask


def masked_softmax(scores, mask=None):
    """Softmax over the last axis (the keys), Eq. (9.3), with hidden entries set to -inf first, Eq. (9.5).

    A row whose entries are all hidden gets all-zero weights instead of 0/0 = NaN.
    """
    scores = as_float_array(scores, "scores")
    if mask is None:
        shifted = scores - scores.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=-1, keepdims=True)
    mask = np.broadcast_to(_check_bool_mask(mask, scores.shape), scores.shape)
    filled = np.where(mask, scores, -np.inf)
    row_max = filled.max(axis=-1, keepdims=True)
    row_max = np.where(np.isfinite(row_max), row_max, 0.0)  # fully hidden rows: avoid inf - inf
    e = np.where(mask, np.exp(filled - row_max), 0.0)
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(Q K^T / sqrt(d_k)) V over the last two axes, Eqs. (9.2), (9.3) and (9.5).

    Args:
        q: (..., T_q, d_k) queries; k: (..., T_k, d_k) keys; v: (..., T_k, d_v) values.
            Leading axes (batch, heads) must be equal or broadcast.
        mask: optional boolean, broadcastable to (..., T_q, T_k); True = may attend.

    Returns:
        (out, weights): out (..., T_q, d_v); weights (..., T_q, T_k), each row summing to 1
        (or 0 for a query whose keys are all hidden).
    """
    q = as_float_array(q, "q")
    k = as_float_array(k, "k")
    v = as_float_array(v, "v")
    for name, x in (("q", q), ("k", k), ("v", v)):
        if x.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions (..., T, d); got shape {x.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d_k; got q {q.shape} and k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of positions T_k; got k {k.shape} and v {v.shape}")
    d_k = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(d_k)  # (..., T_q, T_k); a Python float keeps float32 float32
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def split_heads(x, num_heads: int) -> np.ndarray:
    """(B, T, D) -> (B, H, T, D/H): head h holds features h*D_h ... (h+1)*D_h - 1 (a reshape, Eq. (9.6))."""
    x = as_float_array(x, "x", ndim=3)
    num_heads = check_positive_int(num_heads, "num_heads")
    B, T, D = x.shape
    if D % num_heads:
        raise ValueError(f"d_model must be divisible by num_heads; got d_model={D}, num_heads={num_heads}")
    return x.reshape(B, T, num_heads, D // num_heads).transpose(0, 2, 1, 3)


def merge_heads(x) -> np.ndarray:
    """(B, H, T, D_h) -> (B, T, H*D_h), the inverse of :func:`split_heads`."""
    x = as_float_array(x, "x", ndim=4)
    B, H, T, Dh = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * Dh)


def _linear(x, W, b):
    return x @ W if b is None else x @ W + b


def multi_head_attention(x_q, x_kv, params: MHAParams, num_heads: int, mask=None, *, key_padding_mask=None,
                         return_weights: bool = False):
    """Multi-head attention, Eqs. (9.1)-(9.3), (9.5)-(9.7): the NumPy reference of the PyTorch module.

    Args:
        x_q: (B, T_q, D) the sequence that asks (queries).
        x_kv: (B, T_k, D) the sequence that is looked at (keys and values); pass ``x_q`` again
            (or None) for self-attention.
        params: :class:`MHAParams` with (D, D) weights in the ``x @ W`` layout.
        num_heads: H; D must be divisible by it.
        mask: optional boolean, broadcastable to (B, H, T_q, T_k); True = may attend.
        key_padding_mask: optional boolean (B, T_k), True at real tokens.
        return_weights: also return the (B, H, T_q, T_k) attention weights.

    Returns:
        out (B, T_q, D), or (out, weights).
    """
    D = check_mha_params(params)
    num_heads = check_positive_int(num_heads, "num_heads")
    if D % num_heads:
        raise ValueError(f"d_model must be divisible by num_heads; got d_model={D}, num_heads={num_heads} "
                         f"(remainder {D % num_heads})")
    x_q = as_float_array(x_q, "x_q", ndim=3)
    x_kv = x_q if x_kv is None else as_float_array(x_kv, "x_kv", ndim=3)
    if x_q.shape[-1] != D or x_kv.shape[-1] != D:
        raise ValueError(f"x_q and x_kv must have last dimension d_model={D}; got {x_q.shape} and {x_kv.shape}")
    if x_q.shape[0] != x_kv.shape[0]:
        raise ValueError(f"x_q and x_kv need the same batch size; got {x_q.shape[0]} and {x_kv.shape[0]}")
    B, T_q, T_k = x_q.shape[0], x_q.shape[1], x_kv.shape[1]
    target = (B, num_heads, T_q, T_k)
    full = None
    if mask is not None:
        full = _check_bool_mask(mask, target)
    if key_padding_mask is not None:
        kpm = np.asarray(key_padding_mask)
        if kpm.dtype != bool or kpm.shape != (B, T_k):
            raise ValueError(f"key_padding_mask must be boolean of shape (batch, T_k) = {(B, T_k)}; "
                             f"got {kpm.shape} {kpm.dtype}")
        kpm = kpm[:, None, None, :]
        full = kpm if full is None else full & kpm
    q = split_heads(_linear(x_q, params.W_q, params.b_q), num_heads)   # (B, H, T_q, D_h)
    k = split_heads(_linear(x_kv, params.W_k, params.b_k), num_heads)  # (B, H, T_k, D_h)
    v = split_heads(_linear(x_kv, params.W_v, params.b_v), num_heads)  # (B, H, T_k, D_h)
    heads, weights = scaled_dot_product_attention(q, k, v, full)
    out = _linear(merge_heads(heads), params.W_o, params.b_o)
    return (out, weights) if return_weights else out


# ---------------------------------------------------------------------------
# Copying parameters to and from the PyTorch module
# ---------------------------------------------------------------------------

_TORCH_NAMES = (("q_proj", "W_q", "b_q"), ("k_proj", "W_k", "b_k"), ("v_proj", "W_v", "b_v"),
                ("out_proj", "W_o", "b_o"))


def params_to_torch(params: MHAParams, module) -> None:
    """Copy ``params`` into a ``companion.attention.torch_attention.MultiHeadAttention`` in place.

    ``nn.Linear`` computes x W^T + b with its weight stored (d_out, d_in), so the
    book's W (d_in, d_out) goes in transposed. The module keeps its dtype and device.
    """
    import torch

    D = check_mha_params(params)
    if getattr(module, "d_model", None) != D:
        raise ValueError(f"module must have d_model={D} to receive these params; got "
                         f"{getattr(module, 'd_model', type(module).__name__)}")
    if (module.q_proj.bias is not None) != params.has_bias:
        raise ValueError(f"bias mismatch: params have biases={params.has_bias}, "
                         f"module has biases={module.q_proj.bias is not None}")
    with torch.no_grad():
        for layer_name, w_name, b_name in _TORCH_NAMES:
            layer = getattr(module, layer_name)
            W = torch.as_tensor(np.asarray(getattr(params, w_name)).T.copy())
            layer.weight.copy_(W.to(layer.weight))
            if params.has_bias:
                layer.bias.copy_(torch.as_tensor(np.asarray(getattr(params, b_name))).to(layer.bias))


def params_from_torch(module) -> MHAParams:
    """Read a PyTorch ``MultiHeadAttention``'s projections back into :class:`MHAParams` (float64)."""
    values = {}
    for layer_name, w_name, b_name in _TORCH_NAMES:
        layer = getattr(module, layer_name)
        values[w_name] = layer.weight.detach().cpu().double().numpy().T.copy()
        values[b_name] = None if layer.bias is None else layer.bias.detach().cpu().double().numpy().copy()
    return MHAParams(**values)
