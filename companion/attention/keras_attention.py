"""``keras.layers.MultiHeadAttention`` with the book's weights copied in (chapter 9).

Keras stores each projection per head: the query kernel is (D, H, D_h) and its
bias (H, D_h); the output kernel is (H, D_h, D). Reshaping the book's (D, D)
matrix W_Q to (D, H, D_h) puts columns h*D_h ... (h+1)*D_h - 1 in head h, which
is exactly how :func:`companion.attention.numpy_attention.split_heads` and the
PyTorch module cut the features, so with the weights copied all three compute
Eqs. (9.1)-(9.3), (9.5), (9.6) alike.

Keras' boolean ``attention_mask`` has shape (B, T_q, T_k) (the same for every
head), True = may attend, and is passed to ``layer(query, value, key, attention_mask=...)``.
"""

from __future__ import annotations

import numpy as np

from companion.attention.numpy_attention import MHAParams, check_mha_params
from companion.checks import check_positive_int


def _import_keras():
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    return keras


def keras_mha_from_params(params: MHAParams, num_heads: int, *, dtype: str | None = None):
    """Build a built ``keras.layers.MultiHeadAttention`` holding copies of ``params``.

    Args:
        params: :class:`~companion.attention.numpy_attention.MHAParams`, weights (D, D).
        num_heads: H; D must be divisible by it. ``key_dim`` is D / H.
        dtype: ``"float64"`` or ``"float32"``; default follows the weights' dtype.
    """
    keras = _import_keras()
    D = check_mha_params(params)
    num_heads = check_positive_int(num_heads, "num_heads")
    if D % num_heads:
        raise ValueError(f"d_model must be divisible by num_heads; got d_model={D}, num_heads={num_heads}")
    Dh = D // num_heads
    if dtype is None:
        dtype = "float64" if np.asarray(params.W_q).dtype == np.float64 else "float32"
    layer = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=Dh, use_bias=params.has_bias,
                                            dtype=dtype)
    layer.build((None, None, D), (None, None, D), (None, None, D))
    to_keras_mha(layer, params)
    return layer


def to_keras_mha(layer, params: MHAParams) -> None:
    """Copy ``params`` into a built Keras ``MultiHeadAttention`` (reshaping per head)."""
    D = check_mha_params(params)
    H, Dh = _heads_of(layer)
    if H * Dh != D:
        raise ValueError(f"layer has num_heads*key_dim = {H}*{Dh} = {H * Dh}; params have d_model={D}")
    has_bias = bool(layer._use_bias)
    if has_bias != params.has_bias:
        raise ValueError(f"bias mismatch: params have biases={params.has_bias}, layer has use_bias={has_bias}")
    dt = layer.compute_dtype if hasattr(layer, "compute_dtype") else "float32"
    for dense, W, b in ((layer._query_dense, params.W_q, params.b_q), (layer._key_dense, params.W_k, params.b_k),
                        (layer._value_dense, params.W_v, params.b_v)):
        weights = [np.asarray(W, dtype=dt).reshape(D, H, Dh)]
        if has_bias:
            weights.append(np.asarray(b, dtype=dt).reshape(H, Dh))
        dense.set_weights(weights)
    weights = [np.asarray(params.W_o, dtype=dt).reshape(H, Dh, D)]
    if has_bias:
        weights.append(np.asarray(params.b_o, dtype=dt))
    layer._output_dense.set_weights(weights)


def params_from_keras(layer) -> MHAParams:
    """Read a built Keras ``MultiHeadAttention`` back into :class:`MHAParams` (float64)."""
    H, Dh = _heads_of(layer)
    D = H * Dh
    values = {}
    for dense, w_name, b_name in ((layer._query_dense, "W_q", "b_q"), (layer._key_dense, "W_k", "b_k"),
                                  (layer._value_dense, "W_v", "b_v")):
        weights = [np.asarray(w, dtype=np.float64) for w in dense.get_weights()]
        if weights[0].shape[0] != D:
            raise ValueError(f"this reader needs a layer whose input width equals num_heads*key_dim = {D}; "
                             f"got kernel {weights[0].shape}")
        values[w_name] = weights[0].reshape(D, D)
        values[b_name] = weights[1].reshape(D) if len(weights) > 1 else None
    weights = [np.asarray(w, dtype=np.float64) for w in layer._output_dense.get_weights()]
    if weights[0].shape[-1] != D:
        raise ValueError(f"this reader needs output width num_heads*key_dim = {D}; got kernel {weights[0].shape}")
    values["W_o"] = weights[0].reshape(D, D)
    values["b_o"] = weights[1] if len(weights) > 1 else None
    return MHAParams(**values)


def _heads_of(layer) -> tuple[int, int]:
    keras = _import_keras()
    if not isinstance(layer, keras.layers.MultiHeadAttention):
        raise TypeError(f"layer must be a keras.layers.MultiHeadAttention; got {type(layer).__name__}")
    if not layer.built:
        raise ValueError("the Keras layer is not built yet: call it once or use keras_mha_from_params")
    return int(layer.num_heads), int(layer.key_dim)


def keras_attention_mask(mask, batch: int, T_q: int, T_k: int, *, key_padding_mask=None) -> np.ndarray:
    """Turn the book's masks into Keras' (B, T_q, T_k) boolean ``attention_mask``.

    ``mask`` must broadcast to (B, 1, T_q, T_k) (Keras uses one mask for all heads),
    e.g. (T_q, T_k) or (B, 1, T_q, T_k); ``key_padding_mask`` is (B, T_k).
    """
    out = np.ones((batch, T_q, T_k), dtype=bool)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be boolean (True = may attend); got dtype {mask.dtype}")
        if mask.ndim == 4:
            if mask.shape[1] != 1:
                raise ValueError(f"Keras applies one mask to every head: a 4-D mask needs shape (B, 1, T_q, T_k); "
                                 f"got {mask.shape}")
            mask = mask[:, 0]
        try:
            out = out & np.broadcast_to(mask, (batch, T_q, T_k))
        except ValueError:
            raise ValueError(f"mask of shape {mask.shape} does not broadcast to (batch, T_q, T_k) = "
                             f"{(batch, T_q, T_k)}") from None
    if key_padding_mask is not None:
        kpm = np.asarray(key_padding_mask)
        if kpm.dtype != bool or kpm.shape != (batch, T_k):
            raise ValueError(f"key_padding_mask must be boolean of shape (batch, T_k) = {(batch, T_k)}; "
                             f"got {kpm.shape} {kpm.dtype}")
        out = out & kpm[:, None, :]
    return out
