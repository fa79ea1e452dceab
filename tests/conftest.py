"""Shared pytest fixtures."""

import pytest


@pytest.fixture
def no_device_override(monkeypatch):
    """Run a test with COMPANION_DEVICE unset, whatever the caller's shell says."""
    monkeypatch.delenv("COMPANION_DEVICE", raising=False)
