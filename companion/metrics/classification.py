"""Metrics computed from hard predictions: confusion matrix, accuracy, precision,
recall and F1 (book chapter 5, Eqs. (5.1)-(5.6)).

Conventions follow scikit-learn so that the two can be compared number for
number: rows of the confusion matrix are true classes, columns are predicted
classes, and a ratio whose denominator is zero (for example the precision of a
class that is never predicted) takes the value ``zero_division`` (0 by default,
like scikit-learn's ``zero_division=0``) instead of NaN. Unlike scikit-learn,
no warning is issued: the value is documented here and in the book.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from companion.checks import check_choice
from companion.metrics.labels import as_labels, encode, label_pair, resolve_labels

AVERAGES = ("binary", "macro", "micro", "weighted", None)


def confusion_matrix(y_true, y_pred, labels=None) -> np.ndarray:
    """The K x K confusion matrix of Eq. (5.1): ``C[j, k]`` counts samples of true
    class ``labels[j]`` predicted as ``labels[k]``.

    Args:
        y_true, y_pred: 1-d arrays of class labels of equal length.
        labels: the classes, in the order of the rows and columns. None uses
            the sorted union of the labels in ``y_true`` and ``y_pred``. A label
            in ``y_true`` or ``y_pred`` that is not in ``labels`` raises ValueError.

    Returns:
        An int64 array of shape (K, K).
    """
    y_true, y_pred = label_pair(y_true, y_pred)
    labels = resolve_labels(labels, y_true, y_pred)
    k = len(labels)
    flat = encode(y_true, labels) * k + encode(y_pred, labels)
    return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)


def accuracy(y_true, y_pred) -> float:
    """Fraction of samples whose predicted label equals the true label, Eq. (5.2)."""
    y_true, y_pred = label_pair(y_true, y_pred)
    return float(np.mean(y_true == y_pred))


def _divide(numerator, denominator, zero_division: float) -> np.ndarray:
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, float(zero_division))
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def _check_zero_division(zero_division) -> float:
    if isinstance(zero_division, bool) or not isinstance(zero_division, (int, float, np.integer, np.floating)):
        raise TypeError(f"zero_division must be 0 or 1; got {type(zero_division).__name__} {zero_division!r}")
    if zero_division not in (0, 1):
        raise ValueError(f"zero_division must be 0 or 1; got {zero_division}")
    return float(zero_division)


class PRF(NamedTuple):
    """Precision, recall, F1 and support, as returned by :func:`precision_recall_f1`."""

    precision: float | np.ndarray
    recall: float | np.ndarray
    f1: float | np.ndarray
    support: int | np.ndarray


def per_class_counts(y_true, y_pred, labels=None):
    """True positives, false positives and false negatives of each class (one-vs-rest).

    Returns ``(labels, tp, fp, fn)`` where ``tp[k]`` counts samples of class
    ``labels[k]`` predicted as that class, ``fp[k]`` samples of other classes
    predicted as it, and ``fn[k]`` samples of it predicted as something else.
    """
    y_true, y_pred = label_pair(y_true, y_pred)
    labels = resolve_labels(labels, y_true, y_pred)
    C = confusion_matrix(y_true, y_pred, labels=labels)
    tp = np.diag(C)
    fp = C.sum(axis=0) - tp
    fn = C.sum(axis=1) - tp
    return labels, tp, fp, fn


def precision_recall_f1(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0) -> PRF:
    """Precision, recall and F1 of Eqs. (5.3)-(5.4), averaged as in Eqs. (5.5)-(5.6).

    Args:
        y_true, y_pred: 1-d arrays of class labels of equal length.
        average: ``"binary"`` reports the class ``pos_label`` only (y may hold at
            most two classes); ``"macro"`` is the unweighted mean over classes,
            ``"weighted"`` the mean weighted by each class's support, and
            ``"micro"`` pools the TP, FP and FN counts of all classes before
            dividing; None returns one value per class, in ``labels`` order.
        pos_label: the positive class for ``average="binary"``.
        labels: the classes (see :func:`confusion_matrix`); every label of
            ``y_true`` and ``y_pred`` must be in it.
        zero_division: value (0 or 1) of a ratio whose denominator is zero,
            e.g. the precision of a class that is never predicted. F1 is computed
            as 2 TP / (2 TP + FP + FN), which is zero_division only when a class
            is absent from both y_true and y_pred.

    Returns:
        PRF(precision, recall, f1, support): floats for an average, arrays for
        ``average=None``; support is the number of true samples counted (per class
        for ``average=None``).
    """
    check_choice(average, "average", AVERAGES)
    zero_division = _check_zero_division(zero_division)
    labels, tp, fp, fn = per_class_counts(y_true, y_pred, labels)
    support = tp + fn
    if average == "binary":
        if len(labels) > 2:
            raise ValueError(
                f"average='binary' needs at most two classes; got {len(labels)} classes {labels.tolist()}. "
                "Use average='macro', 'micro' or 'weighted' for multiclass targets"
            )
        if isinstance(pos_label, (bool, np.bool_)):
            pos_label = int(pos_label)
        if pos_label not in labels.tolist():
            if len(labels) == 2:
                raise ValueError(f"pos_label={pos_label!r} is not one of the classes {labels.tolist()}")
            # The positive class never occurs: every count is zero.
            return PRF(zero_division, zero_division, zero_division, 0)
        k = labels.tolist().index(pos_label)
        tp, fp, fn, support = tp[k : k + 1], fp[k : k + 1], fn[k : k + 1], support[k : k + 1]
    if average == "micro":
        tp, fp, fn = tp.sum(keepdims=True), fp.sum(keepdims=True), fn.sum(keepdims=True)
    precision = _divide(tp, tp + fp, zero_division)
    recall = _divide(tp, tp + fn, zero_division)
    f1 = _divide(2 * tp, 2 * tp + fp + fn, zero_division)
    if average is None:
        return PRF(precision, recall, f1, support)
    if average in ("binary", "micro"):
        return PRF(float(precision[0]), float(recall[0]), float(f1[0]), int(support.sum()))
    weights = np.ones(len(labels)) if average == "macro" else support.astype(np.float64)
    return PRF(*(float(np.average(m, weights=weights)) for m in (precision, recall, f1)), int(support.sum()))


def precision(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """Precision TP / (TP + FP), Eq. (5.3); see :func:`precision_recall_f1` for the arguments."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division).precision


def recall(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """Recall TP / (TP + FN), Eq. (5.3); see :func:`precision_recall_f1` for the arguments."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division).recall


def f1_score(y_true, y_pred, average="binary", pos_label=1, labels=None, zero_division=0.0):
    """F1, the harmonic mean of precision and recall, Eq. (5.4); see :func:`precision_recall_f1`."""
    return precision_recall_f1(y_true, y_pred, average, pos_label, labels, zero_division).f1


def majority_class(y) -> object:
    """The most frequent label of ``y`` (the smallest one on a tie): the constant
    prediction of the majority-class baseline of chapter 5."""
    y = as_labels(y, "y")
    values, counts = np.unique(y, return_counts=True)
    return values[np.argmax(counts)].item()
