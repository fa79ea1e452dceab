"""Tests for companion.attention.numpy_attention (chapter 9): the NumPy reference of attention."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.attention.masks import causal_mask
from companion.text import padding_mask
from companion.attention.numpy_attention import (
    MHAParams,
    init_mha_params,
    masked_softmax,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    split_heads,
)


def loop_attention(q, k, v, mask=None):
    """Eqs. (9.2)-(9.3) one query at a time, with Python loops, as an independent check."""
    T_q, d_k = q.shape
    out = np.zeros((T_q, v.shape[1]))
    for i in range(T_q):
        scores = np.array([q[i] @ k[j] / np.sqrt(d_k) for j in range(k.shape[0])])
        allowed = np.ones(k.shape[0], bool) if mask is None else mask[i]
        if not allowed.any():
            continue
        w = np.where(allowed, np.exp(scores - scores[allowed].max()), 0.0)
        w /= w.sum()
        out[i] = sum(w[j] * v[j] for j in range(k.shape[0]))
    return out


@settings(deadline=None, max_examples=30)
@given(T_q=st.integers(1, 6), T_k=st.integers(1, 6), d_k=st.integers(1, 5), d_v=st.integers(1, 4),
       seed=st.integers(0, 10_000))
def test_sdpa_matches_a_loop_over_queries_and_keys(T_q, T_k, d_k, d_v, seed):
    rng = np.random.default_rng(seed)
    q, k, v = rng.normal(size=(T_q, d_k)), rng.normal(size=(T_k, d_k)), rng.normal(size=(T_k, d_v))
    mask = rng.random((T_q, T_k)) < 0.7
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (T_q, d_v) and weights.shape == (T_q, T_k)
    np.testing.assert_allclose(out, loop_attention(q, k, v, mask), atol=1e-12)
    assert np.all(weights[~mask] == 0)
    sums = weights.sum(axis=-1)
    np.testing.assert_allclose(sums, mask.any(axis=-1).astype(float), atol=1e-12)


def test_scores_are_divided_by_sqrt_dk():
    q = np.array([[1.0, 1.0, 1.0, 1.0]])
    k = np.array([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    _, weights = scaled_dot_product_attention(q, k, np.eye(2))
    # scores 4/sqrt(4) = 2 and 0, so the weights are softmax([2, 0]).
    np.testing.assert_allclose(weights[0], np.exp([2.0, 0.0]) / np.exp([2.0, 0.0]).sum(), atol=1e-15)


def test_softmax_runs_over_the_keys_not_the_queries():
    rng = np.random.default_rng(0)
    _, weights = scaled_dot_product_attention(rng.normal(size=(3, 4)), rng.normal(size=(5, 4)),
                                              rng.normal(size=(5, 2)))
    np.testing.assert_allclose(weights.sum(axis=1), np.ones(3), atol=1e-12)
    assert not np.allclose(weights.sum(axis=0), np.ones(5))


def test_fully_masked_row_gives_zeros_not_nan():
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    mask = np.ones((3, 5), bool)
    mask[1] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(weights))
    assert np.all(out[1] == 0) and np.all(weights[1] == 0)
    np.testing.assert_allclose(out[[0, 2]], scaled_dot_product_attention(q[[0, 2]], k, v)[0], atol=1e-12)


def test_masked_softmax_is_stable_for_large_scores():
    w = masked_softmax(np.array([[1000.0, 999.0, -1000.0]]), np.array([[True, True, False]]))
    np.testing.assert_allclose(w, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1)), 0.0]], atol=1e-12)


@settings(deadline=None, max_examples=20)
@given(B=st.integers(1, 3), T=st.integers(1, 5), H=st.integers(1, 4), Dh=st.integers(1, 4), seed=st.integers(0, 999))
def test_split_and_merge_heads_are_inverse_reshapes(B, T, H, Dh, seed):
    x = np.random.default_rng(seed).normal(size=(B, T, H * Dh))
    heads = split_heads(x, H)
    assert heads.shape == (B, H, T, Dh)
    np.testing.assert_array_equal(heads[:, 1 % H, :, :], x[:, :, (1 % H) * Dh:(1 % H + 1) * Dh])
    np.testing.assert_array_equal(merge_heads(heads), x)


def test_one_head_equals_plain_attention_with_projections():
    rng = np.random.default_rng(2)
    p = init_mha_params(6, rng)
    x = rng.normal(size=(1, 4, 6))
    q, k, v = x[0] @ p.W_q + p.b_q, x[0] @ p.W_k + p.b_k, x[0] @ p.W_v + p.b_v
    expected = scaled_dot_product_attention(q, k, v)[0] @ p.W_o + p.b_o
    np.testing.assert_allclose(multi_head_attention(x, x, p, 1)[0], expected, atol=1e-12)


def test_heads_attend_independently():
    # With H heads, head h's output only uses columns of W_q/W_k/W_v in its slice: zeroing another
    # head's query columns must leave this head's weights unchanged.
    rng = np.random.default_rng(3)
    p = init_mha_params(8, rng)
    x = rng.normal(size=(2, 5, 8))
    _, w = multi_head_attention(x, None, p, 2, return_weights=True)
    W_q = p.W_q.copy()
    W_q[:, 4:] = 0.0
    b_q = p.b_q.copy()
    b_q[4:] = 0.0
    _, w2 = multi_head_attention(x, None, p._replace(W_q=W_q, b_q=b_q), 2, return_weights=True)
    np.testing.assert_allclose(w2[:, 0], w[:, 0], atol=1e-14)
    assert not np.allclose(w2[:, 1], w[:, 1])
    np.testing.assert_allclose(w2[:, 1], 1 / 5, atol=1e-14)  # zero queries: uniform weights


def test_changing_padded_keys_changes_nothing():
    rng = np.random.default_rng(4)
    p = init_mha_params(8, rng)
    x = rng.normal(size=(2, 6, 8))
    kpm = padding_mask(np.array([6, 3]), 6)
    out = multi_head_attention(x, x, p, 2, key_padding_mask=kpm)
    x2 = x.copy()
    x2[1, 3:] = rng.normal(size=(3, 8)) * 10
    out2 = multi_head_attention(x, x2, p, 2, key_padding_mask=kpm)
    np.testing.assert_allclose(out2, out, atol=1e-12)
    out3 = multi_head_attention(x, x2, p, 2)  # without the mask the change shows
    assert np.abs(out3[1] - out[1]).max() > 1e-3


@settings(deadline=None, max_examples=25)
@given(T=st.integers(2, 7), i=st.integers(0, 5), seed=st.integers(0, 10_000))
def test_causal_mask_hides_the_future(T, i, seed):
    i = i % (T - 1)  # a position with at least one future position
    rng = np.random.default_rng(seed)
    p = init_mha_params(6, rng)
    x = rng.normal(size=(1, T, 6))
    out = multi_head_attention(x, None, p, 3, causal_mask(T))
    x2 = x.copy()
    x2[0, i + 1:] = rng.normal(size=(T - i - 1, 6)) * 5
    out2 = multi_head_attention(x2, None, p, 3, causal_mask(T))
    np.testing.assert_allclose(out2[0, :i + 1], out[0, :i + 1], atol=1e-12)
    assert np.abs(out2[0, i + 1:] - out[0, i + 1:]).max() > 1e-6  # the future does change later outputs


def test_cross_attention_shapes():
    rng = np.random.default_rng(5)
    p = init_mha_params(8, rng)
    out, w = multi_head_attention(rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 7, 8)), p, 4,
                                  return_weights=True)
    assert out.shape == (2, 3, 8) and w.shape == (2, 4, 3, 7)


def test_params_without_bias():
    rng = np.random.default_rng(6)
    p = init_mha_params(4, rng, bias=False)
    assert not p.has_bias
    out = multi_head_attention(np.zeros((1, 3, 4)), None, p, 2)
    np.testing.assert_array_equal(out, np.zeros((1, 3, 4)))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_d_model_not_divisible_by_heads():
    p = init_mha_params(6, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"d_model=6, num_heads=4"):
        multi_head_attention(np.zeros((1, 2, 6)), None, p, 4)
    with pytest.raises(ValueError, match="divisible"):
        split_heads(np.zeros((1, 2, 6)), 4)


def test_mismatched_query_and_key_sizes():
    with pytest.raises(ValueError, match="same last dimension d_k"):
        scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((4, 5)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="same number of positions T_k"):
        scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((5, 3)))
    p = init_mha_params(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="d_model=4"):
        multi_head_attention(np.zeros((1, 2, 4)), np.zeros((1, 3, 5)), p, 2)
    with pytest.raises(ValueError, match="same batch size"):
        multi_head_attention(np.zeros((1, 2, 4)), np.zeros((2, 3, 4)), p, 2)


@pytest.mark.parametrize("shape", [(3, 2), (2, 5), (4, 1, 2, 3)])
def test_mask_of_the_wrong_shape(shape):
    p = init_mha_params(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"does not broadcast to .*\(2, 2, 2, 3\)"):
        multi_head_attention(np.zeros((2, 2, 4)), np.zeros((2, 3, 4)), p, 2, np.ones(shape, bool))


def test_mask_must_be_boolean_and_padding_mask_shaped():
    p = init_mha_params(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((4, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"key_padding_mask must be boolean of shape \(batch, T_k\) = \(1, 3\)"):
        multi_head_attention(np.zeros((1, 2, 4)), np.zeros((1, 3, 4)), p, 2, key_padding_mask=np.ones((1, 2), bool))


def test_bad_params():
    with pytest.raises(TypeError, match="MHAParams"):
        multi_head_attention(np.zeros((1, 2, 4)), None, {"W_q": np.eye(4)}, 2)
    eye = np.eye(4)
    with pytest.raises(ValueError, match=r"params.W_o must have shape \(d_model, d_model\) = \(4, 4\)"):
        multi_head_attention(np.zeros((1, 2, 4)), None, MHAParams(eye, eye, eye, np.eye(3)), 2)
    with pytest.raises(ValueError, match="all four biases or none"):
        multi_head_attention(np.zeros((1, 2, 4)), None, MHAParams(eye, eye, eye, eye, np.zeros(4)), 2)
    with pytest.raises(ValueError, match="3 dimension"):
        multi_head_attention(np.zeros((2, 4)), None, MHAParams(eye, eye, eye, eye), 2)
    with pytest.raises(ValueError, match="finite"):
        scaled_dot_product_attention(np.full((2, 3), np.nan), np.zeros((4, 3)), np.zeros((4, 3)))


def test_float32_input_stays_float32():
    rng = np.random.default_rng(7)
    p = init_mha_params(8, rng, dtype=np.float32)
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    out, w = multi_head_attention(x, None, p, 2, causal_mask(3), return_weights=True)
    assert out.dtype == np.float32 and w.dtype == np.float32
    out64 = multi_head_attention(x.astype(np.float64), None, MHAParams(*(a.astype(np.float64) for a in p)), 2,
                                 causal_mask(3))
    np.testing.assert_allclose(out, out64, rtol=0, atol=1e-5)
