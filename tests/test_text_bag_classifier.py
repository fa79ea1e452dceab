"""The masked-mean classifier of chapter 7 (companion.text.bag_classifier)."""

import numpy as np
import pytest
import torch

from companion.train.sequence_classifier import EncodedSplit, train_torch_classifier
from companion.text import masked_mean, padding_mask
from companion.text.bag_classifier import build_mean_embedding_classifier


def test_pooled_is_the_masked_mean_of_eq_7_6():
    torch.manual_seed(0)
    model = build_mean_embedding_classifier(vocab_size=20, embed_dim=4, n_classes=3)
    ids = np.array([[3, 5, 7, 0, 0], [1, 2, 3, 4, 6], [9, 0, 0, 0, 0]])
    lengths = np.array([3, 5, 1])
    with torch.no_grad():
        pooled = model.pooled(torch.as_tensor(ids), torch.as_tensor(lengths)).numpy()
        table = model.embedding.weight.numpy()
    expected = masked_mean(table[ids], padding_mask(lengths, 5))
    np.testing.assert_allclose(pooled, expected, atol=1e-6)
    logits = model(torch.as_tensor(ids), torch.as_tensor(lengths))
    assert logits.shape == (3, 3) and model.n_classes == 3


def test_padding_never_changes_the_output():
    torch.manual_seed(1)
    model = build_mean_embedding_classifier(vocab_size=10, embed_dim=3, n_classes=2)
    with torch.no_grad():
        model.embedding.weight[0] = 5.0  # even a non-zero padding row is masked out
        short = model(torch.tensor([[4, 2]]), torch.tensor([2]))
        long = model(torch.tensor([[4, 2, 0, 0, 0, 0]]), torch.tensor([2]))
    torch.testing.assert_close(short, long)


def test_empty_text_pools_to_zero():
    model = build_mean_embedding_classifier(vocab_size=10, embed_dim=3, n_classes=2)
    with torch.no_grad():
        pooled = model.pooled(torch.tensor([[0, 0]]), torch.tensor([0]))
    assert torch.equal(pooled, torch.zeros(1, 3))


def test_it_learns_a_separable_task_with_the_chapter_8_loop():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=200)
    ids = np.where(labels[:, None] == 1, rng.integers(2, 6, size=(200, 6)), rng.integers(6, 10, size=(200, 6)))
    split = EncodedSplit(ids.astype(np.int64), np.full(200, 6), labels.astype(np.int64))
    torch.manual_seed(0)
    model = build_mean_embedding_classifier(vocab_size=10, embed_dim=4, n_classes=2)
    history = train_torch_classifier(model, split, split, epochs=20, batch_size=32, learning_rate=0.05,
                                     device=torch.device("cpu"))
    assert history.val_acc[-1] == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_classes must be at least 2"):
        build_mean_embedding_classifier(10, 4, 1)
    with pytest.raises(ValueError, match="embed_dim must be a positive int"):
        build_mean_embedding_classifier(10, 0, 2)
    model = build_mean_embedding_classifier(10, 4, 2)
    with pytest.raises(ValueError, match=r"ids must have shape \(n, T\)"):
        model(torch.tensor([1, 2]), torch.tensor([2]))
    with pytest.raises(ValueError, match=r"lengths must have shape \(1,\)"):
        model(torch.tensor([[1, 2]]), torch.tensor([2, 2]))
