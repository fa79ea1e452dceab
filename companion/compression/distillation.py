"""The knowledge-distillation loss (book chapter 15, Eqs. (15.11)-(15.12)).

A student with logits ``z`` learns from a teacher's logits ``v`` and the hard labels ``y``:

    L = alpha * T^2 * KL(softmax(v / T) || softmax(z / T)) + (1 - alpha) * CE(y, softmax(z))   (15.11)

The soft term's gradient with respect to ``z_i`` is ``(1 / T) (q_i - p_i)`` with ``q, p`` the
student's and teacher's softened probabilities, Eq. (15.12); it shrinks like ``1 / T^2``
once ``T`` is large compared with the logits, so the ``T^2`` factor keeps the two terms'
balance (``alpha``) meaning the same thing at every temperature.
"""

from __future__ import annotations

import torch


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      temperature: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """Eq. (15.11), averaged over the batch. ``alpha = 0`` is plain cross-entropy on the labels."""
    if not isinstance(student_logits, torch.Tensor) or not isinstance(teacher_logits, torch.Tensor):
        raise TypeError("student_logits and teacher_logits must be torch tensors; got "
                        f"{type(student_logits).__name__} and {type(teacher_logits).__name__}")
    if student_logits.ndim != 2 or student_logits.shape != teacher_logits.shape:
        raise ValueError(f"student and teacher logits must both be (B, C); got {tuple(student_logits.shape)} and "
                         f"{tuple(teacher_logits.shape)}")
    if labels.shape != student_logits.shape[:1]:
        raise ValueError(f"labels must be (B,) = ({student_logits.shape[0]},); got {tuple(labels.shape)}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    hard = torch.nn.functional.cross_entropy(student_logits, labels)
    if alpha == 0.0:
        return hard
    log_p_student = torch.log_softmax(student_logits / temperature, dim=-1)
    log_p_teacher = torch.log_softmax(teacher_logits.detach() / temperature, dim=-1)
    soft = torch.nn.functional.kl_div(log_p_student, log_p_teacher, reduction="batchmean", log_target=True)
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


def train_student(model, train, teacher_logits, *, epochs: int, batch_size: int, learning_rate: float,
                  temperature: float = 2.0, alpha: float = 0.5, device=None) -> list[float]:
    """Train ``model`` with Adam on Eq. (15.11) against ``teacher_logits`` (n, C); the mean loss per epoch.

    ``model`` takes ``(ids, lengths)`` like chapter 10's encoder classifier, and ``train``
    is an :class:`companion.train.sequence_classifier.EncodedSplit` whose row ``i`` the
    teacher scored as ``teacher_logits[i]``. Each epoch visits the rows in an order drawn
    from PyTorch's (seeded) generator, so two calls after the same ``companion.set_seed``
    see the same batches: with ``alpha = 0`` the same call trains the labels-only student,
    paired with the distilled one.
    """
    import numpy as np

    from companion.checks import check_positive_int
    from companion.device import get_device
    from companion.train.sequence_classifier import EncodedSplit

    if not isinstance(train, EncodedSplit):
        raise TypeError(f"train must be an EncodedSplit; got {type(train).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    teacher_logits = np.asarray(teacher_logits, dtype=np.float32)
    if teacher_logits.ndim != 2 or teacher_logits.shape[0] != len(train):
        raise ValueError(f"teacher_logits must be (n, C) with n = {len(train)} training rows; "
                         f"got shape {teacher_logits.shape}")
    device = get_device() if device is None else torch.device(device)
    model.to(device)
    ids, lengths = torch.as_tensor(train.ids), torch.as_tensor(train.lengths)
    labels, teacher = torch.as_tensor(train.labels), torch.as_tensor(teacher_logits)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    epoch_loss = []
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(train))
        total = 0.0
        for start in range(0, len(train), batch_size):
            rows = order[start:start + batch_size]
            logits = model(ids[rows].to(device), lengths[rows].to(device))
            loss = distillation_loss(logits, teacher[rows].to(device), labels[rows].to(device), temperature, alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        epoch_loss.append(total / len(train))
    model.eval()
    return epoch_loss
