"""Memory of training: weights, gradients, optimizer state and activations (book chapter 13).

Training state, Eq. (13.7): every parameter costs the bytes of its weight, its
gradient, an optional fp32 master copy and k optimizer-state values,

    M_state = N (b_weight + b_grad + b_master + k b_state),

with k = 0 for plain SGD, 1 for SGD with momentum (the velocity) and 2 for
Adam/AdamW (the first and second moments).

Activations, Eq. (13.8): what autograd keeps of one Transformer layer for the
backward pass. With s the sequence length, b the batch, h = d_model, a the
number of heads, f = d_ff and p bytes per value, a pre-LN layer without dropout
whose attention matrix is materialised (the written-out attention) stores

    p s b h (8 + 2 f / h)  +  p a s^2 b,

namely the inputs of the two LayerNorms (2), their outputs, which enter the Q/K/V
projections and the FFN (2), Q, K and V (3), the merged heads that enter the
output projection (1), the FFN's hidden layer before and after GELU (2 f / h),
and the softmax output (a s^2 b). A fused attention kernel
(``scaled_dot_product_attention``) drops the s^2 term and keeps only a
log-sum-exp per query row and head (a s b fp32 values); its output doubles as the
merged heads.
With dropout, each dropout keeps a 1-byte mask (and the attention dropout also
its output), which gives the widely quoted 34 s b h + 5 a s^2 b bytes at p = 2,
f = 4 h, Eq. (13.9). LayerNorm's per-row mean and reciprocal standard deviation
(4 s b fp32 values per layer) are small and counted only when asked for.

Around the layers, a language model keeps the final LayerNorm's input and its
output (the LM head's input), 2 p s b h, and the loss keeps the log-softmax of
the logits, s b V values. The loss is computed in fp32 even under bf16 autocast
(on the CPU as on CUDA, autocast runs it in fp32), so these are q = 4 bytes each
by default: for GPT-2 (V = 50,257) about 0.21 GB per sequence of 1,024 tokens,
more than the 48 layer inputs that full recomputation keeps for GPT-2 XL. Eq. (13.10):

    A_head = 2 p s b h + q s b V,

    A = L A_layer + A_head,     A_recompute = L p s b h + A_layer + A_head.

Full recomputation (activation checkpointing of every layer) keeps only each
layer's input and recomputes one layer's activations during its backward pass;
the head's activations are not recomputed.
"""

from __future__ import annotations

from companion.checks import check_choice, check_positive_int
from companion.scaling.precision import dtype_bytes, normalise_dtype

OPTIMIZER_STATES = {"sgd": 0, "sgd_momentum": 1, "adam": 2, "adamw": 2}
PRECISIONS = ("fp32", "bf16", "fp16", "mixed_bf16", "mixed_fp16")
ATTENTION = ("materialised", "fused")
RECOMPUTE = ("none", "full")


def _check_count(value, name):
    if isinstance(value, bool) or not isinstance(value, int) and type(value).__module__ != "numpy":
        raise TypeError(f"{name} must be a positive int; got {type(value).__name__} {value!r}")
    return check_positive_int(int(value), name)


def optimizer_state_count(optimizer: str) -> int:
    """k of Eq. (13.7): state values per parameter of ``optimizer``.

    "sgd" 0, "sgd_momentum" 1, "adam" and "adamw" 2.
    """
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a string, one of {sorted(OPTIMIZER_STATES)}; "
                        f"got {type(optimizer).__name__}")
    key = optimizer.strip().lower()
    if key not in OPTIMIZER_STATES:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZER_STATES)}; got {optimizer!r}")
    return OPTIMIZER_STATES[key]


def optimizer_state_bytes(n_params: int, optimizer: str, dtype="fp32") -> int:
    """Bytes of optimizer state for ``n_params`` parameters: N k b_state, Eq. (13.7)."""
    n = _check_count(n_params, "n_params")
    return n * optimizer_state_count(optimizer) * dtype_bytes(dtype)


def training_state_bytes(n_params: int, optimizer: str = "adam", precision: str = "fp32") -> dict:
    """Bytes of weights, gradients, master weights and optimizer state, Eq. (13.7).

    ``precision``:
      - "fp32": everything in fp32 (4 + 4 + 4k bytes per parameter). PyTorch's
        autocast also keeps this layout: it casts to 16 bits on the fly and
        saves memory only on activations.
      - "bf16" / "fp16": everything in 16 bits (2 + 2 + 2k), "pure" low precision.
      - "mixed_bf16" / "mixed_fp16": 16-bit weights and gradients, an fp32 master
        copy and fp32 optimizer state (2 + 2 + 4 + 4k; 16 bytes for Adam).

    Returns a dict with keys weights, gradients, master_weights, optimizer_state
    and total (ints, bytes).
    """
    n = _check_count(n_params, "n_params")
    k = optimizer_state_count(optimizer)
    check_choice(precision, "precision", PRECISIONS)
    if precision.startswith("mixed_"):
        low = dtype_bytes(precision.split("_", 1)[1])
        parts = {"weights": n * low, "gradients": n * low, "master_weights": n * 4, "optimizer_state": n * k * 4}
    else:
        b = dtype_bytes(normalise_dtype(precision))
        parts = {"weights": n * b, "gradients": n * b, "master_weights": 0, "optimizer_state": n * k * b}
    parts["total"] = sum(parts.values())
    return parts


