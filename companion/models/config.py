"""Transformer configuration and the closed-form parameter count (book chapter 10).

This module is framework-free: it needs neither PyTorch nor TensorFlow, so the
scaling calculators of chapter 13 can use it on any machine.

The count, Eqs. (10.7)-(10.8), for vocabulary size V, context length L, width
D, feed-forward width F, N blocks and a bias flag b (1 with biases, 0 without):

    per block   P_block = 4 D^2 + 2 D F + 4 D  + b (4 D + F + D)              Eq. (10.7)
                          (attention Q, K, V, O; FFN W1, W2; two LayerNorms; biases)
    whole model P = V D + [learned] L D + N P_block + [pre-LN] 2 D + P_head   Eq. (10.8)

LayerNorms always carry their scale and shift (2 D each); the bias flag
concerns the linear layers only. Sinusoidal positions are a fixed table (a
buffer), not parameters. A pre-LN stack ends with a final LayerNorm (its
blocks' outputs are never normalised otherwise); a post-LN stack has none,
because each of its blocks already ends with one. The head adds nothing for
``"none"``; for ``"lm"`` nothing when the output matrix is tied to the token
embedding, else V D (LM heads have no bias); for ``n`` classes D n + n.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import check_choice, check_positive_int

POSITIONS = ("sinusoidal", "learned")
HEADS = ("none", "lm")


def _check_bool(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool; got {type(value).__name__} {value!r}")
    return bool(value)


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes and switches of a Transformer encoder or decoder stack.

    Attributes:
        vocab_size: V, number of token ids (id 0 is padding).
        max_len: L, the longest sequence the model accepts (rows of the position table).
        d_model: D, width of every token vector; must be divisible by ``num_heads``.
        num_heads: H; each head has size D // H.
        num_layers: N, number of blocks.
        d_ff: F, hidden width of the feed-forward network, Eq. (10.2); None means 4 D
            (read the resolved value from :attr:`ffn_dim`).
        dropout: probability in [0, 1) used after attention, inside and after the FFN,
            and on the input embeddings.
        norm_first: True for pre-LN blocks, Eq. (10.4), False for post-LN, Eq. (10.3).
        positions: ``"sinusoidal"`` (fixed table, Eq. (10.6)) or ``"learned"`` (an L x D parameter).
        bias: whether the linear layers (attention projections, FFN) have biases.
        causal: True for a decoder-only language model (each token sees only earlier ones).
        tie_embeddings: an LM head reuses the token embedding matrix (chapter 12).

    Raises:
        TypeError, ValueError: any field has the wrong type or an invalid value;
            the message names what was expected and what was got.
    """

    vocab_size: int
    max_len: int
    d_model: int = 128
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int | None = None
    dropout: float = 0.1
    norm_first: bool = True
    positions: str = "sinusoidal"
    bias: bool = True
    causal: bool = False
    tie_embeddings: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "max_len", "d_model", "num_heads", "num_layers"):
            check_positive_int(getattr(self, name), name)
        if self.d_ff is not None:
            check_positive_int(self.d_ff, "d_ff")
        if self.d_model % self.num_heads != 0:
            raise ValueError(
                f"d_model must be divisible by num_heads (each head gets d_model // num_heads dimensions); "
                f"got d_model={self.d_model}, num_heads={self.num_heads}"
            )
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float, np.floating, np.integer)):
            raise TypeError(f"dropout must be a float in [0, 1); got {type(self.dropout).__name__} {self.dropout!r}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1); got {self.dropout}")
        check_choice(self.positions, "positions", POSITIONS)
        for name in ("norm_first", "bias", "causal", "tie_embeddings"):
            _check_bool(getattr(self, name), name)

    @property
    def ffn_dim(self) -> int:
        """The feed-forward width F: ``d_ff``, or 4 * d_model when ``d_ff`` is None."""
        return 4 * self.d_model if self.d_ff is None else int(self.d_ff)

    @property
    def head_dim(self) -> int:
        """Size of one attention head, d_model // num_heads."""
        return self.d_model // self.num_heads


def check_config(config) -> TransformerConfig:
    """Return ``config`` if it is a :class:`TransformerConfig`; raise a TypeError otherwise."""
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig; got {type(config).__name__}")
    return config


def check_head(head):
    """Validate a model head: ``"none"``, ``"lm"`` or a positive number of classes."""
    if isinstance(head, str):
        if head not in HEADS:
            raise ValueError(f"head must be 'none', 'lm' or a positive int (number of classes); got {head!r}")
        return head
    if isinstance(head, bool) or not isinstance(head, (int, np.integer)):
        raise TypeError(
            f"head must be 'none', 'lm' or a positive int (number of classes); got {type(head).__name__} {head!r}"
        )
    if head < 1:
        raise ValueError(f"head must be 'none', 'lm' or a positive int (number of classes); got {head}")
    return int(head)


def block_parameter_count(config: TransformerConfig) -> int:
    """Parameters of one Transformer block, Eq. (10.7).

    Attention: four D x D projections (Q, K, V, output) and, with biases, four
    vectors of D. FFN: W1 (D x F) and W2 (F x D), Eq. (10.2), with biases F + D.
    Two LayerNorms of 2 D each.
    """
    config = check_config(config)
    D, F = config.d_model, config.ffn_dim
    weights = 4 * D * D + 2 * D * F
    norms = 2 * (2 * D)
    biases = (4 * D + F + D) if config.bias else 0
    return weights + norms + biases


def parameter_breakdown(config: TransformerConfig, head="none") -> dict:
    """The terms of Eq. (10.8) by name; their sum is :func:`parameter_count`.

    Keys: ``token_embedding``, ``position_embedding``, ``blocks``,
    ``final_norm``, ``head``.
    """
    config = check_config(config)
    head = check_head(head)
    V, L, D = config.vocab_size, config.max_len, config.d_model
    if head == "none":
        head_params = 0
    elif head == "lm":
        head_params = 0 if config.tie_embeddings else V * D
    else:
        head_params = D * head + head
    return {
        "token_embedding": V * D,
        "position_embedding": L * D if config.positions == "learned" else 0,
        "blocks": config.num_layers * block_parameter_count(config),
        "final_norm": 2 * D if config.norm_first else 0,
        "head": head_params,
    }


def parameter_count(config: TransformerConfig, head="none") -> int:
    """Closed-form number of trainable parameters, Eq. (10.8).

    Args:
        config: a :class:`TransformerConfig`.
        head: ``"none"`` (the encoder or decoder stack alone), ``"lm"`` (a
            language-model head, V x D without bias, free when tied to the token
            embedding), or an int n (a classifier head, Linear(D, n): D n + n).

    Returns:
        The count, equal to ``sum(p.numel() for p in model.parameters())`` of
        the matching model in :mod:`companion.models.transformer` (tied weights
        counted once).

    Raises:
        TypeError, ValueError: ``config`` is not a TransformerConfig, or ``head``
            is not one of the allowed values.
    """
    return int(sum(parameter_breakdown(config, head).values()))
