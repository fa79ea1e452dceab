"""Calibration: reliability-diagram bins and the expected calibration error
(book chapter 5, Eqs. (5.12)-(5.13)).

Two settings share one binning:

- binary: ``y_prob`` is 1-d, the predicted probability of the positive class;
  a bin's *confidence* is its mean predicted probability and its *accuracy*
  the fraction of positives in it (scikit-learn's ``calibration_curve``);
- top-label (multiclass): ``y_prob`` is (n, K) with rows summing to 1 and
  ``y_true`` holds class indices 0..K-1; the confidence of a sample is its
  largest probability and it is correct when that class is the true one.

Bins follow scikit-learn: ``"uniform"`` cuts [0, 1] into equal widths,
``"quantile"`` puts (about) equally many samples in each bin; a value on an
inner edge belongs to the lower bin.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import check_positive_int
from companion.metrics.labels import as_probabilities, binary_targets, check_same_length, class_probabilities

STRATEGIES = ("uniform", "quantile")


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin summary of a reliability diagram (empty bins hold NaN)."""

    edges: np.ndarray  # (n_bins + 1,)
    counts: np.ndarray  # (n_bins,) samples per bin
    confidence: np.ndarray  # (n_bins,) mean predicted probability in the bin
    accuracy: np.ndarray  # (n_bins,) fraction positive (binary) or correct (top-label)


def _confidence_and_hits(y_true, y_prob, pos_label):
    y_prob = as_probabilities(y_prob, "y_prob", ndim=None)
    if y_prob.ndim == 1:
        hits = binary_targets(y_true, pos_label)
        check_same_length(hits, y_prob, "y_true", "y_prob")
        return y_prob, hits.astype(np.float64)
    y_true = class_probabilities(y_true, y_prob)
    return y_prob.max(axis=1), (y_prob.argmax(axis=1) == y_true).astype(np.float64)


def _bin_edges(confidence, n_bins: int, strategy: str) -> np.ndarray:
    """Edges of ``n_bins`` bins over [0, 1] (uniform) or over the quantiles of ``confidence``."""
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    if strategy == "quantile":
        # Quantile edges usually fall on a sample's value, so the side a sample on
        # an edge lands on depends on the last bit of the edge: the percentages
        # are computed exactly as scikit-learn computes them.
        return np.percentile(confidence, np.linspace(0.0, 1.0, n_bins + 1) * 100)
    raise ValueError(f"strategy must be one of {STRATEGIES}; got {strategy!r}")


def reliability_bins(y_true, y_prob, n_bins: int = 10, strategy: str = "uniform", pos_label=1) -> ReliabilityBins:
    """Group predictions into bins by confidence: the data of a reliability diagram.

    Args:
        y_true: labels (binary with 1-d y_prob, class indices with 2-d y_prob).
        y_prob: probabilities in [0, 1], shape (n,) or (n, K).
        n_bins: number of bins, a positive int.
        strategy: ``"uniform"`` or ``"quantile"``.
        pos_label: the positive class in the binary setting.
    """
    n_bins = check_positive_int(n_bins, "n_bins")
    confidence, hits = _confidence_and_hits(y_true, y_prob, pos_label)
    edges = _bin_edges(confidence, n_bins, strategy)
    bin_of = np.searchsorted(edges[1:-1], confidence, side="left")
    counts = np.bincount(bin_of, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(bin_of, weights=confidence, minlength=n_bins) / counts
        mean_hit = np.bincount(bin_of, weights=hits, minlength=n_bins) / counts
    return ReliabilityBins(edges=edges, counts=counts, confidence=mean_conf, accuracy=mean_hit)


def calibration_curve(y_true, y_prob, n_bins: int = 5, strategy: str = "uniform", pos_label=1):
    """``(prob_true, prob_pred)`` of the non-empty bins, like
    ``sklearn.calibration.calibration_curve`` (binary, 1-d ``y_prob``)."""
    if np.ndim(y_prob) != 1:
        raise ValueError(f"calibration_curve needs 1-d y_prob; got shape {np.shape(y_prob)}")
    bins = reliability_bins(y_true, y_prob, n_bins, strategy, pos_label)
    full = bins.counts > 0
    return bins.accuracy[full], bins.confidence[full]


def expected_calibration_error(y_true, y_prob, n_bins: int = 10, strategy: str = "uniform", pos_label=1) -> float:
    """Expected calibration error, Eq. (5.13): sum over bins of (n_b / n) |acc_b - conf_b|.

    With 1-d ``y_prob`` this is the calibration error of the positive-class
    probability; with 2-d ``y_prob`` it is the top-label ECE.
    """
    bins = reliability_bins(y_true, y_prob, n_bins, strategy, pos_label)
    full = bins.counts > 0
    weights = bins.counts[full] / bins.counts.sum()
    return float(np.sum(weights * np.abs(bins.accuracy[full] - bins.confidence[full])))
