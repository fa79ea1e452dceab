"""The classical baseline of chapter 8: TF-IDF features and logistic regression (scikit-learn).

Word 1- and 2-grams for English (tokens from :func:`companion.text.tokenize_english`),
character 1- to 3-grams for Chinese, which has no spaces between words. The
vectoriser is fitted once on the training split, then a logistic regression for each C in a grid; the C with the best
validation accuracy is kept (the first on a tie) and only that model is scored
on the test split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from companion.checks import check_labels, check_texts

DEFAULT_CS = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def tfidf_vectorizer(language: str):
    """``TfidfVectorizer`` with word 1-2-grams for ``"en"`` or character 1-3-grams for ``"zh"``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if language == "en":
        from companion.text import tokenize_english

        return TfidfVectorizer(tokenizer=tokenize_english, token_pattern=None, lowercase=False,
                               ngram_range=(1, 2), min_df=1, sublinear_tf=True)
    if language == "zh":
        return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=1, sublinear_tf=True)
    raise ValueError(f"language must be 'en' or 'zh'; got {language!r}")


@dataclass
class BaselineResult:
    """The fitted pipeline, the chosen C and the validation accuracy of every C tried."""

    pipeline: object
    C: float
    val_accuracy: dict

    def predict(self, texts) -> np.ndarray:
        return np.asarray(self.pipeline.predict(list(texts)))


def _check_pair(texts, labels, name):
    texts = check_texts(texts, f"{name} texts")
    return texts, check_labels(labels, len(texts), name=f"{name} labels")


def fit_tfidf_baseline(train_texts, train_labels, val_texts, val_labels, language: str,
                       Cs=DEFAULT_CS) -> BaselineResult:
    """Fit TF-IDF + logistic regression for each C in ``Cs`` and keep the best on validation accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train_texts, train_labels = _check_pair(train_texts, train_labels, "train")
    val_texts, val_labels = _check_pair(val_texts, val_labels, "val")
    Cs = tuple(float(C) for C in Cs)
    if not Cs or min(Cs) <= 0:
        raise ValueError(f"Cs must be a non-empty list of positive numbers; got {Cs}")
    vectorizer = tfidf_vectorizer(language)  # validates language before any fitting
    X_train = vectorizer.fit_transform(train_texts)  # the vocabulary and IDF come from the training split only
    X_val = vectorizer.transform(val_texts)
    best, scores = None, {}
    for C in Cs:
        classifier = LogisticRegression(C=C, max_iter=2000).fit(X_train, train_labels)
        scores[C] = float(np.mean(classifier.predict(X_val) == val_labels))
        if best is None or scores[C] > scores[best[0]]:
            best = (C, classifier)
    return BaselineResult(pipeline=make_pipeline(vectorizer, best[1]), C=best[0], val_accuracy=scores)
