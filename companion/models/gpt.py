"""A small GPT: a decoder-only Transformer language model (book chapter 12).

The model, :class:`GPT`, reads token ids x_1 ... x_T and returns, at every
position t, the logits of the next token x_{t+1}, so one forward pass scores
all T factors of the autoregressive factorisation, Eq. (12.1):

    X_0 = E[ids] + P[start : start + T]                 (chapter 10's embedding, Eq. (10.1))
    X_l = Block_l(X_{l-1}), causal self-attention       (chapter 10's pre-LN block, Eq. (10.4))
    Z   = LN(X_N) E^T                                   Eq. (12.2), output matrix tied to E

With ``config.tie_embeddings`` the output layer reuses the token embedding
matrix E (V x D), which saves V D parameters; otherwise it has its own V x D
matrix (no bias). ``companion.models.config.parameter_count(config, "lm")``
gives the count in closed form, and equals the number of unique parameters.

Causality: every block attends with ``is_causal=True``, so the logits at
position t depend on ids 1..t only; changing a later id cannot change them.

Initialisation: GPT-2's weight distribution, every linear and embedding weight
from N(0, 0.02^2), biases 0, LayerNorms at scale 1 and shift 0, but without
GPT-2's extra factor 1/sqrt(2 L) on the output projections that add into the
residual stream (which keeps the residual's variance from growing with depth L;
at the book's depths of 2-4 blocks it changes little). The padding row of E
starts at 0, and the lookup never gives it a gradient (``padding_idx=0``, even
where the input is <pad>), so with an untied head it stays 0. With the head tied
to E it also serves as the output vector of <pad>: it receives the gradient of
the <pad> logit, softmax probability times the final state, and so does not stay
0 in training, although <pad> never occurs in the text. Small initial logits
make the first loss close to ln V, the loss of the uniform guess.

Training and evaluating it (character streams, the loss, perplexity, the
training loop) live in :mod:`companion.train.language_model`; generating with it
in :mod:`companion.generation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from companion.attention.torch_attention import KVCache
from companion.models.config import TransformerConfig
from companion.models.transformer import TokenAndPositionEmbedding, TransformerBlock

#: The standard deviation of GPT-2's initialisation.
INIT_STD = 0.02


class GPT(nn.Module):
    """Decoder-only Transformer language model: ids (B, T) -> next-token logits (B, T, V).

    Args:
        config: a :class:`~companion.models.config.TransformerConfig` with
            ``causal=True``. ``tie_embeddings`` ties the output matrix to the
            token embedding, Eq. (12.2).

    Attributes:
        embedding: :class:`~companion.models.transformer.TokenAndPositionEmbedding`.
        blocks: ``config.num_layers`` :class:`~companion.models.transformer.TransformerBlock`.
        final_norm: LayerNorm for a pre-LN stack, identity for post-LN (whose blocks end with one).
        lm_head: ``Linear(D, V, bias=False)``; its weight *is* ``embedding.token.weight`` when tied.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        if not isinstance(config, TransformerConfig):
            raise TypeError(f"config must be a TransformerConfig; got {type(config).__name__}")
        if not config.causal:
            raise ValueError("a GPT is a causal language model: build it with TransformerConfig(causal=True, ...); "
                             "got causal=False")
        self.config = config
        self.embedding = TokenAndPositionEmbedding(config)
        self.blocks = nn.ModuleList(TransformerBlock(config) for _ in range(config.num_layers))
        self.final_norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.apply(_init_weights)
        with torch.no_grad():
            self.embedding.token.weight[0].zero_()  # the padding row starts at 0 (it is not frozen)
        if config.tie_embeddings:
            self.lm_head.weight = self.embedding.token.weight

    def make_caches(self) -> list[KVCache]:
        """One empty :class:`~companion.attention.torch_attention.KVCache` per block, for :meth:`forward`."""
        return [KVCache() for _ in self.blocks]

    def forward(self, ids, caches: Sequence[KVCache] | None = None, start: int = 0):
        """Next-token logits for every position, Eq. (12.2).

        Args:
            ids: (B, T) int64 token ids in [0, V).
            caches: None (attend over ``ids`` only) or the list from
                :meth:`make_caches`, one per block; the keys and values of ``ids``
                are appended to them and attention runs over everything cached.
            start: absolute position of ``ids[:, 0]``; with caches it must equal
                the number of positions already cached.

        Returns:
            (B, T, V) logits; row t scores the token that follows ``ids[:, t]``.

        Raises:
            ValueError: ``start + T`` exceeds ``config.max_len``, ``start`` does not
                match the caches, or the caches are not one per block.
        """
        if caches is not None:
            if len(caches) != len(self.blocks):
                raise ValueError(f"caches must hold one KVCache per block ({len(self.blocks)}); got {len(caches)}")
            cached = caches[0].length
            if start != cached:
                raise ValueError(f"start must equal the number of cached positions ({cached}); got {start}")
        x = self.embedding(ids, start=start)
        for index, block in enumerate(self.blocks):
            x = block(x, is_causal=True, cache=None if caches is None else caches[index])
        return self.lm_head(self.final_norm(x))


def _init_weights(module: nn.Module) -> None:
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=INIT_STD)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)


__all__ = ["GPT", "INIT_STD"]
