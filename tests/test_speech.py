"""Chapter 18's signal processing: the synthetic vowel, the spectrogram, the cepstrum and LPC."""

import numpy as np
import pytest

from companion.speech.lpc import autocorrelation, levinson_durbin, lpc_cepstrum
from companion.speech.spectral import frame_signal, hann_window, real_cepstrum, spectrogram
from companion.speech.synth import all_pole_filter, resonator_coefficients, synthesize_vowel

FS = 10_000


@pytest.fixture(scope="module")
def vowel():
    return synthesize_vowel([750, 1150, 2500], [80, 90, 120], f0=120, duration=0.3, sample_rate=FS)


def test_spectrogram_equals_torch_stft(vowel):
    torch = pytest.importorskip("torch")
    ours = spectrogram(vowel, 256, 64)
    window = torch.hann_window(256, dtype=torch.float64)
    theirs = torch.stft(torch.tensor(vowel), 256, 64, window=window, center=False, return_complex=True)
    np.testing.assert_allclose(ours, theirs.abs().numpy().T, atol=1e-12 * ours.max())
    assert ours.shape == (1 + (len(vowel) - 256) // 64, 129)


def test_levinson_solves_the_toeplitz_normal_equations(vowel):
    frame = vowel[1000:1256] * hann_window(256)
    r = autocorrelation(frame, 12)
    a, error = levinson_durbin(r, 12)
    toeplitz = np.array([[r[abs(i - j)] for j in range(12)] for i in range(12)])
    np.testing.assert_allclose(a, np.linalg.solve(toeplitz, -r[1:]), rtol=1e-6, atol=1e-8)
    assert 0 < error < r[0]
    assert np.all(np.abs(np.roots(np.r_[1.0, a])) < 1)  # minimum phase: a stable filter


def test_lpc_cepstrum_recursion_equals_the_fourier_cepstrum(vowel):
    frame = vowel[1000:1256] * hann_window(256)
    a, error = levinson_durbin(autocorrelation(frame, 12), 12)
    c = lpc_cepstrum(a, np.sqrt(error), 20)
    log_magnitude = np.log(np.sqrt(error) / np.abs(np.fft.fft(np.r_[1.0, a], 8192)))
    fourier = np.fft.ifft(log_magnitude).real
    np.testing.assert_allclose(fourier[1:21], c[1:] / 2, atol=1e-10)
    assert fourier[0] == pytest.approx(c[0])


def test_the_envelope_finds_the_formants_and_the_cepstrum_the_pitch(vowel):
    frame = vowel[1000:1256] * hann_window(256)
    a, error = levinson_durbin(autocorrelation(frame, 12), 12)
    envelope = -np.log(np.abs(np.fft.rfft(np.r_[1.0, a], 8192)))
    peaks = [i for i in range(1, len(envelope) - 1) if envelope[i - 1] < envelope[i] > envelope[i + 1]]
    frequencies = np.array(peaks) * FS / 8192
    for formant in (750, 1150, 2500):
        assert np.min(np.abs(frequencies - formant)) < 40, frequencies
    cepstrum = real_cepstrum(vowel[1000:1512] * hann_window(512))
    assert FS / (40 + np.argmax(cepstrum[40:200])) == pytest.approx(120, rel=0.02)


def test_resonator_has_its_peak_at_the_formant():
    a1, a2 = resonator_coefficients(1000, 50, FS)
    impulse = np.zeros(4096)
    impulse[0] = 1
    response = np.abs(np.fft.rfft(all_pole_filter(impulse, [a1, a2])))
    assert np.argmax(response) * FS / 4096 == pytest.approx(1000, abs=5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"below Nyquist; got 6000"):
        resonator_coefficients(6000, 50, FS)
    with pytest.raises(ValueError, match="one bandwidth per formant"):
        synthesize_vowel([700, 1200], [80])
    with pytest.raises(ValueError, match="shorter than one frame"):
        frame_signal(np.zeros(10), 256, 64)
    with pytest.raises(ValueError, match="r\\[0\\] is the frame's energy"):
        levinson_durbin(np.zeros(13), 12)
    with pytest.raises(ValueError, match="need r\\[0..12\\]"):
        levinson_durbin(np.ones(5), 12)
    with pytest.raises(ValueError, match="gain must be > 0"):
        lpc_cepstrum(np.zeros(3), 0.0, 5)
    with pytest.raises(ValueError, match="max_lag must be below the frame length"):
        autocorrelation(np.ones(8), 8)
