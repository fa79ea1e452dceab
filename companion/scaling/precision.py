"""Floating-point formats used in training: their sizes, ranges and precision (book chapter 13).

A binary floating-point number with ``e`` exponent bits and ``m`` stored mantissa
bits represents, for a normal number, (-1)^s (1 + f / 2^m) 2^(E - bias), with
bias = 2^(e-1) - 1, Eq. (13.13). From the two bit counts follow everything a
mixed-precision recipe cares about: the largest finite value (overflow), the
smallest normal and subnormal values (underflow) and the machine epsilon, the
gap between 1 and the next number (rounding), Eq. (13.14).

fp16 and bf16 both take 2 bytes; fp16 spends its bits on precision (10 mantissa
bits, 5 exponent bits), bf16 on range (7 mantissa bits, the 8 exponent bits of
fp32). That is why fp16 training needs loss scaling and bf16 training usually
does not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FloatFormat:
    """An IEEE-754-style binary format: ``exponent_bits`` and stored ``mantissa_bits``."""

    name: str
    exponent_bits: int
    mantissa_bits: int

    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def bytes(self) -> int:
        return self.bits // 8

    @property
    def bias(self) -> int:
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def max(self) -> float:
        """Largest finite value, (2 - 2^-m) 2^bias, Eq. (13.14)."""
        return (2.0 - 2.0 ** -self.mantissa_bits) * 2.0 ** self.bias

    @property
    def smallest_normal(self) -> float:
        """Smallest positive normal value, 2^(1 - bias), Eq. (13.14)."""
        return 2.0 ** (1 - self.bias)

    @property
    def smallest_subnormal(self) -> float:
        """Smallest positive value at all, 2^(1 - bias - m), Eq. (13.14)."""
        return 2.0 ** (1 - self.bias - self.mantissa_bits)

    @property
    def eps(self) -> float:
        """Gap between 1 and the next representable number, 2^-m, Eq. (13.14)."""
        return 2.0 ** -self.mantissa_bits


FORMATS = {
    "fp32": FloatFormat("fp32", 8, 23),
    "bf16": FloatFormat("bf16", 8, 7),
    "fp16": FloatFormat("fp16", 5, 10),
}

ALIASES = {
    "fp32": "fp32", "float32": "fp32", "float": "fp32", "torch.float32": "fp32",
    "bf16": "bf16", "bfloat16": "bf16", "torch.bfloat16": "bf16",
    "fp16": "fp16", "float16": "fp16", "half": "fp16", "torch.float16": "fp16",
}


def normalise_dtype(dtype) -> str:
    """Return the canonical name ("fp32", "bf16" or "fp16") of ``dtype``.

    Accepts the short names, NumPy-style names ("float32", "bfloat16", "float16")
    and torch dtypes (matched by name, so torch is not imported).

    Raises:
        TypeError: ``dtype`` is neither a string nor a dtype-like object.
        ValueError: the name is not one of the known formats.
    """
    if isinstance(dtype, str):
        key = dtype.strip().lower()
    elif type(dtype).__name__ == "dtype" or type(dtype).__module__.startswith("numpy"):  # torch or numpy dtype
        key = str(dtype).lower()
    else:
        raise TypeError("dtype must be a string such as 'fp32', 'bf16' or 'fp16'; "
                        f"got {type(dtype).__name__} {dtype!r}")
    if key not in ALIASES:
        raise ValueError(f"dtype must be one of {sorted(FORMATS)} (or an alias such as 'float32'); got {dtype!r}")
    return ALIASES[key]


def float_format(dtype) -> FloatFormat:
    """The :class:`FloatFormat` of ``dtype`` (see :func:`normalise_dtype`)."""
    return FORMATS[normalise_dtype(dtype)]


def dtype_bytes(dtype) -> int:
    """Bytes per value of ``dtype``: 4 for fp32, 2 for bf16 and fp16."""
    return float_format(dtype).bytes
