"""Fine-tuning a pretrained encoder: AdamW groups, warmup + linear decay, clipping, the loop (book chapter 11).

The recipe every BERT-family fine-tuning uses, written out:

- **AdamW** with decoupled weight decay, Eq. (4.15) of chapter 4,
  applied to weight matrices and embeddings only: biases and LayerNorm gains/shifts
  are excluded (:func:`weight_decay_groups`), because shrinking them towards 0 is
  not a sensible prior (a LayerNorm gain of 0 switches the feature off).
- **Linear warmup then linear decay** of the learning rate, Eq. (11.6)
  (``companion.optim.schedules.warmup_linear_scheduler``, with the other schedules).
- **Gradient clipping by global norm**, Eq. (11.7): if the norm of all gradients
  concatenated exceeds c, every gradient is scaled by c / norm
  (``torch.nn.utils.clip_grad_norm_``).
- **One loss**: either the model's own ``outputs.loss`` (labels passed to the model)
  or an external cross-entropy on ``outputs.logits`` (labels not passed), never their
  sum, which doubles every gradient (chapter 11's warning).
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from companion.checks import (check_choice, check_in_interval, check_labels, check_learning_rate, check_positive_int,
                              check_texts)
from companion.device import profile_for_device
from companion.optim.schedules import check_schedule, warmup_linear_scheduler, warmup_steps_for

LOSS_SOURCES = ("model", "external")


# --- profiles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FinetuneProfile:
    """How much data and compute chapter 11's MiniLM runs use; the same code runs every profile.

    Subsets are the first texts of the seeded splits (which are already shuffled),
    and ``None`` means the whole split.
    """

    name: str
    max_features: int | None  # training texts encoded for the frozen-feature logistic regression
    max_val: int | None  # validation texts used to choose the regularisation strength C
    max_eval: int | None  # test texts scored (every model of the comparison table is scored on these)
    max_train: int | None  # training texts used for fine-tuning
    max_len: int  # WordPiece ids per text during fine-tuning, [CLS] and [SEP] included
    epochs: int
    batch_size: int
    learning_rate: float  # peak rate of Eq. (11.6)
    warmup_fraction: float  # share of the optimizer steps spent warming up
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0


FINETUNE_CPU_PROFILE = FinetuneProfile("minilm-cpu", max_features=1024, max_val=256, max_eval=512, max_train=256,
                                       max_len=48, epochs=1, batch_size=16, learning_rate=3e-5, warmup_fraction=0.1)
FINETUNE_GPU_PROFILE = FinetuneProfile("minilm-gpu", max_features=None, max_val=None, max_eval=None, max_train=None,
                                       max_len=128, epochs=3, batch_size=32, learning_rate=3e-5, warmup_fraction=0.1)


def choose_finetune_profile(device) -> FinetuneProfile:
    """:data:`FINETUNE_GPU_PROFILE` on an accelerator (cuda or mps), else :data:`FINETUNE_CPU_PROFILE`."""
    return profile_for_device(device, FINETUNE_CPU_PROFILE, FINETUNE_GPU_PROFILE)


# --- weight decay groups ------------------------------------------------------------------------


def no_decay_parameter_names(model) -> list[str]:
    """Names of the parameters AdamW must not decay: every bias and every LayerNorm parameter."""
    from torch import nn

    names = []
    for module_name, module in model.named_modules():
        for param_name, parameter in module.named_parameters(recurse=False):
            if param_name == "bias" or isinstance(module, nn.LayerNorm):
                names.append(f"{module_name}.{param_name}" if module_name else param_name)
    return sorted(set(names))


def weight_decay_groups(model, weight_decay: float) -> list[dict]:
    """Two AdamW parameter groups: ``weight_decay`` for weights and embeddings, 0 for biases and LayerNorm.

    Only trainable parameters (``requires_grad``) are included. Each group also
    carries ``"names"``, the parameter names, for inspection (torch keeps extra keys).
    """
    weight_decay = check_in_interval(weight_decay, "weight_decay", 0, 1)
    skip = set(no_decay_parameter_names(model))
    decay, no_decay = {"params": [], "names": [], "weight_decay": float(weight_decay)}, \
        {"params": [], "names": [], "weight_decay": 0.0}
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        group = no_decay if name in skip else decay
        group["params"].append(parameter)
        group["names"].append(name)
    return [decay, no_decay]


def build_optimizer(model, learning_rate: float, weight_decay: float = 0.01, betas=(0.9, 0.999), eps: float = 1e-8):
    """``torch.optim.AdamW`` (decoupled decay, chapter 4) over :func:`weight_decay_groups`."""
    import torch

    learning_rate = check_learning_rate(learning_rate, "learning_rate")
    return torch.optim.AdamW(weight_decay_groups(model, weight_decay), lr=learning_rate, betas=betas, eps=eps)


# --- clipping -------------------------------------------------------------------------------------


def global_grad_norm(parameters) -> float:
    """sqrt(sum over all gradients of their squared entries): the norm clipped in Eq. (11.7)."""
    import torch

    grads = [p.grad.detach().float() for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.sqrt(sum((g * g).sum() for g in grads)))


# --- data checks ----------------------------------------------------------------------------------


def check_labelled_texts(texts, labels, num_labels: int | None = None, name: str = "texts"):
    """(list of str, int64 labels) after checking there is one integer label in [0, num_labels) per text."""
    texts = check_texts(texts, name)
    return texts, check_labels(labels, len(texts), num_labels)


def _num_labels(model) -> int:
    count = getattr(model, "num_labels", None)
    if count is None:
        count = getattr(getattr(model, "config", None), "num_labels", None)
    if not isinstance(count, int):
        raise TypeError(f"model must expose num_labels (a classifier); got {type(model).__name__}")
    return count


# --- the loop -------------------------------------------------------------------------------------


@dataclass
class FinetuneHistory:
    """Per optimizer step: the loss, the learning rate used, the gradient norm before clipping."""

    loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    grad_norm: list = field(default_factory=list)
    total_steps: int = 0
    warmup_steps: int = 0


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stdout, leave=True, mininterval=2.0)


def finetune(model, tokenizer, texts, labels, *, epochs: int, batch_size: int, learning_rate: float,
             max_len: int, warmup_steps: int | None = None, warmup_fraction: float = 0.1,
             weight_decay: float = 0.01, max_grad_norm: float | None = 1.0, loss: str = "model",
             max_steps: int | None = None, device=None, progress: bool = False) -> FinetuneHistory:
    """Fine-tune a classifier (e.g. :func:`~companion.pretrained.classifier.build_mean_pool_classifier`'s or
    ``AutoModelForSequenceClassification``) on labelled texts.

    Each epoch visits the texts in a fresh random order (PyTorch's seeded generator);
    each batch is tokenised with dynamic padding and truncated to ``max_len`` ids.
    Per step: forward with dropout on, one loss (``loss="model"``: ``outputs.loss``
    with labels passed; ``"external"``: cross-entropy on ``outputs.logits`` with
    labels not passed), backward, clipping to ``max_grad_norm``, Eq. (11.7) (None:
    no clipping), an AdamW step over :func:`weight_decay_groups`, then the
    scheduler step of Eq. (11.6).

    ``warmup_steps`` defaults to :func:`warmup_steps_for` (``warmup_fraction`` of the
    total). ``max_steps`` stops early (the schedule still spans all steps; used by
    tests). Returns a :class:`FinetuneHistory`; the model is left in eval mode.
    """
    import torch

    from companion.device import get_device
    from companion.pretrained.features import check_max_len

    num_labels = _num_labels(model)
    texts, labels = check_labelled_texts(texts, labels, num_labels)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    max_len = check_max_len(max_len, tokenizer)
    check_choice(loss, "loss", LOSS_SOURCES, hint=" (the model's own loss or an external one, never both)")
    if max_grad_norm is not None and not max_grad_norm > 0:
        raise ValueError(f"max_grad_norm must be positive or None; got {max_grad_norm}")
    steps_per_epoch = math.ceil(len(texts) / batch_size)
    total_steps = epochs * steps_per_epoch
    if warmup_steps is None:
        warmup_steps = warmup_steps_for(total_steps, warmup_fraction)
    warmup_steps, total_steps = check_schedule(warmup_steps, total_steps)
    if max_steps is not None:
        max_steps = check_positive_int(max_steps, "max_steps")

    device = get_device() if device is None else torch.device(device)
    model.to(device)
    optimizer = build_optimizer(model, learning_rate, weight_decay)
    scheduler = warmup_linear_scheduler(optimizer, warmup_steps, total_steps)
    history = FinetuneHistory(total_steps=total_steps, warmup_steps=warmup_steps)
    label_tensor = torch.as_tensor(labels)
    limit = total_steps if max_steps is None else min(max_steps, total_steps)
    model.train()
    try:
        with _progress(limit, "fine-tuning", progress) as bar:
            for _ in range(epochs):
                order = torch.randperm(len(texts)).tolist()
                for start in range(0, len(texts), batch_size):
                    if len(history.loss) >= limit:
                        break
                    rows = order[start : start + batch_size]
                    batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                      max_length=max_len, return_tensors="pt").to(device)
                    y = label_tensor[rows].to(device)
                    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
                    if loss == "model":
                        value = model(**inputs, labels=y).loss
                    else:
                        value = torch.nn.functional.cross_entropy(model(**inputs).logits, y)
                    optimizer.zero_grad(set_to_none=True)
                    value.backward()
                    history.grad_norm.append(global_grad_norm(model.parameters()))
                    if max_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
                    history.lr.append(optimizer.param_groups[0]["lr"])
                    optimizer.step()
                    scheduler.step()
                    history.loss.append(float(value.detach()))
                    bar.update(1)
    finally:
        model.eval()
    return history


def predict_proba(model, tokenizer, texts, *, batch_size: int = 64, max_len: int = 128, device=None) -> np.ndarray:
    """Class probabilities (n, K), the softmax of a classifier's logits, in eval mode without gradients.

    Texts go through in length-sorted batches (padding only to the longest text of a
    batch) and come back in the order given. Chapter 17 reads calibration from them.
    """
    import torch

    from companion.pretrained.features import check_max_len, length_sorted_batches, token_lengths

    texts = check_texts(texts)
    batch_size = check_positive_int(batch_size, "batch_size")
    max_len = check_max_len(max_len, tokenizer)
    device = next(model.parameters()).device if device is None else torch.device(device)
    model.eval()
    proba = np.zeros((len(texts), _num_labels(model)), dtype=np.float64)
    with torch.inference_mode():
        for rows in length_sorted_batches(token_lengths(texts, tokenizer, max_len), batch_size):
            batch = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_len,
                              return_tensors="pt").to(device)
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            proba[rows] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
    return proba


def predict(model, tokenizer, texts, *, batch_size: int = 64, max_len: int = 128, device=None) -> np.ndarray:
    """Predicted class ids of a classifier on ``texts``: the argmax of :func:`predict_proba`."""
    return predict_proba(model, tokenizer, texts, batch_size=batch_size, max_len=max_len,
                         device=device).argmax(axis=1)
