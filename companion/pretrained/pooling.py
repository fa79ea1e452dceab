"""Masked mean pooling of token states into one sentence vector (book chapter 11, Eq. (11.4)).

An encoder returns one state per token, ``H`` of shape (B, T, D), for a batch
right-padded to T tokens. The sentence vector averages the states of the *real*
tokens only ([CLS] and [SEP] included, padding excluded):

    s_b = sum_t m_bt H_bt / sum_t m_bt,        m_bt = attention_mask[b, t] in {0, 1}

This is the pooling all-MiniLM-L6-v2 was trained with (sentence-transformers'
``pooling_mode_mean_tokens``), and the masked mean of chapter 7, Eq. (7.6), applied to
contextual states instead of embeddings. Because padded positions get weight 0,
whatever the encoder wrote there cannot change the result.
"""

from __future__ import annotations


def _check_hidden_and_mask(hidden, attention_mask):
    """Raise unless ``hidden`` is (B, T, D) floating point and ``attention_mask`` (B, T) of 0/1 or bool."""
    import torch

    if not isinstance(hidden, torch.Tensor) or not isinstance(attention_mask, torch.Tensor):
        raise TypeError(
            f"hidden and attention_mask must be torch tensors; got {type(hidden).__name__} and "
            f"{type(attention_mask).__name__}"
        )
    if hidden.ndim != 3 or not hidden.is_floating_point():
        raise ValueError(f"hidden must be a float tensor of shape (B, T, D); got {hidden.dtype} {tuple(hidden.shape)}")
    if attention_mask.shape != hidden.shape[:2]:
        raise ValueError(
            f"attention_mask must have shape (B, T) = {tuple(hidden.shape[:2])} to match hidden; "
            f"got {tuple(attention_mask.shape)}"
        )
    if attention_mask.dtype != torch.bool:
        if attention_mask.is_floating_point() or attention_mask.is_complex():
            raise TypeError(f"attention_mask must hold 0/1 integers or booleans; got dtype {attention_mask.dtype}")
        if attention_mask.numel() and not bool(((attention_mask == 0) | (attention_mask == 1)).all()):
            raise ValueError("attention_mask must hold only 0 (padding) and 1 (real token)")


def mean_pool(hidden, attention_mask):
    """Eq. (11.4): the mean of ``hidden`` (B, T, D) over the positions where ``attention_mask`` (B, T) is 1.

    Returns a (B, D) tensor in ``hidden``'s dtype. Raises ValueError for a row
    with no real token (its mean is undefined; a tokenised text always has at
    least [CLS] and [SEP]).
    """
    from companion.models.transformer import masked_mean

    _check_hidden_and_mask(hidden, attention_mask)
    counts = attention_mask.sum(dim=1)  # (B,)
    if counts.numel() and bool((counts == 0).any()):
        rows = (counts == 0).nonzero().flatten().tolist()
        raise ValueError(f"every row needs at least one real token to average; rows {rows} are all padding")
    return masked_mean(hidden, attention_mask)  # chapter 10's Eq. (10.9), the same average
