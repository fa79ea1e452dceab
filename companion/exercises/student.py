"""Student notebooks: each chapter without its solutions (``make exercises``).

A chapter's exercises are the text after its ``## Exercises`` heading; each one
ends with a solution dropdown (a MyST ``{admonition} Solution`` with class
``dropdown``). The student version of a chapter keeps every cell before that
heading as it is, so the exercises can use the chapter's variables, and turns
the exercises into one markdown cell per exercise with the solution removed,
each followed by a code cell for the student's work: for an exercise with a
check (:mod:`companion.exercises.answers`) that cell ends in
``check("chNN.K", answer)``. Outputs of the exercise cells are cleared.
"""

from __future__ import annotations

import copy
import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from companion.exercises.answers import BY_EXERCISE

HEADING = "## Exercises"
# A solution dropdown: an opening fence of three or more backticks, then the same fence closing it.
SOLUTION = re.compile(r"^(`{3,})\{admonition\} Solution[^\n]*\n(?P<body>.*?)^\1[ \t]*$\n?", re.M | re.S)
# What an exercise's first line looks like: "**3. Title.**", "**Exercise 5.3.**" or "3. **Title.**".
NUMBER = re.compile(r"^(?:\*\*(?:Exercise \d+\.)?(\d+)\.|(\d+)\. \*\*)", re.M)
STUDENT_NOTE = ("*Student version, written by `make exercises`: the solutions are removed. Under each "
                "exercise is a cell for your work; where the answer is a number, an array or a function, "
                "put it in `answer` and run the cell: `check` says whether it is right, without showing the "
                "solution.*")


@dataclass(frozen=True)
class Exercise:
    """One exercise: its number in the chapter, the question (markdown) and the solution's body."""

    number: int
    question: str
    solution: str


def chapter_number(path: Path) -> int:
    """The chapter of a notebook named ``chNN_...``."""
    match = re.match(r"ch(\d+)_", Path(path).name)
    if match is None:
        raise ValueError(f"expected a chapter notebook named chNN_<title>.ipynb; got {Path(path).name}")
    return int(match.group(1))


def _source(cell: dict) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def _heading_at(text: str) -> int:
    """Offset of the Exercises heading line in a cell's text, or -1."""
    match = re.search(rf"^{re.escape(HEADING)}[ \t]*$", text, re.M)
    return -1 if match is None else match.start()


def exercises_section(cells: list[dict]) -> tuple[list[dict], list[dict]]:
    """(cells before the Exercises heading, cells from it on); a cell holding the heading is split there."""
    for index, cell in enumerate(cells):
        text = _source(cell)
        offset = _heading_at(text) if cell["cell_type"] == "markdown" else -1
        if offset < 0:
            continue
        before, section = list(cells[:index]), list(cells[index + 1:])
        if text[:offset].strip():
            before.append({**cell, "source": text[:offset].rstrip() + "\n"})
        return before, [{**cell, "source": text[offset:]}, *section]
    raise ValueError(f"no markdown cell with a line {HEADING!r}")


def split_exercises(markdown: str) -> tuple[str, list[tuple[str, str]], str]:
    """(text before the first exercise, [(question, solution body)], text after the last solution)."""
    pieces, position = [], 0
    for match in SOLUTION.finditer(markdown):
        pieces.append((markdown[position:match.start()], match.group("body")))
        position = match.end()
    rest = markdown[position:]
    if not pieces:
        return "", [], markdown
    head, first_question = "", pieces[0][0]
    number = NUMBER.search(first_question)
    if number is not None:  # text before the first exercise's number (the heading, an introduction)
        head, first_question = first_question[:number.start()], first_question[number.start():]
        pieces[0] = (first_question, pieces[0][1])
    return head, pieces, rest


def chapter_exercises(notebook: dict) -> list[Exercise]:
    """The exercises of a chapter notebook, numbered in order."""
    _, section = exercises_section(notebook["cells"])
    markdown = "\n".join(_source(c) for c in section if c["cell_type"] == "markdown")
    _, pairs, _ = split_exercises(markdown)
    return [Exercise(k, question.strip(), solution) for k, (question, solution) in enumerate(pairs, start=1)]


def _markdown_cell(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def _code_cell(text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": text}


def work_cell(exercise_id: str, first_check: bool) -> str:
    """The code cell under an exercise: a check template, or a place for the student's work."""
    label = f"Exercise {exercise_id[2:].lstrip('0')}"
    if exercise_id not in BY_EXERCISE:
        return f"# {label}: your work here"
    comment = textwrap.wrap(f"{label}: {BY_EXERCISE[exercise_id].what}", 77)
    lines = ["from companion.exercises import check", ""] if first_check else []
    lines += [f"# {line}" for line in comment] + ["answer = ...", f'check("{exercise_id}", answer)']
    return "\n".join(lines)


def student_notebook(notebook: dict, chapter: int) -> dict:
    """A copy of ``notebook`` with its solutions removed and a work cell under each exercise."""
    student = copy.deepcopy(notebook)
    before, section = exercises_section(student["cells"])
    out, number, checks = [], 0, 0
    for cell in section:
        if cell["cell_type"] != "markdown":
            cell = {**cell, "outputs": [], "execution_count": None} if cell["cell_type"] == "code" else cell
            out.append(cell)
            continue
        head, pairs, rest = split_exercises(_source(cell))
        if head.strip():
            out.append(_markdown_cell(head.strip()))
        for question, _ in pairs:
            number += 1
            exercise_id = f"ch{chapter:02d}.{number}"
            out.append(_markdown_cell(question.strip()))
            out.append(_code_cell(work_cell(exercise_id, first_check=checks == 0 and exercise_id in BY_EXERCISE)))
            checks += exercise_id in BY_EXERCISE
        if rest.strip():
            out.append(_markdown_cell(rest.strip()))
    student["cells"] = [_markdown_cell(STUDENT_NOTE), *before, *out]
    return student


def write_student_notebooks(book: Path, out: Path) -> list[Path]:
    """Write the student version of every chapter under ``book`` into ``out`` (same sub-folders)."""
    written = []
    for path in sorted(Path(book).glob("part*/ch*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        target = Path(out) / path.relative_to(book)
        target.parent.mkdir(parents=True, exist_ok=True)
        student = student_notebook(notebook, chapter_number(path))
        target.write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m companion exercises [--book DIR] [--out DIR]``."""
    import argparse

    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(prog="python -m companion exercises",
                                     description="write the student notebooks (solutions removed)")
    parser.add_argument("--book", type=Path, default=root / "book", help="the book's folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=root / "_build" / "exercises",
                        help="where to write them (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.book.is_dir():
        parser.error(f"--book must be the book's folder with part*/ch*.ipynb; got {args.book}")
    written = write_student_notebooks(args.book, args.out)
    if not written:
        parser.error(f"no chapter notebooks (part*/ch*.ipynb) under {args.book}")
    print(f"wrote {len(written)} student notebooks with {len(BY_EXERCISE)} checked exercises into {args.out}")
    return 0
