"""The offline data sources of the book (`sources.SOURCES`: where each lives, its sha256) and loaders."""

from companion.data.sentiment import load_chinese_reviews, load_english_sentiment, ratings_to_labels
from companion.data.sources import (
    FETCH_COMMAND,
    SOURCES,
    ChecksumMismatchError,
    DataSource,
    MissingSourceError,
    cache_dir,
    source_status,
)
from companion.data.splits import (
    SentimentSplits,
    Split,
    remove_duplicates_and_conflicts,
    stratified_split,
)

__all__ = [
    "FETCH_COMMAND",
    "SOURCES",
    "ChecksumMismatchError",
    "DataSource",
    "MissingSourceError",
    "SentimentSplits",
    "Split",
    "cache_dir",
    "load_chinese_reviews",
    "load_english_sentiment",
    "ratings_to_labels",
    "remove_duplicates_and_conflicts",
    "source_status",
    "stratified_split",
]
