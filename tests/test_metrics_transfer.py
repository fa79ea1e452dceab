"""Domain-shift measures of chapter 17: Eqs. (17.2)-(17.4) against hand values and Bayes' rule."""

from __future__ import annotations

import numpy as np
import pytest

from companion.metrics.transfer import (
    class_prior,
    correct_for_label_shift,
    domain_classifier_error,
    proxy_a_distance,
    transfer_gap,
)


def test_transfer_gap_is_the_diagonal_minus_each_row():
    matrix = np.array([[0.8, 0.6], [0.5, 0.9]])
    gap = transfer_gap(matrix)
    assert np.allclose(gap, [[0.0, 0.3], [0.3, 0.0]])
    assert np.all(np.diag(gap) == 0)


@pytest.mark.parametrize("bad, message", [(np.zeros((2, 3)), "square"), (np.zeros(4), "square"),
                                          (np.array([[0.5, np.nan], [0.5, 0.5]]), "NaN")])
def test_transfer_gap_rejects_bad_matrices(bad, message):
    with pytest.raises(ValueError, match=message):
        transfer_gap(bad)


@pytest.mark.parametrize("error, expected", [(0.5, 0.0), (0.0, 2.0), (0.1, 1.6), (0.9, 1.6), (1.0, 2.0)])
def test_proxy_a_distance_hand_values(error, expected):
    assert proxy_a_distance(error) == pytest.approx(expected)


@pytest.mark.parametrize("bad, kind", [(True, TypeError), ("0.1", TypeError), (-0.1, ValueError), (1.5, ValueError)])
def test_proxy_a_distance_rejects_non_rates(bad, kind):
    with pytest.raises(kind, match="error must"):
        proxy_a_distance(bad)


def _pipeline():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000))


def test_domain_classifier_error_separates_disjoint_vocabularies_and_not_shared_ones():
    rng = np.random.default_rng(0)
    words_a, words_b = [f"alpha{i}" for i in range(30)], [f"beta{i}" for i in range(30)]
    texts = lambda words, n: [" ".join(rng.choice(words, size=8)) for _ in range(n)]  # noqa: E731
    assert domain_classifier_error(texts(words_a, 60), texts(words_b, 60), _pipeline) == 0.0
    shared = domain_classifier_error(texts(words_a, 100), texts(words_a, 100), _pipeline)
    assert 0.35 < shared < 0.65  # the same distribution: no better than guessing


def test_domain_classifier_error_checks_its_input():
    with pytest.raises(ValueError, match="same number of texts"):
        domain_classifier_error(["a b"] * 10, ["c d"] * 9, _pipeline)
    with pytest.raises(ValueError, match="at least folds=5 texts; got 3"):
        domain_classifier_error(["a"] * 3, ["b"] * 3, _pipeline)


def test_label_shift_correction_is_bayes_rule():
    # A discrete world: 4 possible inputs, p(x | y) fixed, two different priors.
    likelihood = np.array([[0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]])  # rows: y, columns: x
    def posterior(prior):
        joint = prior[:, None] * likelihood
        return (joint / joint.sum(axis=0)).T  # (x, y)
    source, target = np.array([0.5, 0.5]), np.array([0.2, 0.8])
    corrected = correct_for_label_shift(posterior(source), source, target)
    assert np.allclose(corrected, posterior(target), atol=1e-12)
    assert np.allclose(correct_for_label_shift(posterior(source), source, source), posterior(source))


def test_label_shift_hand_value():
    # 0.7 positive under a balanced source; target 30 % positive: 0.7*0.6 / (0.7*0.6 + 0.3*1.4) = 0.5.
    corrected = correct_for_label_shift([[0.3, 0.7]], [0.5, 0.5], [0.7, 0.3])
    assert corrected[0, 1] == pytest.approx(0.5)


@pytest.mark.parametrize("proba, source, target, message", [
    ([[0.5, 0.6]], [0.5, 0.5], [0.5, 0.5], "probability distribution"),
    ([0.5, 0.5], [0.5, 0.5], [0.5, 0.5], "shape"),
    ([[0.5, 0.5]], [0.6, 0.6], [0.5, 0.5], "source_prior must be positive and sum to 1"),
    ([[0.5, 0.5]], [0.5, 0.5], [1.0, 0.0], "target_prior must be positive"),
    ([[0.5, 0.5]], [0.5, 0.5], [1.0], "one probability per class"),
])
def test_label_shift_rejects_bad_input(proba, source, target, message):
    with pytest.raises(ValueError, match=message):
        correct_for_label_shift(proba, source, target)


def test_class_prior():
    assert np.allclose(class_prior([0, 1, 1, 1]), [0.25, 0.75])
    with pytest.raises(ValueError, match="every class"):
        class_prior([1, 1, 1])
    with pytest.raises(ValueError, match="non-empty"):
        class_prior([])
