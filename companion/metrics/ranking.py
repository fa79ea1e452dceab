"""Metrics computed from scores: ROC curve, AUC, precision-recall curve and
average precision (book chapter 5, Eqs. (5.7)-(5.11)).

A score is any number that is larger for samples the model believes more
likely to be positive: a probability, a logit, a margin. Every metric here
depends only on the order of the scores, so it is the same for a probability
and for its logit.

Differences from scikit-learn, by design: a curve or an AUC that needs both
classes raises ValueError when ``y_true`` holds only one (scikit-learn warns and
returns NaN, or 0 for average precision).
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_choice
from companion.metrics.labels import as_scores, binary_targets, check_same_length

AUC_METHODS = ("trapezoid", "rank", "pairs")


def _targets_and_scores(y_true, y_score, pos_label):
    positive = binary_targets(y_true, pos_label)
    scores = as_scores(y_score, "y_score")
    check_same_length(positive, scores, "y_true", "y_score")
    return positive, scores


def threshold_counts(y_true, y_score, pos_label=1):
    """Cumulative counts at every distinct score used as a threshold.

    Sorting the scores in decreasing order and predicting "positive" for every
    sample whose score is >= t gives, for each distinct score t (largest
    first), the false positive count ``fps`` and true positive count ``tps``.
    Tied scores enter together: a threshold cannot separate them.

    Returns:
        ``(fps, tps, thresholds)``, three arrays of the same length, with
        ``thresholds`` strictly decreasing.
    """
    positive, scores = _targets_and_scores(y_true, y_score, pos_label)
    order = np.argsort(scores, kind="stable")[::-1]
    scores, positive = scores[order], positive[order]
    # The last index of each run of equal scores closes a threshold.
    last_of_run = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    tps = np.cumsum(positive, dtype=np.float64)[last_of_run]
    fps = (last_of_run + 1) - tps
    return fps, tps, scores[last_of_run]


def _need_both_classes(fps, tps, what: str) -> None:
    if tps[-1] == 0 or fps[-1] == 0:
        missing = "positive" if tps[-1] == 0 else "negative"
        raise ValueError(
            f"{what} needs both classes in y_true; got no {missing} sample "
            f"({int(tps[-1])} positive, {int(fps[-1])} negative)"
        )


def roc_curve(y_true, y_score, pos_label=1, drop_intermediate=True):
    """The ROC curve, Eq. (5.7): true positive rate against false positive rate
    as the threshold falls from +inf to the smallest score.

    Args:
        y_true: 1-d labels with at most two classes, both present.
        y_score: 1-d finite scores, larger meaning "more positive".
        pos_label: the positive class.
        drop_intermediate: drop thresholds whose point lies on a straight line
            between its neighbours, exactly as scikit-learn's default does (the
            area is unchanged). False keeps one point per distinct score.

    Returns:
        ``(fpr, tpr, thresholds)``; the first point is (0, 0) at threshold +inf.
    """
    fps, tps, thresholds = threshold_counts(y_true, y_score, pos_label)
    _need_both_classes(fps, tps, "roc_curve")
    if drop_intermediate and fps.size > 2:
        # A point is dropped when both of its second differences vanish, i.e. the
        # step into it equals the step out of it.
        corner = np.r_[True, (np.diff(fps, 2) != 0) | (np.diff(tps, 2) != 0), True]
        fps, tps, thresholds = fps[corner], tps[corner], thresholds[corner]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


def trapezoid_area(x, y) -> float:
    """Area under the polyline through the points (x, y), x non-decreasing, Eq. (5.9)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if np.any(np.diff(x) < 0):
        raise ValueError("x must be non-decreasing for a trapezoid area; got a decreasing step")
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2.0))


def midranks(x) -> np.ndarray:
    """Ranks 1..n of ``x`` in increasing order, tied values sharing the mean of their ranks."""
    x = np.asarray(x)
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_x)) + 1]
    ends = np.r_[starts[1:], x.size]  # one past the last index of each run
    run_rank = (starts + 1 + ends) / 2.0  # mean of the ranks starts+1 .. ends
    ranks = np.empty(x.size)
    ranks[order] = np.repeat(run_rank, ends - starts)
    return ranks


def roc_auc(y_true, y_score, pos_label=1, method="trapezoid") -> float:
    """Area under the ROC curve.

    The three methods give the same number (the book proves it):

    - ``"trapezoid"``: the trapezoid area under the ROC curve, Eq. (5.9);
    - ``"rank"``: the Mann-Whitney form from the midranks of the scores, Eq. (5.10);
    - ``"pairs"``: the fraction of (positive, negative) pairs ordered correctly,
      a tie counting 1/2, Eq. (5.8). It builds an n_pos x n_neg table, so it is
      meant for checking the other two on small inputs.

    Raises:
        ValueError: y_true holds only one class, or an unknown method.
    """
    check_choice(method, "method", AUC_METHODS)
    positive, scores = _targets_and_scores(y_true, y_score, pos_label)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        missing = "positive" if n_pos == 0 else "negative"
        raise ValueError(
            f"roc_auc needs both classes in y_true; got no {missing} sample ({n_pos} positive, {n_neg} negative)"
        )
    if method == "trapezoid":
        fpr, tpr, _ = roc_curve(positive, scores, pos_label=True, drop_intermediate=False)
        return trapezoid_area(fpr, tpr)
    if method == "rank":
        rank_sum = midranks(scores)[positive].sum()
        return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
    diff = scores[positive][:, None] - scores[~positive][None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (n_pos * n_neg))


def precision_recall_curve(y_true, y_score, pos_label=1):
    """Precision and recall at every distinct threshold, Eq. (5.3), as scikit-learn returns them.

    Returns:
        ``(precision, recall, thresholds)``: thresholds increase; precision and
        recall have one more entry than thresholds, a final point
        (recall 0, precision 1) with no threshold.

    Raises:
        ValueError: y_true holds no positive sample (recall is undefined).
    """
    fps, tps, thresholds = threshold_counts(y_true, y_score, pos_label)
    if tps[-1] == 0:
        raise ValueError(
            f"precision_recall_curve needs at least one positive sample in y_true; got 0 of {int(fps[-1])}"
        )
    precision = tps / (tps + fps)  # tps + fps >= 1 at every threshold
    recall = tps / tps[-1]
    return np.r_[precision[::-1], 1.0], np.r_[recall[::-1], 0.0], thresholds[::-1]


def average_precision(y_true, y_score, pos_label=1) -> float:
    """Average precision, Eq. (5.11): the sum over thresholds of
    (R_m - R_{m-1}) P_m, precision weighted by the recall gained, without interpolation
    (scikit-learn's ``average_precision_score``)."""
    precision, recall, _ = precision_recall_curve(y_true, y_score, pos_label)
    # recall decreases along the arrays, hence the minus sign.
    return float(max(0.0, -np.sum(np.diff(recall) * precision[:-1])))
