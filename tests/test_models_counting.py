"""Tests for companion.models.counting: tied tensors count once, frozen ones on request."""

import pytest
import torch
from torch import nn

from companion.models.counting import count_parameters


def _tied_model():
    embedding = nn.Embedding(10, 4)
    head = nn.Linear(4, 10, bias=False)
    head.weight = embedding.weight  # tied: one 10 x 4 tensor shared by two modules
    return nn.ModuleDict({"embedding": embedding, "head": head, "extra": nn.Linear(4, 3)})


def test_a_tied_tensor_counts_once():
    assert count_parameters(_tied_model()) == 10 * 4 + (4 * 3 + 3)


def test_trainable_only_skips_frozen_parameters():
    model = _tied_model()
    model["extra"].bias.requires_grad_(False)
    assert count_parameters(model) == 40 + 15
    assert count_parameters(model, trainable_only=True) == 40 + 12


def test_not_a_module_is_refused():
    with pytest.raises(TypeError, match="torch.nn.Module"):
        count_parameters(torch.zeros(3))
