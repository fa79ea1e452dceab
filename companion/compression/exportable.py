"""Chapter 11's frozen-probe classifier as one module the ONNX exporter can trace (book chapter 15).

``logits = W s + b`` with ``s`` the masked mean of the encoder's token states, Eq. (11.4),
computed by chapter 10's branch-free :func:`companion.models.transformer.masked_mean`.
Chapter 11's :class:`companion.pretrained.mean_pool_classifier.MeanPoolClassifier` checks
its inputs with Python branches on tensor values, which an exporter cannot trace, and
returns a transformers output object; this module computes the same logits without either.
"""

from __future__ import annotations

from torch import nn

from companion.models.transformer import masked_mean


class ExportableClassifier(nn.Module):
    """forward(input_ids (B, T), attention_mask (B, T)) -> logits (B, num_labels).

    ``classifier`` is the Linear head, named as in chapter 11 so that
    :func:`companion.pretrained.classifier.set_head_from_logistic` fills it.
    """

    def __init__(self, encoder, num_labels: int = 2):
        super().__init__()
        hidden_size = getattr(getattr(encoder, "config", None), "hidden_size", None)
        if not isinstance(hidden_size, int):
            raise TypeError(f"encoder must be a transformers encoder with config.hidden_size; got "
                            f"{type(encoder).__name__}")
        self.encoder = encoder
        self.classifier = nn.Linear(hidden_size, num_labels)

    def forward(self, input_ids, attention_mask):
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return self.classifier(masked_mean(hidden, attention_mask))
