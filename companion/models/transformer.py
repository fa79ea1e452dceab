"""The Transformer encoder in PyTorch: embeddings, blocks, encoder and classifier (book chapter 10).

The pieces, each a small ``nn.Module`` configured by a
:class:`companion.models.config.TransformerConfig`:

- :class:`TokenAndPositionEmbedding`: X_0 = E[ids] + P[start : start + T], Eq. (10.1).
  The token embedding is *not* scaled by sqrt(D): PyTorch initialises its rows
  from N(0, 1), the same scale as the sinusoidal table, Eq. (10.6). Row 0 of E
  belongs to the padding id: it starts at zero and the lookup gives it no
  gradient (``padding_idx=0``), so in the encoder and classifier it stays zero.
  (A GPT whose output layer is tied to E is the exception: companion.models.gpt.)
- :class:`FeedForward`: GELU(x W1 + b1) W2 + b2 with W1 of shape (D, F) and W2 of
  shape (F, D), Eq. (10.2), applied to every position separately.
- :class:`TransformerBlock`: multi-head self-attention
  (:class:`companion.attention.torch_attention.MultiHeadAttention`) and the FFN,
  each inside a residual connection with a LayerNorm, either post-LN,
  Eq. (10.3), or pre-LN, Eq. (10.4).
- :class:`TransformerEncoder`: embedding, N blocks and, for pre-LN only, a final
  LayerNorm (a post-LN block already ends with one).
- :class:`TransformerClassifier`: encoder, masked mean pooling over the real
  tokens, Eq. (10.9), and a linear layer to the class logits.

Padding: token id 0 is padding. Padded keys are hidden from every query, and
pooling averages real tokens only, so whatever sits under the padding cannot
change a classifier's logits. A sequence longer than ``max_len`` is refused
with a ValueError (truncate it when encoding).

The number of parameters of every model here equals
``companion.models.config.parameter_count`` (Eqs. (10.7)-(10.8)).
"""

from __future__ import annotations

import torch
from torch import nn

from companion.attention.torch_attention import IMPLEMENTATIONS, MultiHeadAttention
from companion.checks import check_choice, check_positive_int
from companion.models.config import TransformerConfig


# --- positions ------------------------------------------------------------------------------------------------


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    """The (max_len, d_model) sinusoidal table of Eq. (10.6), float32.

    P[p, 2i] = sin(p / 10000^(2i / D)),  P[p, 2i + 1] = cos(p / 10000^(2i / D)).
    For odd D the last column is a sine.
    """
    max_len = check_positive_int(max_len, "max_len")
    d_model = check_positive_int(d_model, "d_model")
    position = torch.arange(max_len, dtype=torch.float64)[:, None]
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)
    angle = position / torch.pow(10000.0, two_i / d_model)  # (max_len, ceil(D / 2))
    table = torch.zeros(max_len, d_model, dtype=torch.float64)
    table[:, 0::2] = torch.sin(angle)
    table[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return table.to(torch.float32)


def _check_config(config) -> TransformerConfig:
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig; got {type(config).__name__}")
    return config


def _check_ids(ids, vocab_size: int) -> None:
    if not isinstance(ids, torch.Tensor) or ids.ndim != 2 or ids.dtype.is_floating_point or ids.dtype == torch.bool:
        got = f"{type(ids).__name__}" if not isinstance(ids, torch.Tensor) else f"{ids.dtype} {tuple(ids.shape)}"
        raise TypeError(f"ids must be a 2-d integer tensor (batch, T); got {got}")
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= vocab_size):
        raise ValueError(f"ids must lie in [0, vocab_size={vocab_size}); got min {int(ids.min())}, "
                         f"max {int(ids.max())}")


