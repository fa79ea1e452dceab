"""The full-scale sentiment runs of chapter 17, one seed per call.

* :func:`minilm_film_run`: all-MiniLM-L6-v2 with chapter 11's mean-pool head,
  fine-tuned on the film-review training split (by default all of it, 3 epochs), then
  scored on the test split of every English corpus (domain shift) and of the Chinese
  reviews (a language the English WordPiece vocabulary cannot read).
* :func:`chinese_chars_run`: the Chinese reviews with nothing pretrained: TF-IDF on
  character 1-3-grams with logistic regression (chapter 8's baseline), and a model
  trained from scratch on characters.

Each returns a JSON-ready dict; :mod:`companion.experiments.results` summarises seeds.
Every score is on a held-out test split that no choice was made on; the seed fixes the
split, the initialisation and the batch order.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from companion.checks import check_positive_int, check_seed


@dataclass(frozen=True)
class MinilmRunConfig:
    """Data and optimisation of one MiniLM fine-tuning run; ``None`` means the whole split."""

    max_train: int | None
    max_eval: int | None  # test texts scored per corpus
    epochs: int
    batch_size: int
    learning_rate: float  # peak of the warmup + linear decay schedule, Eq. (11.6)
    max_len: int  # WordPiece ids per text; 99 % of the film snippets have at most 54
    warmup_fraction: float = 0.1


MINILM_FULL = MinilmRunConfig(max_train=None, max_eval=None, epochs=3, batch_size=32, learning_rate=3e-5, max_len=64)
MINILM_QUICK = MinilmRunConfig(max_train=48, max_eval=32, epochs=1, batch_size=16, learning_rate=3e-5, max_len=32)


def _first(items, limit):
    return list(items) if limit is None else list(items)[:limit]


def score_probabilities(labels, proba) -> dict:
    """Accuracy, expected calibration error (10 equal-width bins) and count of one test set."""
    from companion.metrics.calibration import expected_calibration_error

    labels = np.asarray(labels)
    return {
        "n": int(len(labels)),
        "accuracy": float(np.mean(proba.argmax(axis=1) == labels)),
        "ece": float(expected_calibration_error(labels, proba[:, 1], n_bins=10)),
    }


def minilm_film_run(seed: int, config: MinilmRunConfig = MINILM_FULL, device=None) -> dict:
    """Fine-tune MiniLM on film reviews (seed ``seed``) and score it on every corpus's test split."""
    from companion.data.sentiment import ENGLISH_CORPORA, load_chinese_reviews, load_english_sentiment
    from companion.pretrained.classifier import build_mean_pool_classifier
    from companion.pretrained.finetune import finetune, predict_proba
    from companion.pretrained.minilm import load_minilm
    from companion.seed import set_seed

    seed = check_seed(seed)
    set_seed(seed)
    tests = {corpus: load_english_sentiment(corpus, seed).test for corpus in ENGLISH_CORPORA}
    tests["chinese"] = load_chinese_reviews(seed).test
    train = load_english_sentiment("movie_reviews", seed).train
    texts, labels = _first(train.texts, config.max_train), _first(train.labels, config.max_train)
    tokenizer, encoder = load_minilm(device=device)
    model = build_mean_pool_classifier(encoder, num_labels=2)
    start = time.perf_counter()
    history = finetune(model, tokenizer, texts, np.asarray(labels), epochs=config.epochs,
                       batch_size=config.batch_size, learning_rate=config.learning_rate, max_len=config.max_len,
                       warmup_fraction=config.warmup_fraction, device=device)
    train_seconds = time.perf_counter() - start
    scores = {}
    for corpus, split in tests.items():
        proba = predict_proba(model, tokenizer, _first(split.texts, config.max_eval), max_len=config.max_len)
        scores[corpus] = score_probabilities(_first(split.labels, config.max_eval), proba)
    tail = history.loss[-min(50, len(history.loss)):]
    return {"seed": seed, "n_train": len(texts), "steps": len(history.loss), "train_seconds": round(train_seconds, 1),
            "final_train_loss": float(np.mean(tail)), "test": scores}


@dataclass(frozen=True)
class CharRunConfig:
    """The Chinese runs: how many training texts (None: all), and the from-scratch model's size and schedule."""

    max_train: int | None
    max_eval: int | None
    max_len: int  # characters kept per review (the median review has 46, the 99th percentile 340)
    embed_dim: int
    hidden_size: int
    epochs: int
    batch_size: int
    learning_rate: float


CHARS_FULL = CharRunConfig(max_train=None, max_eval=None, max_len=150, embed_dim=64, hidden_size=64, epochs=4,
                           batch_size=64, learning_rate=2e-3)
CHARS_QUICK = CharRunConfig(max_train=400, max_eval=200, max_len=40, embed_dim=16, hidden_size=16, epochs=1,
                            batch_size=64, learning_rate=2e-3)


def review_characters(text: str) -> list[str]:
    """The characters of a review with whitespace removed: the token unit of the from-scratch Chinese model."""
    return [char for char in text if not char.isspace()]


def chinese_chars_run(seed: int, config: CharRunConfig = CHARS_FULL, device=None) -> dict:
    """TF-IDF character n-grams + LR, and an LSTM trained from scratch on characters, on the Chinese reviews."""
    from companion.data.sentiment import load_chinese_reviews
    from companion.rnn.baseline import fit_tfidf_baseline
    from companion.rnn.classifiers import build_torch_classifier
    from companion.seed import set_seed
    from companion.text.vocab import Vocabulary
    from companion.train.sequence_classifier import encode_split, torch_evaluate, train_torch_classifier

    seed = check_seed(seed)
    check_positive_int(config.max_len, "max_len")
    set_seed(seed)
    splits = load_chinese_reviews(seed)
    train_texts = _first(splits.train.texts, config.max_train)
    train_labels = _first(splits.train.labels, config.max_train)
    test_texts = _first(splits.test.texts, config.max_eval)
    test_labels = np.asarray(_first(splits.test.labels, config.max_eval))
    start = time.perf_counter()
    baseline = fit_tfidf_baseline(train_texts, train_labels, splits.val.texts, splits.val.labels, "zh")
    tfidf_seconds = time.perf_counter() - start
    tfidf_proba = baseline.pipeline.predict_proba(test_texts)
    vocab = Vocabulary.build([review_characters(text) for text in train_texts])
    encoded = [encode_split(texts, labels, review_characters, vocab, config.max_len) for texts, labels in
               ((train_texts, train_labels), (splits.val.texts, splits.val.labels), (test_texts, test_labels))]
    model = build_torch_classifier(len(vocab), config.max_len, config.embed_dim, config.hidden_size, 2)
    start = time.perf_counter()
    history = train_torch_classifier(model, encoded[0], encoded[1], config.epochs, config.batch_size,
                                     config.learning_rate, device=device)
    lstm_seconds = time.perf_counter() - start
    lstm_accuracy = torch_evaluate(model, encoded[2])[1]
    return {"seed": seed, "n_train": len(train_texts), "vocabulary": len(vocab),
            "train_seconds": {"tfidf": round(tfidf_seconds, 1), "lstm": round(lstm_seconds, 1)},
            "tfidf_C": baseline.C, "lstm_val_accuracy": [round(v, 4) for v in history.val_acc],
            "test": {"tfidf_char_lr": score_probabilities(test_labels, tfidf_proba),
                     "lstm_chars": {"n": len(test_labels), "accuracy": float(lstm_accuracy)}}}


def config_dict(config) -> dict:
    """A run configuration as the JSON-ready dict stored with the results."""
    return asdict(config)
