"""Class labels and scores: validation shared by the metrics of book chapter 5.

A classification metric compares two arrays of *class labels*. Labels may be
integers, booleans, strings, or floats that are whole numbers (``1.0``); a float
such as ``0.37`` is a continuous target, not a class, and is rejected with a
message that says so. Scores and probabilities are finite floats, and
probabilities lie in [0, 1].
"""

from __future__ import annotations

import numpy as np

from companion.checks import as_float_array


def as_labels(y, name: str) -> np.ndarray:
    """Return ``y`` as a 1-d array of class labels (int64 or str).

    Booleans become 0/1, whole-number floats become int64. Raises ValueError for
    the wrong shape, an empty array, NaN or non-integer floats, and TypeError for
    values that are neither numbers nor strings.
    """
    array = np.asarray(y)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of class labels; got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one label; got an empty array")
    kind = array.dtype.kind
    if kind == "b" or kind in "iu":
        return array.astype(np.int64)
    if kind == "f":
        if not np.all(np.isfinite(array)):
            bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            raise ValueError(f"{name} must hold class labels; got {bad} NaN or inf value(s)")
        fractional = array[array != np.round(array)]
        if fractional.size:
            raise ValueError(
                f"{name} must hold class labels (integers, booleans or strings); got "
                f"{fractional.size} non-integer float value(s) such as {fractional[0]:.4g}. A continuous "
                "target needs a regression metric, or a threshold that turns it into classes first"
            )
        return array.astype(np.int64)
    if kind in "US":
        return array.astype(str)
    if kind == "O" and all(isinstance(value, str) for value in array):
        return array.astype(str)
    raise TypeError(f"{name} must hold integer, boolean or string labels; got dtype {array.dtype}")


def check_same_length(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same number of rows."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length; got {len(a)} and {len(b)}")


def label_pair(y_true, y_pred):
    """Validate ``y_true`` and ``y_pred`` together: labels of one kind, equal lengths."""
    y_true = as_labels(y_true, "y_true")
    y_pred = as_labels(y_pred, "y_pred")
    check_same_length(y_true, y_pred, "y_true", "y_pred")
    if (y_true.dtype.kind == "U") != (y_pred.dtype.kind == "U"):
        raise TypeError(
            f"y_true and y_pred must hold labels of the same kind; got {y_true.dtype} and {y_pred.dtype}"
        )
    return y_true, y_pred


def resolve_labels(labels, *arrays: np.ndarray) -> np.ndarray:
    """The label set: ``labels`` if given (checked), else the sorted union of ``arrays``.

    With ``labels`` given, every value of every array must be one of them: a
    label outside the set raises ValueError (scikit-learn silently drops such
    samples from a confusion matrix; here that would hide a bug).
    """
    present = np.unique(np.concatenate(arrays))
    if labels is None:
        return present
    labels = as_labels(labels, "labels")
    if (labels.dtype.kind == "U") != (present.dtype.kind == "U"):
        raise TypeError(f"labels must be of the same kind as y; got {labels.dtype} and {present.dtype}")
    if len(np.unique(labels)) != len(labels):
        raise ValueError(f"labels must not repeat a label; got {labels.tolist()}")
    outside = np.setdiff1d(present, labels)
    if outside.size:
        raise ValueError(
            f"y holds label(s) {outside.tolist()} that are not in labels={labels.tolist()}"
        )
    return labels


def encode(y: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Position of each entry of ``y`` in ``labels`` (every entry must be present)."""
    order = np.argsort(labels, kind="stable")
    return order[np.searchsorted(labels[order], y)]


def as_scores(y_score, name: str = "y_score") -> np.ndarray:
    """Return ``y_score`` as a finite 1-d float64 array (NaN and inf are rejected)."""
    return as_float_array(y_score, name, ndim=1).astype(np.float64)


def as_probabilities(y_prob, name: str = "y_prob", ndim: int | None = 1) -> np.ndarray:
    """Return ``y_prob`` as a finite float64 array with every entry in [0, 1]."""
    array = np.asarray(y_prob)
    if ndim is None and array.ndim not in (1, 2):
        raise ValueError(f"{name} must have 1 or 2 dimensions; got shape {array.shape}")
    array = as_float_array(array, name, ndim=ndim).astype(np.float64)
    if array.size and (array.min() < 0.0 or array.max() > 1.0):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; got values from {array.min():.4g} to {array.max():.4g}"
        )
    return array


def binary_targets(y_true, pos_label=1) -> np.ndarray:
    """Boolean array ``y_true == pos_label``, after checking y_true has at most two classes."""
    y_true = as_labels(y_true, "y_true")
    present = np.unique(y_true)
    if len(present) > 2:
        raise ValueError(
            f"y_true must hold two classes for a binary metric; got {len(present)} classes {present.tolist()}"
        )
    if isinstance(pos_label, (bool, np.bool_)):
        pos_label = int(pos_label)
    if len(present) == 2 and pos_label not in present.tolist():
        raise ValueError(f"pos_label={pos_label!r} is not one of the classes in y_true, {present.tolist()}")
    return y_true == pos_label


def class_probabilities(y_true, y_prob: np.ndarray) -> np.ndarray:
    """Check ``y_true`` against an (n, K) probability matrix; return it as class indices.

    ``y_true`` must hold indices 0..K-1, one per row of ``y_prob``, and every row
    of ``y_prob`` must sum to 1 (to 1e-6).
    """
    y_true = as_labels(y_true, "y_true")
    check_same_length(y_true, y_prob, "y_true", "y_prob")
    n_classes = y_prob.shape[1]
    if y_true.dtype.kind == "U" or y_true.min() < 0 or y_true.max() >= n_classes:
        raise ValueError(
            f"with 2-d y_prob of {n_classes} columns, y_true must hold class indices 0..{n_classes - 1}; "
            f"got labels {np.unique(y_true)[:10].tolist()}"
        )
    row_sums = y_prob.sum(axis=1)
    if not np.allclose(row_sums, 1.0, atol=1e-6):
        raise ValueError(
            f"rows of a 2-d y_prob must sum to 1; got row sums from {row_sums.min():.6g} to {row_sums.max():.6g}"
        )
    return y_true
