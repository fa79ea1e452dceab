"""A synthetic vowel: the source-filter model of speech (book chapter 18, Eq. 18.7).

Voiced speech is a periodic source, the puffs of air let through by the
vocal folds f0 times a second, shaped by the vocal tract, a filter whose
resonances (the *formants*) depend on the position of the tongue and lips
and make one vowel sound different from another. The signal built here is a
train of unit pulses at f0 sent through one second-order resonator per
formant, each the all-pole filter

    y[t] = x[t] + 2 r cos(theta) y[t-1] - r^2 y[t-2],                        Eq. (18.7)
    theta = 2 pi F / f_s,  r = exp(-pi B / f_s),

with centre frequency F and bandwidth B in hertz. The result is an all-pole
signal, exactly the model that linear prediction (:mod:`companion.speech.lpc`)
fits.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_positive_int


def resonator_coefficients(frequency: float, bandwidth: float, sample_rate: int) -> tuple[float, float]:
    """(a1, a2) of Eq. (18.7), so that y[t] = x[t] - a1 y[t-1] - a2 y[t-2]."""
    sample_rate = check_positive_int(sample_rate, "sample_rate")
    if not 0 < frequency < sample_rate / 2:
        raise ValueError(f"frequency must lie in (0, {sample_rate / 2}) Hz, below Nyquist; got {frequency}")
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0 Hz; got {bandwidth}")
    radius = np.exp(-np.pi * bandwidth / sample_rate)
    return -2 * radius * np.cos(2 * np.pi * frequency / sample_rate), radius**2


def all_pole_filter(x, a) -> np.ndarray:
    """y[t] = x[t] - sum_k a[k] y[t-k], k = 1..p (``a`` lists a_1..a_p)."""
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    y = np.zeros(len(x) + len(a))
    for t in range(len(x)):  # y is stored with p leading zeros, so y[t + p] is the sample at time t
        past = y[t : t + len(a)][::-1]  # y[t-1], ..., y[t-p]
        y[t + len(a)] = x[t] - a @ past
    return y[len(a) :]


def synthesize_vowel(formants, bandwidths, *, f0: float = 120.0, duration: float = 0.25,
                     sample_rate: int = 10_000) -> np.ndarray:  # fmt: skip
    """A vowel of ``duration`` seconds: pulses at ``f0`` Hz through one resonator per formant.

    The cascade's coefficients multiply into one all-pole polynomial A(z);
    the signal is scaled to a peak of 1.
    """
    formants, bandwidths = list(formants), list(bandwidths)
    if len(formants) != len(bandwidths) or not formants:
        raise ValueError(f"need one bandwidth per formant; got {len(formants)} formant(s), {len(bandwidths)}")
    if not 0 < f0 < sample_rate / 2:
        raise ValueError(f"f0 must lie in (0, {sample_rate / 2}) Hz; got {f0}")
    n = int(round(duration * sample_rate))
    if n < 1:
        raise ValueError(f"duration must give at least one sample at {sample_rate} Hz; got {duration} s")
    source = np.zeros(n)
    source[np.arange(0, n, sample_rate / f0).astype(int)] = 1.0
    polynomial = np.array([1.0])
    for frequency, bandwidth in zip(formants, bandwidths):
        a1, a2 = resonator_coefficients(frequency, bandwidth, sample_rate)
        polynomial = np.convolve(polynomial, [1.0, a1, a2])
    signal = all_pole_filter(source, polynomial[1:])
    return signal / np.abs(signal).max()


