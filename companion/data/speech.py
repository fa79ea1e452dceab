"""The UCI Japanese vowels of chapter 18 (speaker identification), read from the aeon wheel.

Nine male speakers said the Japanese vowel pair /ae/; each utterance was cut
into frames and each frame described by 12 LPC cepstral coefficients (Kudo,
Toyama and Shimbo, Pattern Recognition Letters 20, 1999). An utterance is a
(T, 12) array with T between 7 and 29 frames; the task is to name the
speaker. The training split has 30 utterances per speaker (270), the test
split 370, recorded at other times, from 24 to 88 per speaker.

The files are in the ``.ts`` format of sktime and aeon: header lines start
with ``#`` or ``@``; after ``@data`` each line holds 12 comma-separated
series separated by ``:`` and then the class label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from companion.checks import check_choice, check_positive_int
from companion.data.sources import AEON_SHA256, AEON_WHEEL, VOWELS_MEMBERS, VOWELS_SHA256
from companion.data.wheel_member import read_wheel_member

N_COEFFICIENTS = 12
N_SPEAKERS = 9


@dataclass(frozen=True)
class Utterances:
    """Variable-length utterances, each (T_i, 12) float64, and speakers 0..8."""

    frames: tuple[np.ndarray, ...]
    speakers: np.ndarray

    def __len__(self) -> int:
        return len(self.frames)

    def lengths(self) -> np.ndarray:
        """Number of frames of each utterance."""
        return np.array([len(frames) for frames in self.frames], dtype=np.int64)


def parse_ts(text: str, name: str = "file") -> Utterances:
    """Parse a multivariate ``.ts`` file of 12 equal-length dimensions and labels 1..9."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1
    except StopIteration:
        raise ValueError(f"{name}: no @data line; this is not a .ts file") from None
    frames, speakers = [], []
    for number, line in enumerate(lines[start:], start=start + 1):
        if not line.strip():
            continue
        *series, label = line.split(":")
        if len(series) != N_COEFFICIENTS:
            raise ValueError(f"{name} line {number}: expected {N_COEFFICIENTS} series and a label; got {len(series)}")
        rows = [np.array(values.split(","), dtype=np.float64) for values in series]
        if len({len(row) for row in rows}) != 1:
            raise ValueError(f"{name} line {number}: the {N_COEFFICIENTS} series differ in length")
        speaker = int(label)
        if not 1 <= speaker <= N_SPEAKERS:
            raise ValueError(f"{name} line {number}: speaker must be 1..{N_SPEAKERS}; got {label!r}")
        frames.append(np.stack(rows, axis=1))  # (T, 12): one row per frame
        speakers.append(speaker - 1)
    return Utterances(tuple(frames), np.array(speakers, dtype=np.int64))


@functools.lru_cache(maxsize=2)
def load_japanese_vowels(split: str = "train") -> Utterances:
    """The ``"train"`` (270) or ``"test"`` (370) utterances, with speakers numbered 0..8.

    Raises :class:`~companion.data.sources.MissingSourceError` when the aeon
    wheel has not been fetched (``python -m companion data fetch``).
    """
    check_choice(split, "split", VOWELS_MEMBERS)
    member = VOWELS_MEMBERS[split]
    payload = read_wheel_member(AEON_WHEEL, AEON_SHA256, member, VOWELS_SHA256[split])
    return parse_ts(payload.decode("utf-8"), name=member)


def pad_frames(utterances: Utterances, max_len: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad with zero frames to (n, max_len, 12) float32; also return the lengths.

    ``max_len`` defaults to the longest utterance; a longer one raises
    ValueError (nothing is cut silently). No real frame of this data is all
    zeros (the smallest sum of absolute values is 1.6), so the padding is
    recognisable from the frames alone.
    """
    lengths = utterances.lengths()
    longest = int(lengths.max())
    max_len = longest if max_len is None else check_positive_int(max_len, "max_len")
    if longest > max_len:
        raise ValueError(f"max_len must be at least the longest utterance, {longest} frames; got {max_len}")
    padded = np.zeros((len(utterances), max_len, N_COEFFICIENTS), dtype=np.float32)
    for row, frames in enumerate(utterances.frames):
        padded[row, : len(frames)] = frames
    return padded, lengths
