"""Evaluation metrics from scratch in NumPy (book chapter 5).

Each module holds one concept:

- :mod:`companion.metrics.classification`: confusion matrix, accuracy,
  precision, recall, F1 with binary, macro, micro and weighted averaging;
- :mod:`companion.metrics.ranking`: ROC curve, AUC (trapezoid, rank and pair
  forms), precision-recall curve, average precision;
- :mod:`companion.metrics.calibration`: reliability-diagram bins, calibration
  curve, expected calibration error;
- :mod:`companion.metrics.scoring`: the proper scoring rules, Brier score and
  log-loss;
- :mod:`companion.metrics.intervals`: Wilson and Clopper-Pearson intervals for
  an accuracy measured on n test examples;
- :mod:`companion.metrics.significance`: McNemar's test, seed summaries and the
  sign test, for comparing two models;
- :mod:`companion.metrics.cross_validation`: stratified k-fold splits and
  cross-validated scores;
- :mod:`companion.metrics.decisions`: cost-based thresholds, expected cost and
  predictive values at a prevalence (chapter 19);
- :mod:`companion.metrics.importance`: permutation importance (chapter 19);
- :mod:`companion.metrics.walk_forward`: walk-forward validation for time-ordered
  data, :mod:`companion.metrics.lift`: precision and lift at k for targeting, and
  :mod:`companion.metrics.fairness`: group rates, demographic parity and
  equalised odds (chapter 20);
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
from companion.metrics.intervals import Interval, accuracy_interval, clopper_pearson_interval, wilson_interval
from companion.metrics.ranking import (
    average_precision,
    midranks,
    precision_recall_curve,
    roc_auc,
    roc_curve,
    threshold_counts,
    trapezoid_area,
)
from companion.metrics.scoring import brier_score, log_loss
from companion.metrics.significance import mcnemar, seed_summary, sign_test

__all__ = [
    "PRF",
    "Interval",
    "ReliabilityBins",
    "accuracy",
    "accuracy_interval",
    "average_precision",
    "brier_score",
    "calibration_curve",
    "clopper_pearson_interval",
    "confusion_matrix",
    "cross_val_score",
    "expected_calibration_error",
    "f1_score",
    "fold_spread",
    "log_loss",
    "majority_class",
    "mcnemar",
    "midranks",
    "per_class_counts",
    "precision",
    "precision_recall_curve",
    "precision_recall_f1",
    "recall",
    "reliability_bins",
    "roc_auc",
    "roc_curve",
    "seed_summary",
    "sign_test",
    "stratified_kfold",
    "threshold_counts",
    "trapezoid_area",
    "wilson_interval",
]
