"""Floating-point operations of a Transformer's training step (book chapter 13).

Counting convention: one multiply-add is 2 FLOPs, so a (m x k) by (k x n) matrix
product costs 2 m k n FLOPs, Eq. (13.2). Only matrix products are counted; the
element-wise work (softmax, GELU, LayerNorm, residual additions, the optimizer
update) is smaller by a factor of about the model width and is left out, as in
``torch.utils.flop_counter.FlopCounterMode``, which the book uses to check these
formulas.

Backward pass: for Y = X W the gradients dX = dY W^T and dW = X^T dY are two
more products of the same size, so a training step costs 3 times the forward
matrix work, Eq. (13.3). Per token of a sequence of length T this gives
Eq. (13.5):

    C_train / token = 6 N_mm + 12 L T D,

where N_mm counts the weights that take part in a matrix product (attention
and FFN matrices, and the LM head; not the embedding lookup, positions,
biases or LayerNorm gains) and 12 L T D is the attention-score work (Q K^T and
A V, forward and backward), which the popular 6 N rule, Eq. (13.6), leaves out.
The attention term counts the full T x T score matrix, also for causal
attention, because a written-out implementation computes all of it; a kernel
that skips the masked half does about half that work.
"""

from __future__ import annotations

from companion.checks import check_positive_int
from companion.models.config import check_config as _check_config
from companion.models.config import check_head as _check_head


def _check_seq_len(config, seq_len):
    seq_len = check_positive_int(seq_len, "seq_len")
    if seq_len > config.max_len:
        raise ValueError(f"seq_len must be at most config.max_len = {config.max_len}; got {seq_len}")
    return seq_len


def matmul_flops(m: int, k: int, n: int) -> int:
    """FLOPs of an (m x k) by (k x n) matrix product: 2 m k n, Eq. (13.2)."""
    return 2 * check_positive_int(m, "m") * check_positive_int(k, "k") * check_positive_int(n, "n")


def matmul_backward_flops(m: int, k: int, n: int, *, input_grad: bool = True) -> int:
    """FLOPs of the backward pass of Y = X W with X (m x k), W (k x n), Eq. (13.3).

    dW = X^T dY costs 2 m k n; dX = dY W^T another 2 m k n when the input needs a
    gradient (``input_grad``), which it does everywhere inside a Transformer.
    """
    one = matmul_flops(m, k, n)
    return 2 * one if input_grad else one


def matmul_parameter_count(config, head="none") -> int:
    """N_mm of Eq. (13.5): weights of ``config``'s model that enter a matrix product.

    L (4 D^2 + 2 D d_ff) for the blocks, plus V D for an LM head (also when it is
    tied to the embedding: the lookup costs nothing, the head product does) or
    D n for a classification head over n classes.
    """
    config = _check_config(config)
    head = _check_head(head)
    D, L = config.d_model, config.num_layers
    count = L * (4 * D * D + 2 * D * config.ffn_dim)
    if head == "lm":
        count += config.vocab_size * D
    elif isinstance(head, int):
        count += D * head
    return count


def transformer_forward_flops(config, seq_len: int, batch: int = 1, head="none") -> dict:
    """Matrix-product FLOPs of one forward pass, term by term, Eq. (13.4).

    Per layer and sequence: Q, K, V projections 6 T D^2; scores Q K^T 2 T^2 D;
    weighted values A V 2 T^2 D; output projection 2 T D^2; FFN 4 T D d_ff.
    The head: 2 T D V for an LM head (logits at every position), 2 D n for a
    classifier on the pooled vector. Every term is multiplied by ``batch``.

    Returns a dict with keys qkv_proj, attention_scores, attention_values,
    out_proj, ffn, head and total (ints).
    """
    config = _check_config(config)
    T = _check_seq_len(config, seq_len)
    B = check_positive_int(batch, "batch")
    head = _check_head(head)
    D, L, F = config.d_model, config.num_layers, config.ffn_dim
    terms = {
        "qkv_proj": L * 3 * matmul_flops(B * T, D, D),
        "attention_scores": L * 2 * B * T * T * D,
        "attention_values": L * 2 * B * T * T * D,
        "out_proj": L * matmul_flops(B * T, D, D),
        "ffn": L * (matmul_flops(B * T, D, F) + matmul_flops(B * T, F, D)),
        "head": 0,
    }
    if head == "lm":
        terms["head"] = matmul_flops(B * T, D, config.vocab_size)
    elif isinstance(head, int):
        terms["head"] = matmul_flops(B, D, head)
    terms["total"] = sum(terms.values())
    return terms


def transformer_training_flops(config, seq_len: int, batch: int = 1, head="none") -> dict:
    """Matrix-product FLOPs of a training step (forward + backward): 3 x Eq. (13.4), by Eq. (13.3).

    Same keys as :func:`transformer_forward_flops`.
    """
    return {key: 3 * value for key, value in transformer_forward_flops(config, seq_len, batch, head).items()}


def flops_per_token(n_matmul_params: int, num_layers: int, seq_len: int, d_model: int) -> int:
    """Training FLOPs per token, 6 N_mm + 12 L T D, Eq. (13.5).

    The first term is the weight products (forward 2, backward 4 per weight and
    token); the second the attention scores and weighted values over a context
    of T tokens.
    """
    n = check_positive_int(n_matmul_params, "n_matmul_params")
    L = check_positive_int(num_layers, "num_layers")
    T = check_positive_int(seq_len, "seq_len")
    D = check_positive_int(d_model, "d_model")
    return 6 * n + 12 * L * T * D


def training_flops_per_token(config, seq_len: int) -> int:
    """Eq. (13.5) for a language model built from ``config`` (LM head included)."""
    config = _check_config(config)
    T = _check_seq_len(config, seq_len)
    return flops_per_token(matmul_parameter_count(config, "lm"), config.num_layers, T, config.d_model)


def six_n_flops(n_params, n_tokens) -> float:
    """The 6 N rule, C = 6 N D_tok, Eq. (13.6): training FLOPs without the attention term."""
    n_params = _check_positive_number(n_params, "n_params")
    n_tokens = _check_positive_number(n_tokens, "n_tokens")
    return 6.0 * n_params * n_tokens


def model_flops_utilisation(model_flops_per_step, seconds_per_step, peak_flops_per_second) -> float:
    """MFU = (model FLOPs per step / seconds per step) / peak FLOP/s, Eq. (13.11).

    "Model FLOPs" are those the formulas above count, not what the hardware
    executed (recomputation or padding do not raise MFU).
    """
    flops = _check_positive_number(model_flops_per_step, "model_flops_per_step")
    seconds = _check_positive_number(seconds_per_step, "seconds_per_step")
    peak = _check_positive_number(peak_flops_per_second, "peak_flops_per_second")
    return flops / seconds / peak


def training_seconds(total_flops, peak_flops_per_second, mfu, n_devices: int = 1) -> float:
    """Wall-clock seconds to do ``total_flops`` on ``n_devices`` at utilisation ``mfu``, Eq. (13.12)."""
    total = _check_positive_number(total_flops, "total_flops")
    peak = _check_positive_number(peak_flops_per_second, "peak_flops_per_second")
    mfu = _check_positive_number(mfu, "mfu")
    if mfu > 1:
        raise ValueError(f"mfu must be a fraction in (0, 1]; got {mfu}")
    n = check_positive_int(n_devices, "n_devices")
    return total / (n * peak * mfu)


def _check_positive_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) and type(value).__module__ != "numpy":
        raise TypeError(f"{name} must be a positive number; got {type(value).__name__} {value!r}")
    value = float(value)
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be a positive finite number; got {value}")
    return value
