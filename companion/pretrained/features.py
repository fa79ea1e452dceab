"""Frozen sentence features from a pretrained encoder: length-sorted batches, dynamic padding, no gradients.

Padding every text to one fixed length (say 512) makes the encoder spend almost
all its time on [PAD] tokens. Two cheap fixes are used here and in
:func:`companion.pretrained.finetune.predict`:

- **dynamic padding**: each batch is padded only to its own longest text;
- **length sorting**: texts are processed in order of token count, so a batch
  holds texts of similar length and little padding is left; the features are
  put back in the caller's order at the end.

Because the attention mask keeps padding out of every layer and out of the
pooling, Eq. (11.4), neither trick changes the features beyond float rounding.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int, check_texts


def check_max_len(max_len, tokenizer=None) -> int:
    """A positive int no larger than the tokenizer's ``model_max_length`` (512 for MiniLM)."""
    max_len = check_positive_int(max_len, "max_len")
    if max_len < 3:
        raise ValueError(f"max_len must be at least 3 ([CLS], one piece, [SEP]); got {max_len}")
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and max_len > limit:
        raise ValueError(f"max_len must be at most the model's {limit} positions; got {max_len}")
    return max_len


def length_sorted_batches(lengths, batch_size: int) -> list[np.ndarray]:
    """Index arrays of batches of at most ``batch_size`` texts, in order of increasing length (stable)."""
    batch_size = check_positive_int(batch_size, "batch_size")
    lengths = np.asarray(lengths)
    if lengths.ndim != 1 or not np.issubdtype(lengths.dtype, np.integer):
        raise TypeError(f"lengths must be a 1-d integer array; got dtype {lengths.dtype}, shape {lengths.shape}")
    order = np.argsort(lengths, kind="stable")
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


def padded_tokens(lengths, batches) -> int:
    """Token slots processed when each batch is padded to its own longest text (dynamic padding)."""
    lengths = np.asarray(lengths)
    return int(sum(len(rows) * lengths[rows].max() for rows in batches if len(rows)))


def token_lengths(texts, tokenizer, max_len: int) -> np.ndarray:
    """Number of ids (with [CLS] and [SEP]) of each text after truncation to ``max_len``."""
    texts = check_texts(texts)
    max_len = check_max_len(max_len, tokenizer)
    ids = tokenizer(texts, truncation=True, max_length=max_len)["input_ids"]
    return np.array([len(row) for row in ids], dtype=np.int64)


def encode_texts(texts, tokenizer, model, *, batch_size: int = 64, max_len: int = 128, device=None,
                 normalize: bool = False) -> np.ndarray:
    """Mean-pooled sentence features (n, D) of ``texts``, Eq. (11.4), in the order given.

    The encoder runs without gradients (``torch.inference_mode``) and in eval mode
    (dropout off), on length-sorted, dynamically padded batches; texts longer than
    ``max_len`` ids are truncated. ``model`` is an encoder whose output has
    ``last_hidden_state`` (``load_minilm()``'s ``BertModel``). ``normalize=True``
    scales each vector to unit length, as sentence-transformers does for cosine
    similarity. Returns float32 NumPy.
    """
    import torch

    from companion.pretrained.pooling import mean_pool

    texts = check_texts(texts)
    batch_size = check_positive_int(batch_size, "batch_size")
    max_len = check_max_len(max_len, tokenizer)
    device = next(model.parameters()).device if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    lengths = token_lengths(texts, tokenizer, max_len)
    out = None
    try:
        with torch.inference_mode():
            for rows in length_sorted_batches(lengths, batch_size):
                batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_len,
                                  return_tensors="pt").to(device)
                hidden = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
                pooled = mean_pool(hidden, batch["attention_mask"])
                if normalize:
                    pooled = torch.nn.functional.normalize(pooled, dim=-1)
                if out is None:
                    out = np.zeros((len(texts), pooled.shape[-1]), dtype=np.float32)
                out[rows] = pooled.float().cpu().numpy()
    finally:
        model.train(was_training)
    return out
