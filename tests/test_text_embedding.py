"""Embedding lookup = one-hot product, and NumPy, PyTorch and Keras agree (chapter 7)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.text import (
    embedding_lookup,
    embedding_via_one_hot,
    keras_embedding_lookup,
    one_hot,
    torch_embedding_lookup,
)


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 30), st.integers(1, 8), st.lists(st.integers(1, 5), min_size=1, max_size=3),
       st.integers(0, 2**31 - 1))
def test_lookup_equals_one_hot_product(V, d, id_shape, seed):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(V, d))
    ids = rng.integers(0, V, size=id_shape)
    out = embedding_lookup(E, ids)
    assert out.shape == (*id_shape, d)
    np.testing.assert_allclose(embedding_via_one_hot(E, ids), out, rtol=0, atol=1e-12)
    flat = ids.reshape(-1)
    np.testing.assert_array_equal(out.reshape(-1, d)[0], E[flat[0]])


def test_one_hot_shape_and_values():
    X = one_hot(np.array([2, 0, 2]), 4)
    np.testing.assert_array_equal(X, [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 1, 0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_torch_keras_agree(dtype):
    rng = np.random.default_rng(1)
    E = rng.normal(size=(50, 6)).astype(dtype)
    ids = rng.integers(0, 50, size=(4, 7))
    reference = embedding_lookup(E, ids)
    torch_out = torch_embedding_lookup(E, ids)
    keras_out = keras_embedding_lookup(E, ids)
    assert torch_out.shape == keras_out.shape == reference.shape == (4, 7, 6)
    np.testing.assert_allclose(torch_out, reference, rtol=0, atol=1e-6)
    np.testing.assert_allclose(keras_out, reference, rtol=0, atol=1e-6)


def test_embedding_bad_input():
    E = np.zeros((5, 3))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        embedding_lookup(E, np.array([0, 5]))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        embedding_lookup(E, np.array([-1]))
    with pytest.raises(TypeError, match="integer array"):
        embedding_lookup(E, np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="2 dimension"):
        embedding_lookup(np.zeros(5), np.array([1]))
    with pytest.raises(ValueError, match=r"V, d >= 1"):
        embedding_lookup(np.zeros((0, 3)), np.array([], dtype=int))
    with pytest.raises(ValueError, match="vocab_size must be a positive int"):
        one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match="1-D"):
        one_hot(np.array([[0]]), 2)
    with pytest.raises(ValueError, match="ids must lie"):
        torch_embedding_lookup(E, np.array([9]))


def test_one_hot_is_the_losses_one_hot_for_1d_ids():
    from companion.losses import one_hot as losses_one_hot
    from companion.text.embedding import one_hot

    ids = np.array([2, 0, 3, 2])
    X = one_hot(ids, 4)
    np.testing.assert_array_equal(X, losses_one_hot(ids, 4))
    np.testing.assert_array_equal(X.argmax(axis=1), ids)
    assert X.dtype == np.float64 and X.sum() == 4.0
