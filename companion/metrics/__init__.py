"""Evaluation metrics from scratch in NumPy (book chapter 5).

Each module holds one concept:

- :mod:`companion.metrics.classification`: confusion matrix, accuracy,
  precision, recall, F1 with binary, macro, micro and weighted averaging;
- :mod:`companion.metrics.ranking`: ROC curve, AUC (trapezoid, rank and pair
  forms), precision-recall curve, average precision;
- :mod:`companion.metrics.calibration`: reliability-diagram bins, calibration
  curve, expected calibration error;
- :mod:`companion.metrics.cross_validation`: stratified k-fold splits and
  cross-validated scores;
- :mod:`companion.metrics.labels`: the input checks they share.

The tests compare every function with its scikit-learn counterpart on many
random inputs; scikit-learn itself is never imported here.
"""

from companion.metrics.calibration import (
    ReliabilityBins,
    calibration_curve,
    expected_calibration_error,
    reliability_bins,
)
from companion.metrics.classification import (
    PRF,
    accuracy,
    confusion_matrix,
    f1_score,
    majority_class,
    per_class_counts,
    precision,
    precision_recall_f1,
    recall,
)
from companion.metrics.cross_validation import cross_val_score, fold_spread, stratified_kfold
from companion.metrics.ranking import (
    average_precision,
    midranks,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    threshold_counts,
    trapezoid_area,
)

__all__ = [
    "PRF",
    "ReliabilityBins",
    "accuracy",
    "average_precision",
    "calibration_curve",
    "confusion_matrix",
    "cross_val_score",
    "expected_calibration_error",
    "f1_score",
    "fold_spread",
    "majority_class",
    "midranks",
    "per_class_counts",
    "precision",
    "precision_recall_curve",
    "precision_recall_f1",
    "recall",
    "reliability_bins",
    "roc_auc",
    "roc_curve",
    "stratified_kfold",
    "threshold_counts",
    "trapezoid_area",
]
