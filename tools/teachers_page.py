"""Write book/front/teachers.md, the page for teachers, from the project's own data.

Everything on the page that can go stale is generated: the chapters and their
titles (the notebooks), the earlier chapters each one refers back to (its
cross-references and "chapter N" mentions), the measured time to run it
(benchmarks/results/notebook_budget.json), its exercises and which of them
``companion.exercises.check`` can check (companion/exercises/answers.py).
tests/test_book_pages.py fails when the committed page differs from what this
script writes now; rerun it after changing any of those:

    python tools/teachers_page.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from companion.exercises.answers import ANSWERS  # noqa: E402
from companion.exercises.student import chapter_exercises, chapter_number  # noqa: E402

PAGE = ROOT / "book" / "front" / "teachers.md"
BUDGET = ROOT / "benchmarks" / "results" / "notebook_budget.json"


def chapters() -> list[tuple[int, Path, dict]]:
    paths = sorted((ROOT / "book").glob("part*/ch*.ipynb"))
    return [(chapter_number(p), p, json.loads(p.read_text(encoding="utf-8"))) for p in paths]


def title(notebook: dict) -> str:
    for cell in notebook["cells"]:
        for line in "".join(cell["source"]).splitlines():
            if cell["cell_type"] == "markdown" and line.startswith("# "):
                return line[2:].strip()
    raise ValueError("a chapter notebook without a '# ' title")


def referred_chapters(notebook: dict, number: int, existing: set[int]) -> list[int]:
    """Earlier chapters a chapter points to: {doc} links to chNN files and "chapter N" / "chapters N and M"."""
    text = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    found = {int(n) for n in re.findall(r"ch(\d\d)_\w+", text)}
    for match in re.finditer(r"[Cc]hapters? ((?:\d+(?:, | and | or |-))*\d+)", text):
        found |= {int(n) for n in re.findall(r"\d+", match.group(1))}
    return sorted(n for n in found if n < number and n in existing)


def render() -> str:
    budget = {row["notebook"]: row for row in json.loads(BUDGET.read_text(encoding="utf-8"))["rows"]}
    checked: dict[int, list[str]] = {}
    for answer in ANSWERS:
        checked.setdefault(int(answer.exercise[2:4]), []).append(answer.exercise.split(".")[1])
    rows, total_s, total_ex = [], 0.0, 0
    all_chapters = chapters()
    existing = {n for n, _, _ in all_chapters}
    for number, path, notebook in all_chapters:
        exercises = len(chapter_exercises(notebook))
        total_ex += exercises
        row = budget.get(path.stem)
        time = f"{row['median_s']:.0f} s" if row else "not measured"
        total_s += row["median_s"] if row else 0.0
        refers = ", ".join(map(str, referred_chapters(notebook, number, existing))) or "none"
        ids = ", ".join(f"{number}.{k}" for k in checked.get(number, [])) or "none"
        link = f"{{doc}}`../{path.parent.name}/{path.stem}`"
        rows.append(f"| {number} | {link} | {refers} | {time} | {exercises} | {ids} |")
    tolerance = []
    for answer in ANSWERS:
        if answer.kind == "integers":
            allowed = "exact"
        elif answer.kind == "function":
            allowed = "by behaviour on random input"
        else:
            parts = ([f"relative {answer.rel:g}"] if answer.rel else []) + (
                [f"absolute {answer.abs:g}"] if answer.abs else [])
            allowed = " or ".join(parts) or "exact"
        chapter, k = answer.exercise[2:].split(".")
        tolerance.append(f"| {int(chapter)}.{k} | {answer.what} | {allowed} |")
    written = json.loads(BUDGET.read_text(encoding="utf-8"))
    lines = [
        "# For teachers",
        "",
        "<!-- Written by tools/teachers_page.py from the notebooks, the answer key and the measured budget;",
        "     edit that script, not this page. -->",
        "",
        "Every chapter ends with exercises, each with a worked solution in a dropdown. This page is for",
        "using them in class: which chapters a lesson needs first, how long each one takes to run, which",
        "exercises a program can check, and how to run everything offline.",
        "",
        "## Chapters, what they build on, and how long they take",
        "",
        "*Refers back to* lists the earlier chapters a chapter links to or names: the ones a class should",
        "have seen first. *Runs in* is the median wall time of executing the whole notebook from a fresh",
        f"kernel, measured on {written['cpu']} with 2 cores and no GPU ({written['written']};",
        "`make budget` measures it on your machine). Reading a chapter and working its exercises take far",
        "longer than running it; that time is not measured here.",
        "",
        "| chapter | title | refers back to | runs in | exercises | checked by `check` |",
        "| --- | --- | --- | --- | --- | --- |",
        *rows,
        "",
        f"In all: {len(rows)} chapters, {total_ex} exercises, {len(ANSWERS)} of them checked by a program, "
        f"and {total_s / 60:.0f} minutes to run every chapter once.",
        "",
        "## Student notebooks and checks",
        "",
        "`make exercises` (or `python -m companion exercises --out DIR`) writes one student notebook per",
        "chapter into `_build/exercises/`: the whole chapter, so that the exercises can use its variables,",
        "with every solution removed and a code cell under each exercise. Where the answer is a number, an",
        "array or a function, that cell reads",
        "",
        "```python",
        "from companion.exercises import check",
        "",
        "# Exercise 14.4: the bubble fraction with micro-batches of 64, then of 8 (two numbers)",
        "answer = ...",
        'check("ch14.4", answer)',
        "```",
        "",
        "and `check` prints whether the answer is right, and why not when it is not (the wrong form, the",
        "number of values expected, which value is off, the tolerance), without printing the answer. The",
        "answer key ships in the package (`companion/exercises/answers.py`) and the book prints every",
        "solution: the checks keep answers out of sight in class, they are not an exam lock. A test",
        "(`tests/test_exercises.py`) proves that each key agrees with the solution the book prints, that",
        "each wrong answer is refused, and that no solution text survives in a student notebook.",
        "",
        "| exercise | what the answer is | tolerance |",
        "| --- | --- | --- |",
        *tolerance,
        "",
        "## Running a class offline",
        "",
        "Nothing in the book downloads at run time. Before the class, on each machine (or once on a shared",
        "image):",
        "",
        "1. `make book` (creates `.venv` from the pinned `requirements.txt`, then builds the HTML book) or",
        "   `make exercises` for the student notebooks alone.",
        "2. `.venv/bin/python -m companion data fetch`: the one data archive that is not installed with",
        "   the packages, stored in `~/.cache/companion` (or the folder named by `COMPANION_DATA`; point",
        "   every machine at a shared copy to fetch it once).",
        "3. `.venv/bin/python -m companion doctor`: exits with status 1 and says what to install when a",
        "   pinned package or a data source is missing.",
        "",
        "Then students open their notebook with `.venv/bin/jupyter lab _build/exercises/part1/...` and run",
        "it from the top. `make serve` serves the book itself on `http://127.0.0.1:8000` for the room's",
        "browsers (search works fully there, not from `file://`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    PAGE.write_text(render(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")
