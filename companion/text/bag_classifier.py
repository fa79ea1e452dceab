"""The simplest text classifier: the masked mean of a text's embeddings, then one dense layer (chapter 7).

For a right-padded row of ids ``x_i`` with ``L_i`` real tokens,

    h_i = sum_j M_ij E[x_ij] / L_i        (the masked mean, Eq. 7.6)
    z_i = W h_i + b,   p_i = softmax(z_i)

with ``E`` (V x d), ``W`` (K x d) and ``b`` (K,): one logit per class, so K must
be the number of classes. The module has the interface of chapter 8's
classifiers (``forward(ids, lengths)`` and ``n_classes``), so
``companion.train.sequence_classifier.train_torch_classifier`` trains it.
"""

from __future__ import annotations

from companion.checks import check_positive_int


def build_mean_embedding_classifier(vocab_size: int, embed_dim: int, n_classes: int):
    """``MeanEmbeddingClassifier``: Embedding (row 0 = padding) -> masked mean (Eq. 7.6) -> Linear.

    The last layer has ``n_classes`` outputs, one logit per class. Raises TypeError
    or ValueError for a size that is not a positive int, and ValueError for fewer
    than 2 classes.
    """
    import torch
    from torch import nn

    vocab_size, embed_dim, n_classes = (check_positive_int(value, name) for value, name in (
        (vocab_size, "vocab_size"), (embed_dim, "embed_dim"), (n_classes, "n_classes")))
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one logit per class); got {n_classes}")

    class MeanEmbeddingClassifier(nn.Module):
        """Logits (n, n_classes) from right-padded ids (n, T) and their lengths (n,)."""

        def __init__(self):
            super().__init__()
            self.n_classes = n_classes
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.head = nn.Linear(embed_dim, n_classes)

        def pooled(self, ids, lengths):
            """The masked mean h (n, embed_dim) of Eq. (7.6); an empty text gives the zero vector."""
            if ids.ndim != 2:
                raise ValueError(f"ids must have shape (n, T); got {tuple(ids.shape)}")
            if lengths.shape != (ids.shape[0],):
                raise ValueError(f"lengths must have shape ({ids.shape[0]},); got {tuple(lengths.shape)}")
            lengths = lengths.to(ids.device)
            mask = torch.arange(ids.shape[1], device=ids.device)[None, :] < lengths[:, None]
            total = (self.embedding(ids) * mask[..., None]).sum(dim=1)
            return total / lengths.clamp(min=1)[:, None].to(total.dtype)

        def forward(self, ids, lengths):
            return self.head(self.pooled(ids, lengths))

    return MeanEmbeddingClassifier()
