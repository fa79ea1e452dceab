"""Offline data sources of the book (DESIGN section 5) and where they live."""

from companion.data.sources import SOURCES, DataSource, cache_dir, source_status

__all__ = ["SOURCES", "DataSource", "cache_dir", "source_status"]
