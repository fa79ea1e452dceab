"""Tests for companion.attention.torch_attention (chapter 9) against the NumPy reference.

Both paths of the PyTorch module ("sdpa" and "written_out") must agree with
companion.attention.numpy_attention to 1e-5 (float32) or 1e-10 (float64), hide the
future under a causal mask, ignore padded keys, give zeros (not NaN) for a query
with no visible key, and give the same result with a KV cache as without.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.attention.masks import causal_mask
from companion.text import padding_mask
from companion.attention.numpy_attention import (
    init_mha_params,
    multi_head_attention,
    params_from_torch,
    params_to_torch,
    scaled_dot_product_attention,
    split_heads,
)
from companion.attention.torch_attention import KVCache, MultiHeadAttention, written_out_attention

IMPLS = ("sdpa", "written_out")


def make_pair(D, H, seed, dtype=torch.float64, bias=True):
    rng = np.random.default_rng(seed)
    params = init_mha_params(D, rng, bias=bias)
    module = MultiHeadAttention(D, H, bias=bias).to(dtype).eval()
    params_to_torch(params, module)
    return params, module, rng


def run(module, impl, *args, **kwargs):
    module.implementation = impl
    with torch.no_grad():
        out = module(*args, **kwargs)
    return out


@settings(deadline=None, max_examples=25)
@given(B=st.integers(1, 3), T_q=st.integers(1, 6), T_k=st.integers(1, 6), H=st.sampled_from([1, 2, 4]),
       Dh=st.integers(1, 4), seed=st.integers(0, 10_000), causal=st.booleans(), padded=st.booleans())
def test_numpy_and_both_torch_paths_agree(B, T_q, T_k, H, Dh, seed, causal, padded):
    D = H * Dh
    params, module, rng = make_pair(D, H, seed)
    xq, xkv = rng.normal(size=(B, T_q, D)), rng.normal(size=(B, T_k, D))
    mask = causal_mask(T_q, T_k) if causal else None
    kpm = padding_mask(rng.integers(1, T_k + 1, size=B), T_k) if padded else None
    ref = multi_head_attention(xq, xkv, params, H, mask, key_padding_mask=kpm)
    kwargs = {"attn_mask": None if mask is None else torch.from_numpy(mask),
              "key_padding_mask": None if kpm is None else torch.from_numpy(kpm)}
    for impl in IMPLS:
        out = run(module, impl, torch.from_numpy(xq), torch.from_numpy(xkv), **kwargs)
        np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-10, err_msg=impl)


@pytest.mark.parametrize("impl", IMPLS)
def test_float32_agrees_to_1e5(impl):
    params, module, rng = make_pair(32, 4, 0, dtype=torch.float32)
    x = rng.normal(size=(2, 9, 32))
    ref = multi_head_attention(x, None, params, 4, causal_mask(9))
    out = run(module, impl, torch.from_numpy(x).float(), is_causal=True)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=0, atol=1e-5)


def test_need_weights_returns_the_reference_weights():
    params, module, rng = make_pair(8, 2, 1)
    x, y = rng.normal(size=(2, 3, 8)), rng.normal(size=(2, 5, 8))
    _, ref_w = multi_head_attention(x, y, params, 2, return_weights=True)
    out, w = run(module, "sdpa", torch.from_numpy(x), torch.from_numpy(y), need_weights=True)
    assert tuple(w.shape) == (2, 2, 3, 5)
    np.testing.assert_allclose(w.numpy(), ref_w, atol=1e-12)
    np.testing.assert_allclose(w.sum(-1).numpy(), 1.0, atol=1e-12)


@settings(deadline=None, max_examples=20)
@given(T=st.integers(2, 8), i=st.integers(0, 6), seed=st.integers(0, 10_000), impl=st.sampled_from(IMPLS))
def test_causal_outputs_do_not_depend_on_later_tokens(T, i, seed, impl):
    i = i % (T - 1)
    params, module, rng = make_pair(12, 3, seed)
    x = rng.normal(size=(2, T, 12))
    x2 = x.copy()
    x2[:, i + 1:] = rng.normal(size=(2, T - i - 1, 12)) * 5  # perturb every position after i
    out = run(module, impl, torch.from_numpy(x), is_causal=True).numpy()
    out2 = run(module, impl, torch.from_numpy(x2), is_causal=True).numpy()
    np.testing.assert_allclose(out2[:, :i + 1], out[:, :i + 1], rtol=0, atol=1e-12)
    assert np.abs(out2[:, i + 1:] - out[:, i + 1:]).max() > 1e-6
    # the same with the mask passed explicitly, and in the NumPy reference
    out3 = run(module, impl, torch.from_numpy(x2), attn_mask=torch.from_numpy(causal_mask(T))).numpy()
    np.testing.assert_allclose(out3, out2, atol=1e-12)
    ref = multi_head_attention(x2, None, params, 3, causal_mask(T))
    np.testing.assert_allclose(out2, ref, atol=1e-10)


def test_without_causal_mask_the_future_leaks():
    _, module, rng = make_pair(8, 2, 2)
    x = rng.normal(size=(1, 5, 8))
    x2 = x.copy()
    x2[0, 4] += 3.0
    for impl in IMPLS:
        out = run(module, impl, torch.from_numpy(x)).numpy()
        out2 = run(module, impl, torch.from_numpy(x2)).numpy()
        assert np.abs(out2[0, 0] - out[0, 0]).max() > 1e-4


@pytest.mark.parametrize("impl", IMPLS)
def test_changing_padded_keys_changes_nothing(impl):
    _, module, rng = make_pair(8, 2, 3)
    x = rng.normal(size=(2, 6, 8))
    kpm = torch.from_numpy(padding_mask(np.array([6, 2]), 6))
    x2 = x.copy()
    x2[1, 2:] = rng.normal(size=(4, 8)) * 10
    q = torch.from_numpy(x)
    out = run(module, impl, q, torch.from_numpy(x), key_padding_mask=kpm)
    out2 = run(module, impl, q, torch.from_numpy(x2), key_padding_mask=kpm)
    torch.testing.assert_close(out2, out, rtol=0, atol=1e-12)
    out3 = run(module, impl, q, torch.from_numpy(x2))
    assert (out3[1] - out[1]).abs().max() > 1e-3


@pytest.mark.parametrize("impl", IMPLS)
def test_fully_masked_row_gives_zero_attention_not_nan(impl):
    params, module, rng = make_pair(8, 2, 4)
    x = torch.from_numpy(rng.normal(size=(1, 4, 8))).requires_grad_(True)
    mask = torch.ones(4, 4, dtype=torch.bool)
    mask[2] = False
    module.implementation = impl
    out = module(x, attn_mask=mask)
    assert torch.isfinite(out).all()
    # the attention output is zero there, so the module's output is the output projection's bias
    torch.testing.assert_close(out[0, 2], module.out_proj.bias, rtol=0, atol=1e-12)
    out.sum().backward()
    assert torch.isfinite(x.grad).all()
    ref = multi_head_attention(x.detach().numpy(), None, params, 2, mask.numpy())
    np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-10)


def test_written_out_attention_function_matches_numpy_sdpa():
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(2, 3, 4, 5)), rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(2, 3, 6, 2))
    mask = rng.random((2, 1, 4, 6)) < 0.6
    mask[0, 0, 1] = False  # one fully hidden row
    out, w = written_out_attention(*map(torch.from_numpy, (q, k, v)), torch.from_numpy(mask), return_weights=True)
    ref, ref_w = scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w, atol=1e-12)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("chunks", [(1, 1, 1, 1, 1, 1), (3, 1, 2), (2, 4)])
def test_kv_cache_incremental_equals_full_recomputation(impl, chunks):
    _, module, rng = make_pair(12, 3, 6)
    T = sum(chunks)
    x = torch.from_numpy(rng.normal(size=(2, T, 12)))
    full = run(module, impl, x, is_causal=True)
    cache, pieces, start = KVCache(), [], 0
    for size in chunks:
        pieces.append(run(module, impl, x[:, start:start + size], is_causal=True, cache=cache))
        start += size
        assert cache.length == start
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=0, atol=1e-12)


def test_kv_cache_reset_and_shape_checks():
    cache = KVCache()
    k = torch.zeros(1, 2, 3, 4)
    keys, values = cache.append(k, k)
    assert cache.length == 3 and keys.shape == (1, 2, 3, 4)
    cache.append(torch.ones(1, 2, 2, 4), torch.ones(1, 2, 2, 4))
    assert cache.length == 5 and cache.keys[0, 0, 4, 0] == 1
    with pytest.raises(ValueError, match="must match the cache"):
        cache.append(torch.zeros(1, 3, 1, 4), torch.zeros(1, 3, 1, 4))
    cache.reset()
    assert cache.length == 0 and cache.keys is None


def test_split_heads_matches_numpy_and_merge_inverts_it():
    module = MultiHeadAttention(12, 3)
    x = np.random.default_rng(7).normal(size=(2, 5, 12))
    heads = module.split_heads(torch.from_numpy(x))
    np.testing.assert_array_equal(heads.numpy(), split_heads(x, 3))
    np.testing.assert_array_equal(module.merge_heads(heads).numpy(), x)


def test_params_round_trip_through_torch():
    params, module, _ = make_pair(8, 2, 8)
    back = params_from_torch(module)
    for name, a, b in zip(params._fields, params, back):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert tuple(module.q_proj.weight.shape) == (8, 8)
    np.testing.assert_array_equal(module.q_proj.weight.detach().numpy(), params.W_q.T)
    with pytest.raises(ValueError, match="d_model=8"):
        params_to_torch(params, MultiHeadAttention(4, 2))
    with pytest.raises(ValueError, match="bias mismatch"):
        params_to_torch(params, MultiHeadAttention(8, 2, bias=False))


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


def test_d_model_not_divisible_by_heads():
    with pytest.raises(ValueError, match=r"d_model=10, num_heads=4"):
        MultiHeadAttention(10, 4)


def test_unknown_implementation():
    module = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="implementation must be one of"):
        module.implementation = "flash"


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 1, 5), (5, 3)])
def test_mask_of_the_wrong_shape(impl, shape):
    module = MultiHeadAttention(8, 2)
    module.implementation = impl
    with pytest.raises(ValueError, match=r"does not broadcast to .*\(2, 2, 3, 5\)"):
        module(torch.zeros(2, 3, 8), torch.zeros(2, 5, 8), attn_mask=torch.ones(shape, dtype=torch.bool))


def test_non_boolean_and_misshapen_padding_masks():
    module = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match="boolean"):
        module(torch.zeros(2, 3, 8), attn_mask=torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"key_padding_mask must be boolean of shape \(batch, T_k\) = \(2, 3\)"):
        module(torch.zeros(2, 3, 8), key_padding_mask=torch.ones(2, 4, dtype=torch.bool))


def test_mismatched_query_and_key_dims():
    module = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"d_model=8"):
        module(torch.zeros(2, 3, 8), torch.zeros(2, 5, 6))
    with pytest.raises(ValueError, match="same batch size"):
        module(torch.zeros(2, 3, 8), torch.zeros(1, 5, 8))
    with pytest.raises(ValueError, match="same head size"):
        written_out_attention(torch.zeros(1, 1, 3, 4), torch.zeros(1, 1, 5, 2), torch.zeros(1, 1, 5, 2))
    with pytest.raises(ValueError, match="4-D"):
        written_out_attention(torch.zeros(3, 4), torch.zeros(5, 4), torch.zeros(5, 4))


# ---------------------------------------------------------------------------
# the benchmark function (companion.bench.attention) and its script
# ---------------------------------------------------------------------------


def test_attention_benchmark_rows():
    from companion.bench.attention import attention_benchmark

    rows = attention_benchmark((16, 32), batch=2, heads=2, head_dim=8, device="cpu", repeats=1)
    assert [r["seq_len"] for r in rows] == [16, 32]
    for r in rows:
        assert r["max_abs_diff"] < 1e-5
        assert r["score_matrix_mib"] == 2 * 2 * r["seq_len"] ** 2 * 4 / 2**20
        assert r["written_out_ms"] > 0 and r["sdpa_ms"] > 0
        assert r["speedup"] == pytest.approx(r["written_out_ms"] / r["sdpa_ms"])
        assert r["dtype"] == "float32" and r["device"] == "cpu" and r["causal"] is False
    causal = attention_benchmark((8,), heads=1, head_dim=4, device="cpu", repeats=1, causal=True)
    assert causal[0]["causal"] is True and causal[0]["max_abs_diff"] < 1e-5


def test_attention_benchmark_bad_input():
    from companion.bench.attention import attention_benchmark

    with pytest.raises(ValueError, match="at least one sequence length"):
        attention_benchmark((), device="cpu")
    with pytest.raises(ValueError, match="seq_lens entry must be a positive int; got 0"):
        attention_benchmark((0,), device="cpu")
    with pytest.raises(TypeError, match="dtype must be a floating torch.dtype"):
        attention_benchmark((8,), device="cpu", dtype=torch.int64)
    with pytest.raises(ValueError, match="heads must be a positive int"):
        attention_benchmark((8,), device="cpu", heads=0)


def test_benchmark_script_quick_prints_a_table(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "attention.py"
    spec = importlib.util.spec_from_file_location("attention_benchmark_script", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rows = [{"seq_len": 8, "batch": 1, "heads": 1, "head_dim": 4, "dtype": "float32", "causal": False,
             "written_out_ms": 2.0, "sdpa_ms": 1.0, "speedup": 2.0, "score_matrix_mib": 0.5,
             "written_out_peak_mib": None, "sdpa_peak_mib": 0.25, "memory_method": "not measured",
             "max_abs_diff": 1e-7}]
    table = script.markdown({"cpu": "test"}, rows, "cmd")
    assert "| 8 | 2.00 | 1.00 | 2.0 | 0.5 | n/a | 0.2 | < 1e-6 |" in table   # agreement shown as a bound
    rows[0]["spread"] = {"written_out_ms": [1.5, 2.5]}
    rows[0]["max_abs_diff"] = 3e-6
    table = script.markdown({"cpu": "test"}, rows, "cmd")
    assert "| 8 | 2.00 [1.50–2.50] | 1.00 | 2.0 | 0.5 | n/a | 0.2 | 3.0e-06 |" in table
    assert "- cpu: test" in table
