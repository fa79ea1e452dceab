"""The generated pages (tools/*.py) are committed as their generators write them now, and the
corrections appendix lists exactly the warning callouts of the chapters."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"tools_{name}", TOOLS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["teachers_page", "corrections_appendix"])
def test_committed_page_is_what_its_generator_writes(name):
    module = _load(name)
    assert module.PAGE.read_text(encoding="utf-8") == module.render(), (
        f"{module.PAGE.name} is stale: run python tools/{name}.py")


def test_every_warning_callout_is_named_and_listed_and_every_entry_has_a_callout():
    corrections = _load("corrections_appendix")
    found = corrections.callouts()
    labels = [label for label, *_ in found]
    assert all(labels), [f"{path.name}: {title}" for label, path, title, _ in found if not label]
    assert len(labels) == len(set(labels)), "two callouts share a name"
    missing, orphaned = set(labels) - set(corrections.CORRECTIONS), set(corrections.CORRECTIONS) - set(labels)
    assert not missing, f"callouts without an appendix entry: {sorted(missing)}"
    assert not orphaned, f"appendix entries without a callout: {sorted(orphaned)}"
    for label, path, _, _ in found:  # corr-chNN-K lives in chapter NN
        assert path.name.startswith(label.split("-")[1] + "_"), (label, path.name)


def test_a_callout_missing_from_the_appendix_stops_the_generator(monkeypatch):
    corrections = _load("corrections_appendix")
    first = next(iter(corrections.CORRECTIONS))
    monkeypatch.delitem(corrections.CORRECTIONS, first)
    with pytest.raises(KeyError, match=first):
        corrections.render()


def test_teachers_page_counts_every_chapter_and_every_checked_exercise():
    teachers = _load("teachers_page")
    from companion.exercises import ANSWERS

    page = teachers.render()
    rows = [line for line in page.splitlines() if line.startswith("| ") and "{doc}" in line]
    assert len(rows) == len(teachers.chapters())
    for answer in ANSWERS:
        chapter, k = answer.exercise[2:].split(".")
        assert f"| {int(chapter)}.{k} | {answer.what} |" in page
    assert teachers.referred_chapters({"cells": [{"cell_type": "markdown", "source": [
        "as chapters 2 and 5 showed, and {doc}`ch03_backpropagation`; chapter 9 comes later"]}]}, 6,
        {2, 3, 5, 9}) == [2, 3, 5]
