"""The NumPy quantisation reference of chapter 15, Eqs. (15.1)-(15.6), and ONNX Runtime's integer ops."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.compression.quantization import (
    QuantParams,
    affine_params,
    dequantize,
    dynamic_quantize,
    fake_quantize,
    int32_accumulation_limit,
    matmul_integer,
    quantize,
    quantized_linear,
    symmetric_params,
)

finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)


@given(st.lists(finite, min_size=1, max_size=50))
def test_error_within_half_a_step_inside_the_range(values):
    """Eq. (15.4): every x inside [a, b] comes back within s / 2 (plus float32 rounding)."""
    x = np.array(values, dtype=np.float32)
    params = affine_params(float(x.min()), float(x.max()))
    error = np.abs(fake_quantize(x, params) - x)
    assert np.all(error <= params.scale / 2 * (1 + 1e-5) + 1e-6 * np.abs(x))


def test_zero_is_exact_and_the_range_is_widened_to_contain_it():
    params = affine_params(0.5, 2.0)
    assert params.zero_point == 0  # the range became [0, 2]
    assert dequantize(quantize(np.zeros(3), params), params).tolist() == [0.0, 0.0, 0.0]
    negative = affine_params(-3.0, -1.0)
    assert negative.zero_point == 255 and dequantize(quantize([0.0], negative), negative)[0] == 0.0


def test_codes_saturate_outside_the_range():
    params = affine_params(-1.0, 1.0)
    codes = quantize([-10.0, 10.0], params)
    assert codes.tolist() == [0, 255]


def test_rounding_is_half_to_even():
    params = QuantParams(np.float32(1.0), np.int64(0), "int8")
    assert quantize([0.5, 1.5, 2.5, -0.5], params).tolist() == [0, 2, 2, 0]


def test_symmetric_per_channel_uses_one_scale_per_row():
    w = np.array([[1.0, -2.0], [0.005, 0.02], [0.0, 0.0]], dtype=np.float32)
    params = symmetric_params(w, axis=0)
    assert np.allclose(params.scale, [2 / 127, 0.02 / 127, 1.0])
    codes = quantize(w, params)
    assert codes[0].tolist() == [64, -127] and codes[1].tolist() == [32, 127]
    # One scale for the tensor would round the small row to a single code.
    assert np.unique(quantize(w[1:2], symmetric_params(w))).size <= 2
    assert np.abs(fake_quantize(w, params) - w)[1].max() < np.abs(fake_quantize(w, symmetric_params(w)) - w)[1].max()


def test_reduced_range_codes_cannot_saturate_a_16_bit_pair_sum():
    w = np.random.default_rng(4).normal(size=(5, 9))
    codes = quantize(w, symmetric_params(w, axis=0, bits=7))
    assert np.abs(codes).max() == 63 and 2 * 255 * 63 < 2**15 <= 2 * 255 * 127


def test_accumulation_limit_and_overflow_check():
    limit = int32_accumulation_limit()
    assert limit * 255 * 255 <= 2**31 - 1 < (limit + 1) * 255 * 255
    with pytest.raises(ValueError, match="overflow int32"):
        matmul_integer(np.zeros((1, limit + 1), np.uint8), np.zeros((limit + 1, 1), np.int8))


def test_matmul_integer_equals_the_exact_integer_product():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, size=(3, 40)).astype(np.uint8)
    b = rng.integers(-127, 128, size=(40, 5)).astype(np.int8)
    exact = (a.astype(np.int64) - 7) @ (b.astype(np.int64) - 0)
    out = matmul_integer(a, b, 7, 0)
    assert out.dtype == np.int32 and np.array_equal(out, exact)


def test_quantized_linear_is_close_to_the_float_product():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 64)).astype(np.float32)
    w = rng.normal(size=(16, 64)).astype(np.float32)
    exact = x @ w.T
    approx = quantized_linear(x, w)
    assert np.abs(approx - exact).max() < 0.05 * np.abs(exact).max()
    assert not np.array_equal(approx, exact)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: affine_params(2.0, 1.0), ValueError, "must not exceed"),
        (lambda: affine_params(0.0, np.inf), ValueError, "finite"),
        (lambda: affine_params(0.0, 1.0, "int4"), ValueError, "dtype must be one of"),
        (lambda: QuantParams(np.float32(0.0), np.int64(0)), ValueError, "positive"),
        (lambda: QuantParams(np.float32(1.0), np.int64(300)), ValueError, r"\[0, 255\]"),
        (lambda: QuantParams(np.ones(2, np.float32), np.zeros(2, np.int64)), ValueError, "axis"),
        (lambda: symmetric_params(np.ones((2, 2)), axis=2), ValueError, "axis must index"),
        (lambda: symmetric_params(np.ones(2), bits=4), ValueError, "bits=8 or bits=7"),
        (lambda: dequantize(np.ones(2), affine_params(0, 1)), TypeError, "integer codes"),
        (lambda: dynamic_quantize(np.zeros(0)), ValueError, "at least one value"),
        (lambda: matmul_integer(np.ones((2, 3)), np.ones((3, 2), np.int8)), TypeError, "q_a must hold integer"),
        (lambda: matmul_integer(np.ones((2, 3), np.uint8), np.ones((4, 2), np.int8)), ValueError, "same K"),
        (lambda: quantized_linear(np.ones((2, 3)), np.ones((4, 5))), ValueError, "3 features"),
    ],
)
def test_bad_input_says_what_was_expected(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- the same integers from ONNX Runtime ---------------------------------------------------------


def _run_onnx(nodes, inputs, outputs, feeds, initializers=()):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    from onnx import helper

    graph = helper.make_graph(nodes, "check", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_dynamic_quantize_equals_onnx_dynamic_quantize_linear():
    from onnx import TensorProto, helper

    x = np.random.default_rng(2).normal(size=(6, 33)).astype(np.float32) * 3
    y, scale, zero = _run_onnx(
        [helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "s", "z"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info(n, t, s) for n, t, s in
         (("y", TensorProto.UINT8, list(x.shape)), ("s", TensorProto.FLOAT, []), ("z", TensorProto.UINT8, []))],
        {"x": x},
    )
    codes, params = dynamic_quantize(x)
    assert scale == params.scale and zero == params.zero_point and np.array_equal(y, codes)


def _cpu_has_vnni():
    """True or False on Linux x86 (from /proc/cpuinfo), None where the flags cannot be read."""
    from pathlib import Path

    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        return None
    flags = cpuinfo.read_text().split()
    return "avx512_vnni" in flags or "avx_vnni" in flags


def _onnx_matmul_integer(a, b, a_zero_point):
    from onnx import TensorProto, helper, numpy_helper

    (out,) = _run_onnx(
        [helper.make_node("MatMulInteger", ["a", "b", "za"], ["y"])],
        [helper.make_tensor_value_info("a", TensorProto.UINT8, list(a.shape))],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [a.shape[0], b.shape[1]])],
        {"a": a},
        [numpy_helper.from_array(b, "b"), numpy_helper.from_array(np.uint8(a_zero_point), "za")],
    )
    return out


def test_matmul_integer_equals_onnx_runtime():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, size=(5, 384)).astype(np.uint8)
    # 7-bit weight codes (reduce_range): exact on every x86 CPU, with or without VNNI
    b7 = rng.integers(-63, 64, size=(384, 7)).astype(np.int8)
    assert np.array_equal(_onnx_matmul_integer(a, b7, 131), matmul_integer(a, b7, 131, 0))
    # 8-bit codes: a CPU without VNNI adds pairs of products into a saturating 16-bit sum (chapter 15)
    b8 = rng.integers(-127, 128, size=(384, 7)).astype(np.int8)
    if _cpu_has_vnni():
        assert np.array_equal(_onnx_matmul_integer(a, b8, 131), matmul_integer(a, b8, 131, 0))
