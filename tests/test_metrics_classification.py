"""companion.metrics.classification against scikit-learn, plus edge cases and bad input."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.metrics import (
    accuracy,
    confusion_matrix,
    f1_score,
    majority_class,
    precision,
    precision_recall_f1,
    recall,
)


def random_labels(seed, n, k, dtype="int"):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, k, size=n)
    # predictions agree with the truth about half the time, so every cell of the
    # confusion matrix gets exercised, and some classes may never be predicted
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, k, size=n))
    if dtype == "str":
        names = np.array(["cat", "dog", "emu", "fox", "gnu", "yak"])
        return names[y_true], names[y_pred]
    return y_true, y_pred


def sk(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns on zero division; the value is what we compare
        return fn(*args, **kwargs)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 60), st.integers(1, 6), st.sampled_from(["int", "str"]))
def test_confusion_matrix_and_accuracy_equal_sklearn(seed, n, k, dtype):
    y_true, y_pred = random_labels(seed, n, k, dtype)
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred), sk(skm.confusion_matrix, y_true, y_pred))
    assert accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred), abs=1e-15)


def test_confusion_matrix_respects_a_given_label_order_and_absent_labels():
    y_true, y_pred = [2, 0, 2, 1], [2, 2, 0, 1]
    C = confusion_matrix(y_true, y_pred, labels=[2, 1, 0, 5])
    np.testing.assert_array_equal(C, skm.confusion_matrix(y_true, y_pred, labels=[2, 1, 0, 5]))
    assert C.shape == (4, 4) and C[3].sum() == 0 and C[0, 0] == 1


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 2**31),
    st.integers(1, 50),
    st.integers(2, 6),
    st.sampled_from(["macro", "micro", "weighted", None]),
    st.sampled_from([0, 1]),
)
def test_precision_recall_f1_multiclass_equal_sklearn(seed, n, k, average, zero_division):
    y_true, y_pred = random_labels(seed, n, k)
    ours = precision_recall_f1(y_true, y_pred, average=average, zero_division=zero_division)
    theirs = sk(skm.precision_recall_fscore_support, y_true, y_pred, average=average, zero_division=zero_division)
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    if average is None:
        np.testing.assert_array_equal(ours.support, theirs[3])
    assert f1_score(y_true, y_pred, average=average, zero_division=zero_division) == pytest.approx(
        sk(skm.f1_score, y_true, y_pred, average=average, zero_division=zero_division), abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 50), st.sampled_from([0, 1]), st.sampled_from([0, 1]))
def test_binary_precision_recall_f1_equal_sklearn(seed, n, pos_label, zero_division):
    y_true, y_pred = random_labels(seed, n, 2)
    kwargs = dict(average="binary", pos_label=pos_label, zero_division=zero_division)
    for ours, theirs in [(precision, skm.precision_score), (recall, skm.recall_score), (f1_score, skm.f1_score)]:
        assert ours(y_true, y_pred, **kwargs) == pytest.approx(sk(theirs, y_true, y_pred, **kwargs), abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 60), st.integers(2, 6))
def test_micro_f1_equals_accuracy_for_single_label_multiclass(seed, n, k):
    y_true, y_pred = random_labels(seed, n, k)
    prf = precision_recall_f1(y_true, y_pred, average="micro")
    assert prf.precision == pytest.approx(accuracy(y_true, y_pred), abs=1e-12)
    assert prf.recall == pytest.approx(prf.precision, abs=1e-12)
    assert prf.f1 == pytest.approx(prf.precision, abs=1e-12)


def test_f1_is_the_harmonic_mean_of_precision_and_recall():
    y_true = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    y_pred = [1, 1, 1, 0, 1, 1, 0, 0, 0, 0]
    p, r, f, support = precision_recall_f1(y_true, y_pred)
    assert (p, r) == (pytest.approx(3 / 5), pytest.approx(3 / 4))
    assert f == pytest.approx(2 * p * r / (p + r))
    assert support == 4


def test_a_class_never_predicted_gets_zero_precision_not_nan():
    y_true = [0, 1, 2, 2]
    y_pred = [0, 0, 2, 2]  # class 1 is never predicted
    per_class = precision_recall_f1(y_true, y_pred, average=None)
    np.testing.assert_allclose(per_class.precision, [0.5, 0.0, 1.0])
    np.testing.assert_allclose(per_class.recall, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(per_class.support, [1, 1, 2])
    assert precision_recall_f1(y_true, y_pred, average=None, zero_division=1).precision[1] == 1.0
    # nothing predicted positive at all: precision 0, like sklearn's zero_division=0
    assert precision([1, 0, 1], [0, 0, 0]) == 0.0
    assert sk(skm.precision_score, [1, 0, 1], [0, 0, 0], zero_division=0) == 0.0
    # positive class absent from both arrays: every ratio is 0/0
    assert precision_recall_f1([0, 0], [0, 0]) == (0.0, 0.0, 0.0, 0)


def test_majority_class_picks_the_most_frequent_label_and_the_smallest_on_ties():
    assert majority_class([3, 1, 3, 2]) == 3
    assert majority_class(["b", "a", "b", "a"]) == "a"


def test_booleans_and_whole_number_floats_are_labels():
    assert accuracy([True, False, True], [1, 0, 0]) == pytest.approx(2 / 3)
    assert accuracy(np.array([1.0, 0.0]), [1, 1]) == 0.5


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match=r"y_true and y_pred must have the same length; got 3 and 2"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"same length; got 2 and 3"):
        confusion_matrix([0, 1], [0, 1, 1])


def test_continuous_or_nan_labels_are_rejected():
    with pytest.raises(ValueError, match=r"y_true must hold class labels .* non-integer float value\(s\) such as 0.37"):
        accuracy([0.37, 0.9], [0, 1])
    with pytest.raises(ValueError, match=r"y_pred must hold class labels; got 1 NaN or inf"):
        accuracy([0, 1], [0, np.nan])
    with pytest.raises(ValueError, match=r"y_true must be a 1-d array of class labels; got shape \(2, 1\)"):
        accuracy([[0], [1]], [0, 1])
    with pytest.raises(ValueError, match="y_true must hold at least one label; got an empty array"):
        accuracy([], [])
    with pytest.raises(TypeError, match="y_true must hold integer, boolean or string labels; got dtype object"):
        accuracy(np.array([None, 1], dtype=object), [0, 1])
    with pytest.raises(TypeError, match="same kind; got <U1 and int64"):
        accuracy(["a", "b"], [0, 1])


def test_labels_outside_the_given_label_set_are_rejected():
    with pytest.raises(ValueError, match=r"y holds label\(s\) \[7\] that are not in labels=\[0, 1, 2\]"):
        confusion_matrix([0, 1, 2], [0, 7, 2], labels=[0, 1, 2])
    with pytest.raises(ValueError, match=r"not in labels=\[0, 1\]"):
        precision_recall_f1([0, 1, 2], [0, 1, 1], average="macro", labels=[0, 1])
    with pytest.raises(ValueError, match=r"labels must not repeat a label; got \[0, 1, 0\]"):
        confusion_matrix([0, 1], [0, 1], labels=[0, 1, 0])


def test_bad_average_pos_label_and_zero_division_are_rejected():
    with pytest.raises(ValueError, match=r"average must be one of .*; got 'samples'"):
        f1_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match=r"average='binary' needs at most two classes; got 3 classes \[0, 1, 2\]"):
        f1_score([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match=r"pos_label=1 is not one of the classes \['neg', 'pos'\]"):
        f1_score(["neg", "pos"], ["pos", "pos"])
    assert f1_score(["neg", "pos"], ["pos", "pos"], pos_label="pos") == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="zero_division must be 0 or 1; got 0.5"):
        f1_score([0, 1], [0, 1], zero_division=0.5)
    with pytest.raises(TypeError, match="zero_division must be 0 or 1; got str 'warn'"):
        f1_score([0, 1], [0, 1], zero_division="warn")
