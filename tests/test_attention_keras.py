"""keras.layers.MultiHeadAttention with copied weights equals the NumPy reference (chapter 9, <= 1e-5)."""

import numpy as np
import pytest

from companion.attention.keras_attention import (
    keras_attention_mask,
    keras_mha_from_params,
    params_from_keras,
    to_keras_mha,
)
from companion.attention.masks import causal_mask
from companion.text import padding_mask
from companion.attention.numpy_attention import init_mha_params, multi_head_attention
from companion.frameworks import import_tensorflow

# On Ampere and later NVIDIA GPUs TensorFlow runs float32 matmuls in TF32 by default (about 1e-3 error);
# the 1e-5 comparison below is about the equations, so it runs in full float32.
import_tensorflow().config.experimental.enable_tensor_float_32_execution(False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bias", [True, False])
def test_keras_cross_attention_with_padding_matches_numpy(dtype, bias):
    rng = np.random.default_rng(0)
    B, T_q, T_k, D, H = 2, 4, 6, 12, 3
    params = init_mha_params(D, rng, bias=bias, dtype=dtype)
    xq = rng.normal(size=(B, T_q, D)).astype(dtype)
    xkv = rng.normal(size=(B, T_k, D)).astype(dtype)
    kpm = padding_mask(np.array([6, 3]), T_k)
    ref = multi_head_attention(xq, xkv, params, H, key_padding_mask=kpm)
    layer = keras_mha_from_params(params, H)
    out = np.asarray(layer(xq, xkv, attention_mask=keras_attention_mask(None, B, T_q, T_k, key_padding_mask=kpm)))
    assert out.dtype == dtype
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-5 if dtype == np.float32 else 1e-10)
    # without the mask the answer differs, so the mask really reached Keras
    assert np.abs(np.asarray(layer(xq, xkv)) - ref).max() > 1e-3


def test_keras_causal_self_attention_matches_numpy():
    rng = np.random.default_rng(1)
    params = init_mha_params(8, rng)
    x = rng.normal(size=(2, 5, 8))
    ref = multi_head_attention(x, None, params, 2, causal_mask(5))
    layer = keras_mha_from_params(params, 2)
    np.testing.assert_allclose(np.asarray(layer(x, x, use_causal_mask=True)), ref, atol=1e-10)
    mask = keras_attention_mask(causal_mask(5), 2, 5, 5)
    np.testing.assert_allclose(np.asarray(layer(x, x, attention_mask=mask)), ref, atol=1e-10)


def test_keras_weights_round_trip_and_per_head_layout():
    rng = np.random.default_rng(2)
    params = init_mha_params(6, rng)
    layer = keras_mha_from_params(params, 3)
    kernel = layer._query_dense.get_weights()[0]
    assert kernel.shape == (6, 3, 2)
    np.testing.assert_array_equal(kernel[:, 1, :], params.W_q[:, 2:4])  # head 1 = columns 2..3
    back = params_from_keras(layer)
    for name, a, b in zip(params._fields, params, back):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_keras_bad_input():
    rng = np.random.default_rng(3)
    params = init_mha_params(6, rng)
    with pytest.raises(ValueError, match=r"d_model=6, num_heads=4"):
        keras_mha_from_params(params, 4)
    layer = keras_mha_from_params(params, 3)
    with pytest.raises(ValueError, match="params have d_model=8"):
        to_keras_mha(layer, init_mha_params(8, rng))
    with pytest.raises(ValueError, match="bias mismatch"):
        to_keras_mha(layer, init_mha_params(6, rng, bias=False))
    with pytest.raises(TypeError, match="MultiHeadAttention"):
        params_from_keras(object())
    with pytest.raises(ValueError, match=r"does not broadcast to \(batch, T_q, T_k\) = \(2, 3, 4\)"):
        keras_attention_mask(np.ones((3, 5), bool), 2, 3, 4)
    with pytest.raises(ValueError, match="one mask to every head"):
        keras_attention_mask(np.ones((2, 2, 3, 4), bool), 2, 3, 4)
    with pytest.raises(ValueError, match="boolean"):
        keras_attention_mask(np.ones((3, 4)), 2, 3, 4)
