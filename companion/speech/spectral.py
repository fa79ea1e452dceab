"""Frames, the short-time Fourier transform and the real cepstrum in NumPy (book chapter 18).

A spectrogram cuts the signal into overlapping frames of ``frame_length``
samples, ``hop`` apart, multiplies each by a Hann window w and takes the
magnitude of its discrete Fourier transform:

    S[m, k] = | sum_t w[t] x[m hop + t] exp(-2 pi i k t / N) |                Eq. (18.8)

The real cepstrum of a frame is the inverse transform of its log magnitude,

    c[q] = (1/N) sum_k log |X[k]| exp(2 pi i k q / N),                        Eq. (18.9)

which turns the product source x filter of a voiced frame into a sum: the
vocal tract's smooth envelope lands at small quefrencies q, the pitch
period as a peak at q = f_s / f0.
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int


def hann_window(length: int) -> np.ndarray:
    """The periodic Hann window 0.5 - 0.5 cos(2 pi t / length), t = 0..length-1 (as ``torch.hann_window``)."""
    length = check_positive_int(length, "length")
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)


def frame_signal(signal, frame_length: int, hop: int) -> np.ndarray:
    """(n_frames, frame_length) view of the frames starting at 0, hop, 2 hop, ... that fit."""
    signal = as_float_array(signal, "signal", ndim=1)
    frame_length = check_positive_int(frame_length, "frame_length")
    hop = check_positive_int(hop, "hop")
    if len(signal) < frame_length:
        raise ValueError(f"the signal ({len(signal)} samples) is shorter than one frame ({frame_length})")
    windows = np.lib.stride_tricks.sliding_window_view(signal, frame_length)
    return windows[::hop]


def spectrogram(signal, frame_length: int = 256, hop: int = 64) -> np.ndarray:
    """Eq. (18.8): magnitudes (n_frames, frame_length // 2 + 1) of the Hann-windowed frames."""
    frames = frame_signal(signal, frame_length, hop)
    return np.abs(np.fft.rfft(frames * hann_window(frame_length), axis=1))


def real_cepstrum(frame, floor: float = 1e-10) -> np.ndarray:
    """Eq. (18.9) of one windowed frame; ``floor`` keeps log away from zero magnitudes."""
    frame = as_float_array(frame, "frame", ndim=1)
    magnitude = np.abs(np.fft.fft(frame))
    return np.fft.ifft(np.log(np.maximum(magnitude, floor))).real
