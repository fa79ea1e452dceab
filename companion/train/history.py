"""The per-epoch record of a training run, shared by the book's PyTorch and Keras loops."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch training and validation loss and accuracy, and what each loop adds.

    ``lr``, ``best_epoch`` and ``stopped_epoch`` are filled by the chapter 6 loop
    (``companion.train.torch_classifier``); ``steps_per_epoch`` by the chapter 8
    loops (``companion.train.sequence_classifier``). Fields a loop does not use keep their defaults.
    """

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    train_acc: list = field(default_factory=list)
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    best_epoch: int = -1
    stopped_epoch: int = -1
    steps_per_epoch: int = 0
