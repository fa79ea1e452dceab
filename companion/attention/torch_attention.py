"""Multi-head attention in PyTorch, two ways (book chapter 9).

``MultiHeadAttention`` projects the inputs to queries, keys and values, splits
them into heads (a reshape), attends, merges the heads and projects back:

    Q = X_q W_Q,  K = X_kv W_K,  V = X_kv W_V          (each (B, T, D))      Eq. (9.1)
    head h:  A_h = softmax(Q_h K_h^T / sqrt(D_h))     (softmax over the keys) Eqs. (9.2)-(9.3)
             O_h = A_h V_h
    out = concat_h(O_h) W_O                                                   Eq. (9.6)

With ``key_value`` given, queries come from one sequence and keys and values
from another: cross-attention, Eq. (9.7).

Two implementations compute the same thing:

- ``"written_out"``: the formula above line by line (:func:`written_out_attention`),
  for teaching, and the only one that can return the attention weights;
- ``"sdpa"``: ``torch.nn.functional.scaled_dot_product_attention``, which picks a
  fused kernel (flash or memory-efficient attention on a GPU) and never stores
  the (T_q, T_k) weight matrix when it does not have to.

Masks are boolean with True = may attend (see ``companion.attention.masks``).
A query row whose keys are all hidden would make the softmax 0/0; both paths
instead give such a row zero attention weights and a zero attention output (the
module's output there is then the output projection's bias alone), and keep the
gradients finite.

Self-attention with a :class:`KVCache` appends the new keys and values to the
cache and attends over all of them, and ``is_causal`` then aligns the queries
with the end of the keys, so generating one token at a time with a cache gives
the same outputs as recomputing the whole prefix (chapter 12).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from companion.attention.masks import check_attention_mask
from companion.checks import check_choice, check_positive_int

IMPLEMENTATIONS = ("sdpa", "written_out")


def _causal_mask(T_q: int, T_k: int, device) -> torch.Tensor:
    """(T_q, T_k) boolean lower triangle aligned to the end of the keys (``masks.causal_mask``)."""
    return torch.ones(T_q, T_k, dtype=torch.bool, device=device).tril(diagonal=T_k - T_q)


def _combine_masks(attn_mask, is_causal: bool, T_q: int, T_k: int, device):
    if not is_causal:
        return attn_mask
    causal = _causal_mask(T_q, T_k, device)
    return causal if attn_mask is None else attn_mask & causal


def written_out_attention(q, k, v, attn_mask=None, *, is_causal=False, dropout_p=0.0, training=False,
                          return_weights=False):
    """Scaled dot-product attention written out: softmax(Q K^T / sqrt(D_h)) V, Eqs. (9.2), (9.3), (9.5).

    Hidden entries get the score -inf before the softmax, Eq. (9.5).

    Args:
        q: (B, H, T_q, D_h) queries; k, v: (B, H, T_k, D_h) keys and values.
        attn_mask: boolean, broadcastable to (B, H, T_q, T_k); True = may attend.
        is_causal: hide keys in each query's future (aligned to the end of the keys).
        dropout_p, training: dropout on the attention weights, only while training.
        return_weights: also return the (B, H, T_q, T_k) weights (before dropout).

    Returns:
        out (B, H, T_q, D_h), or (out, weights).
    """
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError(f"q, k, v must be 4-D (B, H, T, D_h); got shapes {tuple(q.shape)}, "
                         f"{tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"q and k need the same head size and k and v the same length; got q {tuple(q.shape)}, "
                         f"k {tuple(k.shape)}, v {tuple(v.shape)}")
    B, H, T_q, d_head = q.shape
    T_k = k.shape[-2]
    if attn_mask is not None:
        check_attention_mask(attn_mask, B, H, T_q, T_k)
    mask = _combine_masks(attn_mask, is_causal, T_q, T_k, q.device)

    scores = q @ k.transpose(-2, -1) / math.sqrt(d_head)  # (B, H, T_q, T_k)
    if mask is not None:
        mask = mask.expand(B, H, T_q, T_k)
        has_key = mask.any(dim=-1, keepdim=True)
        scores = scores.masked_fill(~(mask | ~has_key), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~has_key, 0.0)
    dropped = F.dropout(weights, p=dropout_p, training=training) if dropout_p > 0 else weights
    out = dropped @ v
    return (out, weights) if return_weights else out


class KVCache:
    """Keys and values of the tokens seen so far, for one attention layer.

    ``keys`` and ``values`` are (B, H, T_cached, D_h) tensors, or None while empty.
    """

    def __init__(self):
        self.keys = None
        self.values = None

    @property
    def length(self) -> int:
        """Number of cached positions."""
        return 0 if self.keys is None else self.keys.shape[2]

    def append(self, k, v):
        """Add (B, H, T_new, D_h) keys and values; return all cached keys and values."""
        if k.shape != v.shape or k.ndim != 4:
            raise ValueError(f"k and v must be (B, H, T_new, D_h) of equal shape; got {tuple(k.shape)} and "
                             f"{tuple(v.shape)}")
        if self.keys is None:
            self.keys, self.values = k, v
        else:
            expected = (self.keys.shape[0], self.keys.shape[1], self.keys.shape[3])
            got = (k.shape[0], k.shape[1], k.shape[3])
            if got != expected:
                raise ValueError(f"new keys must match the cache in (batch, heads, head size) = {expected}; "
                                 f"got {got}")
            self.keys = torch.cat([self.keys, k], dim=2)
            self.values = torch.cat([self.values, v], dim=2)
        return self.keys, self.values

    def reset(self) -> None:
        """Forget every cached position."""
        self.keys = None
        self.values = None


class MultiHeadAttention(nn.Module):
    """Multi-head (self- or cross-) attention with an ``"sdpa"`` and a ``"written_out"`` path.

    Args:
        d_model: model width D; must be divisible by ``num_heads``.
        num_heads: number of heads H; each has size D_h = D / H.
        bias: whether the four projections have biases.
        dropout: dropout probability on the attention weights (training only).
        implementation: ``"sdpa"`` or ``"written_out"``; may be changed later.
    """

    def __init__(self, d_model: int, num_heads: int, *, bias: bool = True, dropout: float = 0.0,
                 implementation: str = "sdpa"):
        super().__init__()
        d_model = check_positive_int(d_model, "d_model")
        num_heads = check_positive_int(num_heads, "num_heads")
        if d_model % num_heads:
            raise ValueError(f"d_model must be divisible by num_heads; got d_model={d_model}, "
                             f"num_heads={num_heads} (remainder {d_model % num_heads})")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1); got {dropout}")
        self.d_model = d_model
        self.num_heads = num_heads
        self.head_dim = d_model // num_heads
        self.dropout = float(dropout)
        self.implementation = implementation
        self.q_proj = nn.Linear(d_model, d_model, bias=bias)
        self.k_proj = nn.Linear(d_model, d_model, bias=bias)
        self.v_proj = nn.Linear(d_model, d_model, bias=bias)
        self.out_proj = nn.Linear(d_model, d_model, bias=bias)

    @property
    def implementation(self) -> str:
        return self._implementation

    @implementation.setter
    def implementation(self, name: str) -> None:
        check_choice(name, "implementation", IMPLEMENTATIONS)
        self._implementation = name

    def split_heads(self, x):
        """(B, T, D) -> (B, H, T, D_h): head h holds features h*D_h ... (h+1)*D_h - 1."""
        B, T, _ = x.shape
        return x.view(B, T, self.num_heads, self.head_dim).transpose(1, 2)

    def merge_heads(self, x):
        """(B, H, T, D_h) -> (B, T, D), the inverse of :meth:`split_heads`."""
        B, _, T, _ = x.shape
        return x.transpose(1, 2).reshape(B, T, self.d_model)

    def _check_input(self, x, name: str):
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"{name} must have shape (batch, T, d_model={self.d_model}); got {tuple(x.shape)}")

    def forward(self, query, key_value=None, *, key_padding_mask=None, attn_mask=None, is_causal=False,
                cache: KVCache | None = None, need_weights=False):
        """Attend from ``query`` (B, T_q, D) to ``key_value`` (B, T_k, D; default: the query itself).

        Args:
            key_padding_mask: (B, T_k) boolean, True at real tokens. With a cache, T_k counts the
                cached positions too.
            attn_mask: boolean mask broadcastable to (B, H, T_q, T_k).
            is_causal: each query sees only keys at or before its own position.
            cache: a :class:`KVCache`; this call's keys and values are appended to it first.
            need_weights: also return the (B, H, T_q, T_k) attention weights.

        Returns:
            (B, T_q, D), or (output, weights) when ``need_weights``.
        """
        self._check_input(query, "query")
        source = query if key_value is None else key_value
        if key_value is not None:
            self._check_input(key_value, "key_value")
            if key_value.shape[0] != query.shape[0]:
                raise ValueError(f"query and key_value need the same batch size; got {query.shape[0]} and "
                                 f"{key_value.shape[0]}")
        q = self.split_heads(self.q_proj(query))
        k = self.split_heads(self.k_proj(source))
        v = self.split_heads(self.v_proj(source))
        if cache is not None:
            k, v = cache.append(k, v)
        B, T_q, T_k = query.shape[0], q.shape[2], k.shape[2]

        mask = attn_mask
        if mask is not None:
            check_attention_mask(mask, B, self.num_heads, T_q, T_k)
        if key_padding_mask is not None:
            if tuple(key_padding_mask.shape) != (B, T_k) or key_padding_mask.dtype != torch.bool:
                raise ValueError(f"key_padding_mask must be boolean of shape (batch, T_k) = {(B, T_k)}; got "
                                 f"{tuple(key_padding_mask.shape)} {key_padding_mask.dtype}")
            keys_ok = key_padding_mask[:, None, None, :]
            mask = keys_ok if mask is None else mask & keys_ok

        dropout_p = self.dropout if self.training else 0.0
        if need_weights or self.implementation == "written_out":
            out, weights = written_out_attention(q, k, v, mask, is_causal=is_causal, dropout_p=dropout_p,
                                                 training=self.training, return_weights=True)
        else:
            out, weights = self._sdpa(q, k, v, mask, is_causal, dropout_p), None
        out = self.out_proj(self.merge_heads(out))
        return (out, weights) if need_weights else out

    @staticmethod
    def _sdpa(q, k, v, mask, is_causal, dropout_p):
        T_q, T_k = q.shape[2], k.shape[2]
        if mask is None and (not is_causal or T_q == 1 or T_q == T_k):
            # Plain self-attention, or causal with queries aligned to keys: SDPA's own fast paths.
            # (One new query with a cache sees every key, so it needs no mask at all.)
            return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                                  is_causal=is_causal and T_q == T_k and T_q > 1)
        mask = _combine_masks(mask, is_causal, T_q, T_k, q.device)
        mask = mask.expand(q.shape[0], q.shape[1], T_q, T_k)
        has_key = mask.any(dim=-1, keepdim=True)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask | ~has_key, dropout_p=dropout_p)
        return out.masked_fill(~has_key, 0.0)
