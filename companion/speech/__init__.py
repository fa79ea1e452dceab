"""Speech signals from scratch in NumPy (book chapter 18): a synthetic vowel, spectrograms, cepstra, LPC.

* :mod:`companion.speech.synth`: a vowel as a pulse train through formant resonators;
* :mod:`companion.speech.spectral`: frames, the short-time Fourier transform and the real cepstrum;
* :mod:`companion.speech.lpc`: linear prediction by Levinson-Durbin and its cepstral coefficients,
  the features of the Japanese vowels data set.
"""
