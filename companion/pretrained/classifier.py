"""A sentence classifier on a pretrained encoder: mean pooling and one new linear layer (book chapter 11).

``MeanPoolClassifier(encoder, num_labels)`` computes

    logits = W s + b,     s = mean_pool(encoder(ids).last_hidden_state, mask)   (Eq. (11.4))

with ``W`` (num_labels x D) and ``b`` newly initialised (normal, std 0.02, and zeros,
as BERT initialises its layers). It reads the sentence the way all-MiniLM-L6-v2 was
trained to represent it (mean pooling), whereas ``AutoModelForSequenceClassification``
puts its head on the [CLS] state through a pooler layer that the contrastive
training never used. Like the Hugging Face classes it returns an object with
``.logits`` and, when ``labels`` are passed, ``.loss`` (mean cross-entropy), so
:func:`companion.pretrained.finetune.finetune` trains either kind unchanged.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int


def build_mean_pool_classifier(encoder, num_labels: int = 2, dropout: float = 0.1):
    """Wrap ``encoder`` (e.g. ``load_minilm()[1]``) in a :class:`MeanPoolClassifier` with a new head."""
    from companion.pretrained.mean_pool_classifier import MeanPoolClassifier

    num_labels = check_positive_int(num_labels, "num_labels")
    if num_labels < 2:
        raise ValueError(f"num_labels must be at least 2 (one logit per class); got {num_labels}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1); got {dropout}")
    hidden_size = getattr(getattr(encoder, "config", None), "hidden_size", None)
    if not isinstance(hidden_size, int):
        raise TypeError(f"encoder must be a transformers encoder with config.hidden_size; got {type(encoder).__name__}")

    device = next(encoder.parameters()).device
    return MeanPoolClassifier(encoder, num_labels, dropout).to(device)


def head_from_logistic(coef, intercept) -> tuple:
    """Two-logit weights ``(W (2, D), b (2,))`` equivalent to a binary logistic regression, Eq. (11.5).

    A binary logistic regression gives P(y = 1 | s) = sigmoid(w.s + c), with
    scikit-learn's ``coef_`` of shape (1, D) and ``intercept_`` of shape (1,).
    Softmax over two logits depends only on their difference,
    softmax(z)_1 = sigmoid(z_1 - z_0), so z_0 = -(w.s + c)/2 and z_1 = +(w.s + c)/2
    give exactly the same probabilities (and the same predictions).
    """
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64).reshape(-1)
    if coef.ndim != 2 or coef.shape[0] != 1 or intercept.shape != (1,):
        raise ValueError(
            f"coef and intercept must come from a binary logistic regression, shapes (1, D) and (1,); "
            f"got {coef.shape} and {intercept.shape}"
        )
    if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
        raise ValueError("coef and intercept must be finite")
    weight = np.concatenate([-coef / 2, coef / 2], axis=0)
    bias = np.concatenate([-intercept / 2, intercept / 2])
    return weight, bias


def set_head_from_logistic(model, coef, intercept) -> None:
    """Copy a fitted binary logistic regression into ``model.classifier`` (Eq. (11.5)): start fine-tuning from it.

    Fine-tuning a randomly initialised head moves the pretrained encoder by large,
    uninformed gradients in the first steps; starting from the frozen-feature
    solution ("linear probe, then fine-tune") avoids that.
    """
    import torch

    layer = getattr(model, "classifier", None)
    if layer is None or not hasattr(layer, "weight"):
        raise TypeError(f"model must have a linear .classifier layer; got {type(model).__name__}")
    weight, bias = head_from_logistic(coef, intercept)
    if tuple(layer.weight.shape) != weight.shape:
        raise ValueError(f"the classifier has weight shape {tuple(layer.weight.shape)}; the logistic regression "
                         f"gives {weight.shape}")
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight, dtype=layer.weight.dtype))
        layer.bias.copy_(torch.as_tensor(bias, dtype=layer.bias.dtype))
