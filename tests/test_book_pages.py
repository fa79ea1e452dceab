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


@pytest.mark.parametrize("name", ["teachers_page", "corrections_appendix", "gpu_appendix", "glossary_appendix",
                                  "notation_appendix"])
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


def test_the_appendix_torchrun_lines_parse_with_torchrun_and_the_training_script():
    from torch.distributed.run import get_args_parser

    from companion.distributed import ddp_train

    gpu = _load("gpu_appendix")
    spec = '{"kind": "mlp", "sizes": [4, 2]}'  # what $(cat model.json) expands to; parse_args takes any text
    for command, nodes in ((gpu.torchrun_one_node(), "1"),
                           (gpu.torchrun_multi_node(nodes="2", endpoint="node1:29500", job="42"), "2")):
        assert command[0] == "torchrun"
        launch = get_args_parser().parse_args(command[1:])
        assert (launch.nnodes, launch.nproc_per_node, launch.module) == (nodes, "8", True)
        assert launch.training_script == "companion.distributed.ddp_train"
        script = [spec if word == "$(cat model.json)" else word for word in launch.training_script_args]
        args = ddp_train.parse_args(script)
        assert args.global_batch % (int(nodes) * 8) == 0  # the batch divides over every rank
    assert "--rdzv_endpoint \"$HEAD:29500\"" in gpu.render()


def test_every_glossary_term_occurs_in_the_chapter_it_points_to():
    glossary = _load("glossary_appendix")
    paths = glossary.chapter_paths()
    texts = {number: glossary.chapter_text(path) for number, path in paths.items()}
    wrong = [(english, chapter) for english, _, chapter in glossary.TERMS
             if chapter not in texts or not glossary.occurs(english, texts[chapter])]
    assert not wrong, f"terms that do not occur in the chapter they point to: {wrong}"
    english = [term.lower() for term, _, _ in glossary.TERMS]
    assert len(english) == len(set(english)), "a term is listed twice"
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in chinese) for _, chinese, _ in glossary.TERMS)
    assert glossary.occurs("token", "two Tokens") and not glossary.occurs("rank", "frankly")


def test_every_symbol_occurs_in_the_chapter_that_introduces_it():
    notation = _load("notation_appendix")
    math = {number: notation.chapter_math(path) for number, path in notation.chapter_paths().items()}
    rows = [row for group in notation.SYMBOLS.values() for row in group]
    absent = [(symbol, chapter) for symbol, _, chapter in rows if not notation.occurs(symbol, math[chapter])]
    assert not absent, f"symbols missing from the chapter they point to: {absent}"
    # A multi-letter symbol points to its first chapter, unless an earlier one uses it for something else.
    late = [(symbol, chapter, min(n for n in math if notation.occurs(symbol, math[n])))
            for symbol, _, chapter in rows if len(symbol) > 1 and symbol not in notation.REUSED
            and min(n for n in math if notation.occurs(symbol, math[n])) != chapter]
    assert not late, f"(symbol, chapter given, chapter that uses it first): {late}"
    assert notation.occurs("\\eta", "x = \\eta y") and not notation.occurs("\\eta", "\\beta_1")
    assert len({symbol for symbol, _, _ in rows}) == len(rows), "a symbol is listed twice"
