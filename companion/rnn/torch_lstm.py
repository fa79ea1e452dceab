"""The LSTM sentiment classifier of chapter 8 as a PyTorch module (imports PyTorch).

``companion.rnn.classifiers.build_torch_classifier`` checks the sizes and builds
it; it is defined here, at module level, so that every model is an instance of one
class (``isinstance`` works, and a model pickles).
"""

from __future__ import annotations

from torch import nn


class TorchLSTMClassifier(nn.Module):
    """Logits (n, n_classes) from right-padded ids (n, T <= max_len) and their lengths (n,)."""

    def __init__(self, vocab_size: int, max_len: int, embed_dim: int, hidden_size: int, n_classes: int):
        super().__init__()
        self.max_len = max_len
        self.n_classes = n_classes
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, n_classes)

    def forward(self, ids, lengths):
        if ids.ndim != 2 or ids.shape[1] > self.max_len:
            raise ValueError(
                f"ids must have shape (n, T) with T <= max_len = {self.max_len} (truncate when encoding); "
                f"got {tuple(ids.shape)}"
            )
        if lengths.shape != (ids.shape[0],):
            raise ValueError(f"lengths must have shape ({ids.shape[0]},); got {tuple(lengths.shape)}")
        x = self.embedding(ids)
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
        )
        _, (h_n, _) = self.lstm(packed)  # h_n: (1, n, hidden), state after each last real token
        return self.head(h_n[-1])
