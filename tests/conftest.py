"""Shared pytest fixtures and the Hypothesis profile.

Hypothesis runs derandomized: every run of the suite (here, in CI, on a reader's
machine) tries the same examples, so a failure is reproducible and CI cannot turn
red by drawing an unlucky example that the last run did not draw.
"""

import pytest
from hypothesis import settings

settings.register_profile("book", derandomize=True, database=None)
settings.load_profile("book")


@pytest.fixture
def no_device_override(monkeypatch):
    """Run a test with COMPANION_DEVICE unset, whatever the caller's shell says."""
    monkeypatch.delenv("COMPANION_DEVICE", raising=False)
