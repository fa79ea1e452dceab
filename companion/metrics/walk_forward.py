"""Walk-forward validation for data ordered in time (book chapter 20, Eq. (20.3)).

Shuffled k-fold cross-validation (chapter 5) assumes the examples are
exchangeable. Days of a market are not: a model trained on Tuesday and Thursday
and tested on Wednesday has seen the week it is asked to predict. Walk-forward
validation respects the arrow of time: for each test period p (a year, say)
the model is trained only on what happened before p,

    train_p = { i : t_i < start(p) - gap },   test_p = { i : period_i = p },

and the predictions of all test periods are pooled. ``gap`` *purges* the last
training examples before each test period; it must be at least h - 1 when each
label looks h steps ahead, or the last training labels overlap the first test
ones.
"""

from __future__ import annotations

import numpy as np

from companion.checks import check_choice, check_positive_int


def walk_forward_splits(periods, first_test, gap: int = 0):
    """Yield ``(train_indices, test_indices)`` for every period from ``first_test`` on, in order.

    ``periods`` gives each example's period (for example its year) and must be
    sorted in time order (non-decreasing). The training set of a period holds
    every earlier example except the last ``gap`` of them.
    """
    periods = np.asarray(periods)
    if periods.ndim != 1 or periods.size == 0:
        raise ValueError(f"periods must be a non-empty 1-d array; got shape {periods.shape}")
    if np.any(periods[1:] < periods[:-1]):
        first = int(np.flatnonzero(periods[1:] < periods[:-1])[0])
        raise ValueError(
            f"periods must be in time order (non-decreasing); position {first + 1} holds "
            f"{periods[first + 1].item()!r} after {periods[first].item()!r}"
        )
    if isinstance(gap, bool) or not isinstance(gap, (int, np.integer)) or gap < 0:
        raise ValueError(f"gap must be a non-negative int; got {gap!r}")
    later = np.unique(periods[periods >= first_test])
    if later.size == 0:
        raise ValueError(
            f"no period at or after first_test={first_test!r}; the last is {periods[-1].item()!r}"
        )
    for period in later:
        start = int(np.searchsorted(periods, period, side="left"))
        end = int(np.searchsorted(periods, period, side="right"))
        train_end = start - gap
        if train_end <= 0:
            raise ValueError(
                f"period {period.item()!r} has no training example before it (gap={gap})"
            )
        yield np.arange(train_end), np.arange(start, end)


def walk_forward_predict(
    make_model, X, y, periods, first_test, gap: int = 0, method: str = "predict"
):
    """Each test period's predictions from a model refitted on everything before it (Eq. 20.3).

    ``make_model()`` returns an unfitted scikit-learn-style estimator. Returns
    ``(predictions, test_mask)``; rows before ``first_test`` are NaN and False.
    With ``method="predict_proba"`` the positive class's probability is kept.
    """
    check_choice(method, "method", ("predict", "predict_proba"))
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y) or len(y) != len(np.asarray(periods)):
        raise ValueError(
            f"X, y and periods must have one length; got {len(X)}, {len(y)}, {len(periods)}"
        )
    predictions = np.full(len(y), np.nan)
    mask = np.zeros(len(y), dtype=bool)
    for train, test in walk_forward_splits(periods, first_test, gap):
        model = make_model().fit(X[train], y[train])
        out = model.predict(X[test]) if method == "predict" else model.predict_proba(X[test])[:, 1]
        predictions[test] = out
        mask[test] = True
    check_positive_int(int(mask.sum()), "the number of test examples")
    return predictions, mask
