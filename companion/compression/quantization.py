"""Integer quantisation of a tensor and of a matrix product, in NumPy (book chapter 15).

The reference the chapter checks ONNX Runtime against, bit for bit on the integers.

- Affine quantisation, Eq. (15.1): ``q = clamp(round(x / s) + z, q_min, q_max)``, and its
  inverse, Eq. (15.2): ``x_hat = s (q - z)``.
- The scale and zero point that map a range ``[a, b]`` (widened to contain 0, so that 0
  and padding are exact) onto ``[q_min, q_max]``, Eq. (15.3):
  ``s = (b - a) / (q_max - q_min)``, ``z = q_min - round(a / s)``.
- For every ``x`` inside ``[a, b]`` the error is at most half a step, Eq. (15.4):
  ``|x - x_hat| <= s / 2``.
- Symmetric quantisation, Eq. (15.5): ``z = 0`` and ``s = max|x| / (2^(bits-1) - 1)``, per
  tensor or per output channel (one scale per row of a weight matrix).
- The integer matrix product, Eq. (15.6): ``X W^T ~ s_x s_w (Q_x - z_x)(Q_w - z_w)^T`` with the
  sums accumulated in int32; :func:`int32_accumulation_limit` is the longest inner dimension
  for which no sum can overflow, Eq. (15.7).

Rounding is half to even (``np.rint``), as ONNX's QuantizeLinear specifies, and the scale
arithmetic is done in float32, as ONNX Runtime does it, so that the integers agree exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import as_float_array, check_choice, check_positive_int

# name -> (q_min, q_max, NumPy dtype); int8 weights use the symmetric range [-127, 127].
INTEGER_TYPES = {
    "uint8": (0, 255, np.uint8),
    "int8": (-128, 127, np.int8),
}


@dataclass(frozen=True)
class QuantParams:
    """Scale(s) and zero point(s) of an affine quantisation, Eq. (15.1).

    ``scale`` and ``zero_point`` are scalars (per tensor) or 1-d arrays with one entry per
    slice along ``axis`` (per channel). ``dtype`` names the integer type ("uint8" or "int8").
    """

    scale: np.ndarray
    zero_point: np.ndarray
    dtype: str = "uint8"
    axis: int | None = None

    def __post_init__(self):
        check_choice(self.dtype, "dtype", INTEGER_TYPES)
        scale = np.asarray(self.scale, dtype=np.float32)
        if not np.all(np.isfinite(scale)) or np.any(scale <= 0):
            raise ValueError(f"every scale must be finite and positive; got {scale}")
        zero_point = np.asarray(self.zero_point, dtype=np.int64)
        q_min, q_max, _ = INTEGER_TYPES[self.dtype]
        if np.any(zero_point < q_min) or np.any(zero_point > q_max):
            raise ValueError(f"zero points must lie in [{q_min}, {q_max}] for {self.dtype}; got {zero_point}")
        if scale.shape != zero_point.shape:
            raise ValueError(f"scale and zero_point must have one shape; got {scale.shape} and {zero_point.shape}")
        if (self.axis is None) != (scale.ndim == 0):
            raise ValueError(f"per-tensor parameters are scalars with axis None, per-channel ones 1-d with an axis; "
                             f"got scale of shape {scale.shape} and axis {self.axis}")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "zero_point", zero_point)

    @property
    def q_min(self) -> int:
        return INTEGER_TYPES[self.dtype][0]

    @property
    def q_max(self) -> int:
        return INTEGER_TYPES[self.dtype][1]

    def broadcast(self, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """Scale and zero point shaped to broadcast against an array of ``ndim`` dimensions."""
        if self.axis is None:
            return self.scale, self.zero_point
        shape = [1] * ndim
        shape[self.axis] = -1
        return self.scale.reshape(shape), self.zero_point.reshape(shape)


def affine_params(x_min: float, x_max: float, dtype: str = "uint8") -> QuantParams:
    """Per-tensor scale and zero point mapping ``[x_min, x_max]`` onto the integer range, Eq. (15.3).

    The range is first widened to contain 0 (``a = min(x_min, 0)``, ``b = max(x_max, 0)``),
    so that 0 is represented exactly. A range of zero width (all values 0) gets scale 1.
    """
    check_choice(dtype, "dtype", INTEGER_TYPES)
    if not (np.isfinite(x_min) and np.isfinite(x_max)):
        raise ValueError(f"x_min and x_max must be finite; got {x_min} and {x_max}")
    if x_min > x_max:
        raise ValueError(f"x_min must not exceed x_max; got {x_min} > {x_max}")
    q_min, q_max, _ = INTEGER_TYPES[dtype]
    low = np.float32(min(float(x_min), 0.0))
    high = np.float32(max(float(x_max), 0.0))
    scale = np.float32((high - low) / np.float32(q_max - q_min))
    if scale == 0:
        scale = np.float32(1.0)
    zero_point = np.clip(np.rint(np.float32(q_min) - low / scale), q_min, q_max)
    return QuantParams(scale, np.int64(zero_point), dtype)


def symmetric_params(x, axis: int | None = None, bits: int = 8) -> QuantParams:
    """Symmetric int8 parameters, Eq. (15.5): zero point 0, ``s = max|x| / (2^(bits-1) - 1)``.

    ``axis=None`` gives one scale for the tensor; ``axis=k`` one scale per slice along
    dimension ``k`` (per channel: ``axis=0`` for the rows of a (out, in) weight matrix).
    The codes stay within ``[-127, 127]``, so negating a code never overflows. ``bits=7``
    uses only ``[-63, 63]`` (ONNX Runtime's ``reduce_range``): on x86 CPUs without VNNI the
    uint8 x int8 instruction adds pairs of products into a 16-bit sum, which two 8-bit
    products (up to 2 * 255 * 127) can saturate and two 7-bit ones (2 * 255 * 63) cannot.
    """
    x = as_float_array(x, "x")
    bits = check_positive_int(bits, "bits")
    if bits not in (7, 8):
        raise ValueError(f"codes are stored as int8, with bits=8 or bits=7 (reduced range); got bits={bits}")
    if axis is None:
        largest = np.float32(np.max(np.abs(x))) if x.size else np.float32(0)
    else:
        if not -x.ndim <= axis < x.ndim:
            raise ValueError(f"axis must index one of the {x.ndim} dimensions of x; got {axis}")
        axis = axis % x.ndim
        others = tuple(d for d in range(x.ndim) if d != axis)
        largest = np.max(np.abs(x), axis=others).astype(np.float32)
    scale = (largest / np.float32(2 ** (bits - 1) - 1)).astype(np.float32)
    scale = np.where(scale == 0, np.float32(1.0), scale).astype(np.float32)
    return QuantParams(scale, np.zeros(np.shape(scale), dtype=np.int64), "int8", axis)


def quantize(x, params: QuantParams) -> np.ndarray:
    """Integer codes of ``x``, Eq. (15.1): ``clamp(round(x / s) + z, q_min, q_max)``, rounding half to even."""
    x = np.asarray(as_float_array(x, "x"), dtype=np.float32)
    scale, zero_point = params.broadcast(x.ndim)
    codes = np.rint(x / scale) + zero_point
    return np.clip(codes, params.q_min, params.q_max).astype(INTEGER_TYPES[params.dtype][2])


def dequantize(q, params: QuantParams) -> np.ndarray:
    """The values the codes stand for, Eq. (15.2): ``s (q - z)``, in float32."""
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise TypeError(f"q must hold integer codes; got dtype {q.dtype}")
    scale, zero_point = params.broadcast(q.ndim)
    return (scale * (q.astype(np.int64) - zero_point)).astype(np.float32)


def fake_quantize(x, params: QuantParams) -> np.ndarray:
    """``dequantize(quantize(x))``: the float values a quantised model computes with."""
    return dequantize(quantize(x, params), params)


def dynamic_quantize(x) -> tuple[np.ndarray, QuantParams]:
    """uint8 codes of an activation with its range measured on the fly (ONNX ``DynamicQuantizeLinear``).

    The range ``[min(x, 0), max(x, 0)]`` sets the scale and zero point by Eq. (15.3); this
    is what dynamic quantisation does to every activation at run time.
    """
    x = np.asarray(as_float_array(x, "x"), dtype=np.float32)
    if x.size == 0:
        raise ValueError("x must hold at least one value to measure its range")
    params = affine_params(float(x.min()), float(x.max()), "uint8")
    return quantize(x, params), params


def int32_accumulation_limit(a_dtype: str = "uint8", b_dtype: str = "int8") -> int:
    """The longest inner dimension K whose sums of products ``(q_a - z_a)(q_b - z_b)`` fit in int32.

    With zero points subtracted, a uint8 term and an int8 term each lie in [-255, 255] (the
    width of their range), so ``K * 255 * 255 <= 2^31 - 1`` bounds K: 33,025 terms.
    """
    for name in (a_dtype, b_dtype):
        if name not in INTEGER_TYPES:
            raise ValueError(f"dtypes must be among {sorted(INTEGER_TYPES)}; got {name!r}")
    largest = [INTEGER_TYPES[name][1] - INTEGER_TYPES[name][0] for name in (a_dtype, b_dtype)]
    return (2**31 - 1) // (largest[0] * largest[1])


def matmul_integer(q_a, q_b, zero_a=0, zero_b=0) -> np.ndarray:
    """``(Q_a - z_a) @ (Q_b - z_b)`` in int32, as ONNX ``MatMulInteger`` computes it (Eq. (15.6)).

    ``q_a`` is (..., M, K) and ``q_b`` (K, N); ``zero_b`` may be a scalar or one zero point per
    column (per-channel weights). Raises when K is so long that int32 could overflow.
    """
    q_a, q_b = np.asarray(q_a), np.asarray(q_b)
    for name, q in (("q_a", q_a), ("q_b", q_b)):
        if not np.issubdtype(q.dtype, np.integer):
            raise TypeError(f"{name} must hold integer codes; got dtype {q.dtype}")
    if q_b.ndim != 2 or q_a.ndim < 1 or q_a.shape[-1] != q_b.shape[0]:
        raise ValueError(f"q_a must be (..., K) and q_b (K, N) with the same K; got {q_a.shape} and {q_b.shape}")
    limit = int32_accumulation_limit()
    if q_b.shape[0] > limit:
        raise ValueError(f"an inner dimension of {q_b.shape[0]} can overflow int32 (limit {limit})")
    product = (q_a.astype(np.int64) - np.asarray(zero_a, dtype=np.int64)) @ (
        q_b.astype(np.int64) - np.asarray(zero_b, dtype=np.int64)
    )
    return product.astype(np.int32)


def quantized_linear(x, weight, bias=None) -> np.ndarray:
    """``x W^T + b`` computed as dynamic quantisation does it, Eq. (15.6).

    The activation gets uint8 codes with a range measured on the fly (:func:`dynamic_quantize`),
    the (out, in) weight symmetric int8 codes with one scale per output row; the integer
    product is accumulated in int32 and scaled back to float32 by ``s_x s_w``.
    """
    x = np.asarray(as_float_array(x, "x"), dtype=np.float32)
    weight = np.asarray(as_float_array(weight, "weight", ndim=2), dtype=np.float32)
    if x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x has {x.shape[-1]} features and weight expects {weight.shape[1]}")
    q_x, x_params = dynamic_quantize(x)
    w_params = symmetric_params(weight, axis=0)
    q_w = quantize(weight, w_params)
    accumulated = matmul_integer(q_x, q_w.T, x_params.zero_point, 0)
    out = accumulated.astype(np.float32) * (x_params.scale * w_params.scale)
    if bias is not None:
        out = out + np.asarray(as_float_array(bias, "bias", ndim=1), dtype=np.float32)
    return out