class TokenAndPositionEmbedding(nn.Module):
    """X_0 = dropout(E[ids] + P[start : start + T]), Eq. (10.1).

    ``P`` is the fixed sinusoidal table (a buffer, not a parameter) or a learned
    (max_len, D) embedding, as ``config.positions`` says. ``start`` is the
    position of the first id (non-zero when a decoder continues from a cache).
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        config = _check_config(config)
        self.config = config
        self.max_len = config.max_len
        self.token = nn.Embedding(config.vocab_size, config.d_model, padding_idx=0)
        if config.positions == "learned":
            self.position = nn.Embedding(config.max_len, config.d_model)
        else:
            self.position = None
            self.register_buffer("position_table", sinusoidal_positions(config.max_len, config.d_model),
                                 persistent=False)
        self.dropout = nn.Dropout(config.dropout)

    def positions(self, start: int, length: int) -> torch.Tensor:
        """Rows start ... start + length - 1 of the position table, (length, D)."""
        if self.position is not None:
            index = torch.arange(start, start + length, device=self.position.weight.device)
            return self.position(index)
        return self.position_table[start : start + length]

    def forward(self, ids, start: int = 0):
        _check_ids(ids, self.config.vocab_size)
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValueError(f"start must be a non-negative int; got {start!r}")
        T = ids.shape[1]
        if start + T > self.max_len:
            detail = f" (start {start} + {T} new)" if start else ""
            raise ValueError(f"sequence of {start + T} tokens{detail} exceeds max_len {self.max_len}; "
                             f"truncate it when encoding or build the model with a larger max_len")
        return self.dropout(self.token(ids) + self.positions(start, T))


# --- the block ------------------------------------------------------------------------------------------------


class FeedForward(nn.Module):
    """Position-wise feed-forward network, Eq. (10.2): GELU(x W1 + b1) W2 + b2, then dropout.

    ``linear1`` maps D -> F (the book's W1, shape (D, F), is ``linear1.weight.T``),
    ``linear2`` maps F -> D (W2 = ``linear2.weight.T``, shape (F, D)), so the output
    has the input's width and can be added to the residual stream.
    """

    def __init__(self, d_model: int, d_ff: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        d_model = check_positive_int(d_model, "d_model")
        d_ff = check_positive_int(d_ff, "d_ff")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"dropout must lie in [0, 1); got {dropout}")
        self.linear1 = nn.Linear(d_model, d_ff, bias=bias)
        self.activation = nn.GELU()
        self.linear2 = nn.Linear(d_ff, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.linear2(self.activation(self.linear1(x))))


class TransformerBlock(nn.Module):
    """Self-attention and feed-forward sublayers with residual connections and LayerNorm.

    pre-LN (``config.norm_first``), Eq. (10.4):
        h = x + Attn(LN1(x));        out = h + FFN(LN2(h))
    post-LN, Eq. (10.3):
        h = LN1(x + Attn(x));        out = LN2(h + FFN(h))

    Dropout (``config.dropout``) acts on the attention weights, on the attention
    sublayer's output and on the FFN's output, in training only.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        config = _check_config(config)
        self.norm_first = config.norm_first
        self.attn = MultiHeadAttention(config.d_model, config.num_heads, bias=config.bias, dropout=config.dropout)
        self.ffn = FeedForward(config.d_model, config.ffn_dim, config.dropout, config.bias)
        self.norm1 = nn.LayerNorm(config.d_model)
        self.norm2 = nn.LayerNorm(config.d_model)
        self.dropout = nn.Dropout(config.dropout)

    def _attend(self, x, key_padding_mask, is_causal, cache):
        return self.dropout(self.attn(x, key_padding_mask=key_padding_mask, is_causal=is_causal, cache=cache))

    def forward(self, x, *, key_padding_mask=None, is_causal=False, cache=None):
        if self.norm_first:
            x = x + self._attend(self.norm1(x), key_padding_mask, is_causal, cache)
            return x + self.ffn(self.norm2(x))
        x = self.norm1(x + self._attend(x, key_padding_mask, is_causal, cache))
        return self.norm2(x + self.ffn(x))


# --- encoder and classifier -------------------------------------------------------------------------------------


def _padding_mask(ids, key_padding_mask):
    """The (B, T) boolean mask (True = real token): ``ids != 0`` when None, checked otherwise."""
    if key_padding_mask is None:
        return ids != 0
    if not isinstance(key_padding_mask, torch.Tensor):
        raise TypeError(f"key_padding_mask must be a boolean tensor; got {type(key_padding_mask).__name__}")
    B, T = ids.shape
    if key_padding_mask.dtype != torch.bool or tuple(key_padding_mask.shape) != (B, T):
        raise ValueError(f"key_padding_mask must be boolean of shape (batch, T) = {(B, T)} with True at real "
                         f"tokens; got {key_padding_mask.dtype} {tuple(key_padding_mask.shape)}")
    return key_padding_mask.to(ids.device)


def lengths_to_padding_mask(lengths, T: int) -> torch.Tensor:
    """(B, T) boolean mask, True at positions t < lengths[b] (right-padded rows)."""
    if not isinstance(lengths, torch.Tensor) or lengths.ndim != 1 or lengths.dtype.is_floating_point \
            or lengths.dtype == torch.bool:
        got = type(lengths).__name__ if not isinstance(lengths, torch.Tensor) else \
            f"{lengths.dtype} {tuple(lengths.shape)}"
        raise TypeError(f"lengths must be a 1-d integer tensor (batch,); got {got}")
    if lengths.numel() and (int(lengths.min()) < 0 or int(lengths.max()) > T):
        raise ValueError(f"lengths must lie in [0, {T}] (the padded length T); got min {int(lengths.min())}, "
                         f"max {int(lengths.max())}")
    return torch.arange(T, device=lengths.device)[None, :] < lengths[:, None]


class TransformerEncoder(nn.Module):
    """Token and position embedding, ``num_layers`` blocks, and a final LayerNorm for pre-LN stacks.

    forward(ids (B, T), key_padding_mask=None) -> (B, T, D). Without a mask,
    the padding is read from the ids (``ids != 0``). With ``config.causal`` every
    block attends causally.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        config = _check_config(config)
        self.config = config
        self.max_len = config.max_len
        self.embedding = TokenAndPositionEmbedding(config)
        self.blocks = nn.ModuleList(TransformerBlock(config) for _ in range(config.num_layers))
        # A post-LN block already ends with a LayerNorm; a pre-LN stack needs one after its last block.
        self.final_norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()

    def forward(self, ids, key_padding_mask=None):
        x = self.embedding(ids)
        mask = _padding_mask(ids, key_padding_mask)
        for block in self.blocks:
            x = block(x, key_padding_mask=mask, is_causal=self.config.causal)
        return self.final_norm(x)


def masked_mean(hidden, mask):
    """Mean of ``hidden`` (B, T, D) over the positions where ``mask`` (B, T) is True, Eq. (10.9).

    A row with no True entry gives a zero vector (not NaN).
    """
    weights = mask.to(hidden.dtype)[..., None]
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class TransformerClassifier(nn.Module):
    """Encoder, masked mean pooling, Eq. (10.9), and Linear(D, num_classes) to logits.

    forward(ids (B, T), key_padding_mask=None) -> logits (B, num_classes).
    The second argument may be a (B, T) boolean mask (True = real token) or a
    (B,) integer tensor of lengths, as chapter 8's training loop passes it; when
    it is None the mask is ``ids != 0``.

    Attributes ``n_classes`` and ``max_len`` let
    ``companion.train.sequence_classifier.train_torch_classifier`` and ``torch_evaluate`` use it.
    """

    def __init__(self, config: TransformerConfig, num_classes: int = 2):
        super().__init__()
        config = _check_config(config)
        num_classes = check_positive_int(num_classes, "num_classes")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2 (one logit per class); got {num_classes}")
        self.config = config
        self.n_classes = num_classes
        self.max_len = config.max_len
        self.encoder = TransformerEncoder(config)
        self.head = nn.Linear(config.d_model, num_classes)

    def forward(self, ids, key_padding_mask=None):
        if isinstance(key_padding_mask, torch.Tensor) and key_padding_mask.ndim == 1:
            if ids.ndim != 2:
                raise TypeError(f"ids must be a 2-d integer tensor (batch, T); got shape {tuple(ids.shape)}")
            if key_padding_mask.shape[0] != ids.shape[0]:
                raise ValueError(f"lengths must have shape ({ids.shape[0]},), one per row of ids; "
                                 f"got {tuple(key_padding_mask.shape)}")
            key_padding_mask = lengths_to_padding_mask(key_padding_mask.to(ids.device), ids.shape[1])
        elif isinstance(ids, torch.Tensor) and ids.ndim == 2:
            key_padding_mask = _padding_mask(ids, key_padding_mask)
        hidden = self.encoder(ids, key_padding_mask)
        return self.head(masked_mean(hidden, key_padding_mask))


def set_attention_implementation(model, implementation: str) -> int:
    """Set ``implementation`` (``"sdpa"`` or ``"written_out"``) on every MultiHeadAttention in ``model``.

    Returns the number of attention modules changed.
    """
    check_choice(implementation, "implementation", IMPLEMENTATIONS)
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    changed = 0
    for module in model.modules():
        if isinstance(module, MultiHeadAttention):
            module.implementation = implementation
            changed += 1
    return changed