def activation_bytes_per_layer(seq_len: int, batch: int, d_model: int, num_heads: int, d_ff: int | None = None, *,
                               dtype="bf16", attention: str = "materialised", dropout: bool = False,
                               norm_stats: bool = False) -> int:
    """Bytes one pre-LN Transformer layer keeps for the backward pass, Eq. (13.8) and (13.9).

    Args:
        seq_len, batch, d_model, num_heads: s, b, h, a.
        d_ff: FFN width f (default 4 h).
        dtype: format of the stored activations (p = 2 for bf16/fp16, 4 for fp32).
        attention: "materialised" (the softmax matrix is stored, a p s^2 b term)
            or "fused" (a fused kernel stores a fp32 log-sum-exp per query row
            and head instead).
        dropout: add the 1-byte masks of the two residual dropouts and, for a
            materialised attention matrix, the attention dropout's mask and output.
        norm_stats: add LayerNorm's mean and reciprocal standard deviation
            (2 fp32 values per row for each of the two norms).
    """
    s = check_positive_int(seq_len, "seq_len")
    b = check_positive_int(batch, "batch")
    h = check_positive_int(d_model, "d_model")
    a = check_positive_int(num_heads, "num_heads")
    f = 4 * h if d_ff is None else check_positive_int(d_ff, "d_ff")
    check_choice(attention, "attention", ATTENTION)
    p = dtype_bytes(dtype)
    total = p * s * b * (8 * h + 2 * f)
    if attention == "materialised":
        total += p * a * s * s * b
        if dropout:
            total += a * s * s * b * (1 + p)
    else:
        total += 4 * a * s * b
    if dropout:
        total += 2 * s * b * h
    if norm_stats:
        total += 4 * 4 * s * b
    return total


def head_activation_bytes(seq_len: int, batch: int, d_model: int, vocab_size: int, *, dtype="bf16",
                          loss_dtype="fp32", norm_stats: bool = False) -> int:
    """Bytes the final LayerNorm, the LM head and the loss keep for the backward pass, A_head of Eq. (13.10).

    2 p s b h for the final LayerNorm's input and its output (which the head's
    matrix product keeps), plus q s b V for the log-softmax of the logits that
    ``cross_entropy`` keeps, with q the bytes of ``loss_dtype``. Under bf16
    autocast the loss still runs in fp32, hence the default ``loss_dtype="fp32"``;
    pass ``loss_dtype="bf16"`` only for a loss really computed in 16 bits.
    ``norm_stats`` adds the final LayerNorm's two fp32 values per row (8 s b).
    The int64 token ids and targets (8 bytes per token each) are not included.
    """
    s = check_positive_int(seq_len, "seq_len")
    b = check_positive_int(batch, "batch")
    h = check_positive_int(d_model, "d_model")
    v = check_positive_int(vocab_size, "vocab_size")
    total = 2 * dtype_bytes(dtype) * s * b * h + dtype_bytes(loss_dtype) * s * b * v
    if norm_stats:
        total += 2 * 4 * s * b
    return total


def activation_bytes(num_layers: int, seq_len: int, batch: int, d_model: int, num_heads: int,
                     d_ff: int | None = None, *, vocab_size: int | None = None, loss_dtype="fp32",
                     recompute: str = "none", **layer_options) -> int:
    """Activation bytes of a whole model, without or with full recomputation, Eq. (13.10).

    recompute="none": L times :func:`activation_bytes_per_layer`.
    recompute="full": each layer keeps only its input (p s b h bytes), and during
    the backward pass one layer's activations are rebuilt at a time, so the
    total is L p s b h + one layer's activations.

    ``vocab_size``: for a language model, add :func:`head_activation_bytes`
    (the final LayerNorm, the head's input and the loss's log-softmax of the
    logits, in ``loss_dtype``), which recomputation does not remove. Left out
    (None), the result counts the layers only, which for a large vocabulary
    understates the memory of a language model badly.
    ``layer_options`` (dtype, attention, dropout, norm_stats) go to
    :func:`activation_bytes_per_layer`; dtype and norm_stats also to the head.
    """
    L = check_positive_int(num_layers, "num_layers")
    check_choice(recompute, "recompute", RECOMPUTE)
    per_layer = activation_bytes_per_layer(seq_len, batch, d_model, num_heads, d_ff, **layer_options)
    dtype = layer_options.get("dtype", "bf16")
    if recompute == "none":
        total = L * per_layer
    else:
        total = L * dtype_bytes(dtype) * seq_len * batch * d_model + per_layer
    if vocab_size is not None:
        total += head_activation_bytes(seq_len, batch, d_model, vocab_size, dtype=dtype, loss_dtype=loss_dtype,
                                       norm_stats=layer_options.get("norm_stats", False))
    return total
