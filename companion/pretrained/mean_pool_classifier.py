"""Chapter 11's sentence classifier as a PyTorch module (imports PyTorch and transformers).

``companion.pretrained.classifier.build_mean_pool_classifier`` checks its arguments
and builds it; it is defined here, at module level, so that every model is an
instance of one class (``isinstance`` works, and a model pickles).
"""

from __future__ import annotations

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from companion.pretrained.pooling import mean_pool


class MeanPoolClassifier(nn.Module):
    """Pretrained encoder -> masked mean of token states -> dropout -> Linear(D, num_labels)."""

    def __init__(self, encoder, num_labels: int, dropout: float):
        super().__init__()
        self.encoder = encoder
        self.num_labels = num_labels
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_labels)
        nn.init.normal_(self.classifier.weight, std=0.02)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, input_ids, attention_mask, token_type_ids=None, labels=None):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        logits = self.classifier(self.dropout(mean_pool(hidden, attention_mask)))
        loss = None if labels is None else torch.nn.functional.cross_entropy(logits, labels)
        return SequenceClassifierOutput(loss=loss, logits=logits)
