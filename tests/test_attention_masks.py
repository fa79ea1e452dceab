"""Tests for companion.attention.masks (chapter 9): causal and padding masks, mask shape checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.attention.masks import causal_mask, check_attention_mask
from companion.text import padding_mask


def test_square_causal_mask_is_the_lower_triangle():
    assert np.array_equal(causal_mask(4), np.tril(np.ones((4, 4), dtype=bool)))


@settings(deadline=None, max_examples=40)
@given(T_q=st.integers(1, 6), extra=st.integers(0, 6))
def test_causal_mask_with_cached_keys_lets_the_last_query_see_everything(T_q, extra):
    T_k = T_q + extra
    mask = causal_mask(T_q, T_k)
    assert mask.shape == (T_q, T_k)
    assert mask[-1].all()  # the newest token sees every key
    # query i sees exactly the first extra + i + 1 keys
    assert np.array_equal(mask.sum(axis=1), extra + np.arange(1, T_q + 1))


def test_causal_mask_with_explicit_offset():
    mask = causal_mask(2, 4, offset=0)
    assert np.array_equal(mask, np.array([[1, 0, 0, 0], [1, 1, 0, 0]], dtype=bool))


def test_padding_mask_marks_the_first_length_positions():
    mask = padding_mask(np.array([3, 0, 5]), 5)
    assert np.array_equal(mask.sum(axis=1), [3, 0, 5])
    assert mask[0, :3].all() and not mask[0, 3:].any()


@pytest.mark.parametrize("lengths, error, message", [
    (np.array([6]), ValueError, r"lengths must lie in \[0, 5\] \(the padded length T\); got min 6, max 6"),
    (np.array([-1]), ValueError, "lengths must be >= 0; got minimum -1"),
    (np.array([[1]]), ValueError, r"lengths must be 1-D \(one length per sequence\); got shape \(1, 1\)"),
    (np.array([1.5]), TypeError, "lengths must be an integer array; got dtype float64"),
])
def test_padding_mask_rejects_bad_lengths(lengths, error, message):
    with pytest.raises(error, match=message):
        padding_mask(lengths, 5)


@pytest.mark.parametrize("shape", [(5, 7), (2, 1, 5, 7), (2, 4, 5, 7), (1, 7), (2, 1, 1, 7)])
def test_mask_shapes_that_broadcast_are_accepted(shape):
    check_attention_mask(np.ones(shape, dtype=bool), 2, 4, 5, 7)


@pytest.mark.parametrize("shape", [(7, 5), (2, 7), (3, 1, 5, 7), (2, 4, 5, 7, 1)])
def test_mask_of_the_wrong_shape_names_the_expected_shape(shape):
    with pytest.raises(ValueError, match=r"does not broadcast to .* \(2, 4, 5, 7\)"):
        check_attention_mask(np.ones(shape, dtype=bool), 2, 4, 5, 7)


def test_non_boolean_mask_is_refused():
    with pytest.raises(ValueError, match="boolean"):
        check_attention_mask(np.ones((5, 7)), 2, 4, 5, 7)


def test_causal_mask_rejects_non_positive_sizes():
    with pytest.raises(ValueError):
        causal_mask(0)
