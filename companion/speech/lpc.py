"""Linear prediction and LPC cepstral coefficients in NumPy (book chapter 18).

Linear prediction of order p predicts each sample from the p before it,
x[t] ~ -sum_k a_k x[t-k]. Minimising the squared error over a frame gives
the normal equations sum_k a_k r[|j - k|] = -r[j], j = 1..p, in the frame's
autocorrelation r (Eq. 18.10). Their matrix is Toeplitz, and the
Levinson-Durbin recursion solves them in O(p^2); the fitted model is the
all-pole filter G / A(z), A(z) = 1 + sum_k a_k z^-k, with G^2 the error left.

The cepstrum of that model needs no Fourier transform. Since A has its roots
inside the unit circle, log(G / A(z)) = sum_n c_n z^-n with c_0 = log G and

    c_n = -a_n - sum_{k=1}^{n-1} (k / n) c_k a_{n-k},   n >= 1               Eq. (18.11)

(a_n = 0 for n > p). These c_1..c_12 of a 12th-order model are the 12
features of each frame of the Japanese vowels data. The real cepstrum of the
model's magnitude, Eq. (18.9), is c_n / 2 for n >= 1 (the log magnitude is
the real part of the log, the even part of the sequence).
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array, check_positive_int


def autocorrelation(frame, max_lag: int) -> np.ndarray:
    """r[0..max_lag] = sum_t x[t] x[t + lag] of one frame."""
    frame = as_float_array(frame, "frame", ndim=1)
    max_lag = check_positive_int(max_lag, "max_lag")
    if max_lag >= len(frame):
        raise ValueError(f"max_lag must be below the frame length {len(frame)}; got {max_lag}")
    return np.array([frame[: len(frame) - lag] @ frame[lag:] for lag in range(max_lag + 1)])


def levinson_durbin(r, order: int) -> tuple[np.ndarray, float]:
    """Solve the normal equations (Eq. 18.10) for a_1..a_order; return (a, prediction error G^2)."""
    r = as_float_array(r, "r", ndim=1)
    order = check_positive_int(order, "order")
    if len(r) <= order:
        raise ValueError(f"need r[0..{order}], {order + 1} lags; got {len(r)}")
    if r[0] <= 0:
        raise ValueError(f"r[0] is the frame's energy and must be > 0; got {r[0]}")
    a = np.zeros(order)
    error = r[0]
    for i in range(order):
        reflection = -(r[i + 1] + a[:i] @ r[i:0:-1]) / error
        a[:i] = a[:i] + reflection * a[:i][::-1]
        a[i] = reflection
        error *= 1 - reflection**2
    return a, float(error)


def lpc_cepstrum(a, gain: float, n_coefficients: int) -> np.ndarray:
    """c_0..c_n of the all-pole model gain / A(z), Eq. (18.11)."""
    a = as_float_array(a, "a", ndim=1)
    n_coefficients = check_positive_int(n_coefficients, "n_coefficients")
    if not gain > 0:
        raise ValueError(f"gain must be > 0; got {gain}")
    p = len(a)
    c = np.zeros(n_coefficients + 1)
    c[0] = np.log(gain)
    for n in range(1, n_coefficients + 1):
        a_n = a[n - 1] if n <= p else 0.0
        total = sum(k / n * c[k] * a[n - k - 1] for k in range(max(1, n - p), n))
        c[n] = -a_n - total
    return c
