"""Cleaning a labelled text corpus and splitting it into train, validation and test.

Two steps every text data set in the book goes through, in this order:

1. :func:`remove_duplicates_and_conflicts`: a text that occurs several times
   with one label is kept once; a text that occurs with *both* labels is
   removed entirely, because no label for it is right.
2. :func:`stratified_split`: a seeded split that keeps the label proportions
   of the whole corpus in each part.

Deduplicating *before* splitting is what guarantees that no text is in two
splits: if duplicates survived, one copy could land in train and another in
test, and the test score would partly measure memorisation.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from companion.checks import check_seed, check_texts


def _check_texts_and_labels(texts, labels, name: str = "texts") -> tuple[list[str], np.ndarray]:
    """Validate a corpus: a sequence of non-empty strings and one 0/1 label per text.

    Returns ``(list of str, int64 array)``. Raises TypeError for a non-string
    text or non-integer labels, ValueError for an empty or whitespace-only
    text, a label other than 0 or 1, or a label array of the wrong length.
    """
    texts = check_texts(texts, name, allow_blank=False, allow_empty=True)
    label_array = np.asarray(labels)
    if label_array.ndim != 1:
        raise ValueError(f"labels must be a 1-D array; got shape {label_array.shape}")
    if label_array.size and not (
        np.issubdtype(label_array.dtype, np.integer) or label_array.dtype == bool
    ):
        raise TypeError(f"labels must be integers 0 or 1; got dtype {label_array.dtype}")
    if len(label_array) != len(texts):
        raise ValueError(f"labels must have one entry per text ({len(texts)}); got {len(label_array)}")
    label_array = label_array.astype(np.int64)
    bad = np.setdiff1d(np.unique(label_array), [0, 1])
    if bad.size:
        raise ValueError(f"labels must be 0 (negative) or 1 (positive); got value(s) {bad.tolist()}")
    return texts, label_array


@dataclass(frozen=True)
class Split:
    """One part of a corpus: ``texts`` (list of str) and ``labels`` (int64 array, 0 = negative, 1 = positive)."""

    texts: list[str]
    labels: np.ndarray

    def __post_init__(self) -> None:
        texts, labels = _check_texts_and_labels(self.texts, self.labels)
        object.__setattr__(self, "texts", texts)
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.texts)

    def positive_rate(self) -> float:
        """Fraction of texts labelled positive (NaN for an empty split)."""
        return float(self.labels.mean()) if len(self) else float("nan")


@dataclass(frozen=True)
class SentimentSplits:
    """Train, validation and test splits of one corpus, with the corpus's metadata.

    ``metadata`` holds at least: name, licence, path, sha256, n_raw,
    n_empty_dropped, n_neutral_dropped, n_exact_duplicates_removed,
    n_conflicting_removed, n_conflicting_texts, label_rule, seed, n_train,
    n_val, n_test. The counts satisfy ``n_raw - n_empty_dropped -
    n_neutral_dropped - n_exact_duplicates_removed - n_conflicting_removed
    == n_train + n_val + n_test``.
    """

    train: Split
    val: Split
    test: Split
    metadata: dict[str, Any] = field(default_factory=dict)

    def __iter__(self):
        return iter((self.train, self.val, self.test))


@dataclass(frozen=True)
class CleaningReport:
    """What :func:`remove_duplicates_and_conflicts` removed.

    ``n_exact_duplicates_removed``: extra copies of a text with one label.
    ``n_conflicting_removed``: every row of a text seen with both labels.
    ``n_conflicting_texts``: how many distinct texts those rows were.
    """

    n_exact_duplicates_removed: int
    n_conflicting_removed: int
    n_conflicting_texts: int


def remove_duplicates_and_conflicts(texts, labels) -> tuple[list[str], np.ndarray, CleaningReport]:
    """Keep each text once; drop texts that occur with both labels.

    Texts are compared exactly (callers strip whitespace first). The first
    occurrence of each kept text keeps its position, so the result is
    deterministic. Returns ``(texts, labels, report)``.
    """
    texts, labels = _check_texts_and_labels(texts, labels)
    seen_labels: dict[str, set[int]] = {}
    counts: dict[str, int] = {}
    for text, label in zip(texts, labels.tolist()):
        seen_labels.setdefault(text, set()).add(label)
        counts[text] = counts.get(text, 0) + 1
    conflicting = {text for text, found in seen_labels.items() if len(found) > 1}
    kept_texts: list[str] = []
    kept_labels: list[int] = []
    emitted: set[str] = set()
    for text, label in zip(texts, labels.tolist()):
        if text in conflicting or text in emitted:
            continue
        emitted.add(text)
        kept_texts.append(text)
        kept_labels.append(label)
    n_conflicting_rows = sum(counts[text] for text in conflicting)
    report = CleaningReport(
        n_exact_duplicates_removed=len(texts) - n_conflicting_rows - len(kept_texts),
        n_conflicting_removed=n_conflicting_rows,
        n_conflicting_texts=len(conflicting),
    )
    return kept_texts, np.asarray(kept_labels, dtype=np.int64), report


def check_fractions(val_fraction, test_fraction) -> tuple[float, float]:
    """Validate split fractions: each a real number in (0, 1), summing to less than 1."""
    checked = []
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a float in (0, 1); got {type(value).__name__} {value!r}")
        if not 0.0 < float(value) < 1.0:
            raise ValueError(f"{name} must be in the open interval (0, 1); got {value}")
        checked.append(float(value))
    if checked[0] + checked[1] >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1 to leave a training set; got {checked[0]} + {checked[1]}"
        )
    return checked[0], checked[1]


def stratified_split(
    texts, labels, *, seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.2
) -> tuple[Split, Split, Split]:
    """Seeded train/validation/test split that keeps each label's share in every part.

    For each label separately, its indices are shuffled with
    ``numpy.random.default_rng(seed)``; ``round(n * test_fraction)`` go to
    test, ``round(n * val_fraction)`` to validation and the rest to train.
    Each part is then shuffled so labels are interleaved. The same seed gives
    the same split on every machine. Texts must already be distinct
    (:func:`remove_duplicates_and_conflicts`); a duplicate raises ValueError,
    since it could put one text in two splits.
    """
    texts, labels = _check_texts_and_labels(texts, labels)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    seed = check_seed(seed)
    if len(set(texts)) != len(texts):
        raise ValueError(
            f"texts must be distinct before splitting; got {len(texts) - len(set(texts))} duplicate(s): "
            "call remove_duplicates_and_conflicts first"
        )
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for label in (0, 1):
        indices = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(len(indices) * test_fraction))
        n_val = int(round(len(indices) * val_fraction))
        parts[2].append(indices[:n_test])
        parts[1].append(indices[n_test : n_test + n_val])
        parts[0].append(indices[n_test + n_val :])
    splits = []
    for chunks in parts:
        order = rng.permutation(np.concatenate(chunks))
        splits.append(Split([texts[i] for i in order], labels[order]))
    return splits[0], splits[1], splits[2]
