"""The notebook conventions of CONTRIBUTING.md, checked on every chapter.

These tests read the committed notebooks; they execute nothing. Each one guards
a rule whose breach nbval itself would not notice:

- a comment marker that nbval does not recognise is ignored by nbval, so a cell
  meant to be ignored or compared within a tolerance would silently be compared
  as text (or not at all);
- a cell whose output is ignored proves nothing unless the next code cell asserts
  what it computed;
- a raw rounding-noise digit (2.4e-07) in an exactly compared output changes with
  the CPU; exact results print as bounds;
- every exercise has its own solution dropdown;
- no code line is longer than 79 characters: the book's column holds 79 of its
  13 px monospace at 1280 px (book/_static/book.css), and a longer line was cut
  off where a reader could not see it (tests/test_book_in_browser.py measures
  the rendered pages).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "book").glob("part*/*.ipynb"))

# nbval 0.11's own comment markers that the book allows (NBVAL_SKIP is banned:
# a skipped cell is not tested at all), and the book's NBVAL_TOLERANCE.
NBVAL_MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION"}


def _load_tolerance_plugin():
    spec = importlib.util.spec_from_file_location("book_nbval_tolerance", ROOT / "book" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


plugin = _load_tolerance_plugin()


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell):
    return "".join(cell["source"])


def _code_cells(path):
    return [cell for cell in _cells(path) if cell["cell_type"] == "code"]


def marker_problems(source: str) -> list[str]:
    """Comment lines that look like nbval markers but that nbval would not act on."""
    problems = []
    for line in source.splitlines():
        text = line.strip()
        if not text.startswith("#") or "NBVAL" not in text:
            continue
        comment = text.lstrip("#").strip()
        word = comment.split()[0] if comment else ""
        if word == plugin.MARKER:
            try:
                plugin.parse_tolerance(text)
            except ValueError as error:
                problems.append(str(error))
        elif comment == "NBVAL_SKIP":
            problems.append("NBVAL_SKIP is not allowed: a skipped cell is not tested")
        elif comment not in NBVAL_MARKERS:
            problems.append(f"nbval does not recognise {text!r}: a marker must be alone on its line, "
                            f"one of {sorted(NBVAL_MARKERS | {plugin.MARKER})}")
    return problems


def asserts_something(source: str) -> bool:
    """True when a cell contains an assert statement or calls an assert_* function."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return "assert" in source
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name.startswith("assert"):
                return True
    return False


def ignored_without_assertion(code_cells) -> list[int]:
    """nbval cell numbers of ignored cells that neither assert nor are followed by a cell that does."""
    bad = []
    for number, cell in enumerate(code_cells):
        if "NBVAL_IGNORE_OUTPUT" not in [line.strip().lstrip("#").strip() for line in _source(cell).splitlines()]:
            continue
        follower = code_cells[number + 1] if number + 1 < len(code_cells) else None
        if not (asserts_something(_source(cell)) or (follower and asserts_something(_source(follower)))):
            bad.append(number)
    return bad


# A computed number in scientific notation with a decimal mantissa and an
# exponent of -6 or below: the digits of rounding noise. Bounds are written
# without a decimal mantissa ("< 1e-12") and do not match.
NOISE_DIGITS = re.compile(r"(?<![\w.])[-+]?\d\.\d+e-(0[6-9]|[1-9]\d)\b")


def noise_in_exact_outputs(code_cells) -> list[tuple[int, str]]:
    found = []
    for number, cell in enumerate(code_cells):
        source = _source(cell)
        markers = {line.strip().lstrip("#").strip().split(" ")[0]
                   for line in source.splitlines() if line.strip().startswith("#")}
        # NBVAL_CHECK_OUTPUT declares an output that is exact on every IEEE machine
        # (float32's smallest normal number, say) and is compared as text on purpose.
        if markers & {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", plugin.MARKER}:
            continue
        for output in cell.get("outputs", []):
            texts = [output.get("text", "")] + [v for k, v in output.get("data", {}).items() if k == "text/plain"]
            for text in texts:
                text = "".join(text)
                for match in NOISE_DIGITS.finditer(text):
                    found.append((number, match.group()))
    return found


# An exercise starts a line as "**1. Title.**", "1. **Title.**" or "**Exercise 5.1.**".
EXERCISE_START = re.compile(r"^(?:\*\*\d+\.\s|\d+\.\s+\*\*|\*\*Exercise \d+(?:\.\d+)?\.)", re.MULTILINE)
SOLUTION = re.compile(r"^`{3,}\{admonition\} Solution\s*\n:class: dropdown", re.MULTILINE)


CODE_LINE_LIMIT = 79


def long_code_lines(code_cells, limit: int = CODE_LINE_LIMIT) -> list[tuple[int, int]]:
    """(code cell number, length) of every code line longer than `limit` characters."""
    return [(number, len(line)) for number, cell in enumerate(code_cells)
            for line in _source(cell).splitlines() if len(line) > limit]


def exercise_solution_counts(cells) -> list[tuple[str, int]]:
    """(first words of the exercise, number of solution dropdowns before the next exercise)."""
    text, inside = [], False
    for cell in cells:
        source = _source(cell)
        if cell["cell_type"] != "markdown":
            continue
        if re.search(r"^#{2,3} Exercises", source, re.MULTILINE):
            inside = True
            source = source[re.search(r"^#{2,3} Exercises", source, re.MULTILINE).start():]
        elif inside and re.search(r"^#{1,2} ", source, re.MULTILINE):
            break  # the next section (a summary) ends the exercises
        if inside:
            text.append(source)
    body = "\n".join(text)
    starts = [match.start() for match in EXERCISE_START.finditer(body)]
    counts = []
    for begin, end in zip(starts, starts[1:] + [len(body)]):
        block = body[begin:end]
        counts.append((block[:40].splitlines()[0], len(SOLUTION.findall(block))))
    return counts


# Breaches that are known and still open, by (check, chapter): each is a strict
# xfail, so the suite fails as soon as one is fixed and the entry must go.
KNOWN_OPEN: dict[tuple[str, str], str] = {
}


def _notebooks(check: str):
    return [pytest.param(path, id=path.stem,
                         marks=pytest.mark.xfail(strict=True, reason=KNOWN_OPEN[(check, path.stem)]))
            if (check, path.stem) in KNOWN_OPEN else pytest.param(path, id=path.stem) for path in NOTEBOOKS]


@pytest.mark.parametrize("path", _notebooks("markers"))
def test_every_nbval_marker_is_one_nbval_acts_on(path):
    problems = [(number, problem) for number, cell in enumerate(_code_cells(path))
                for problem in marker_problems(_source(cell))]
    assert not problems, f"{path.name}: {problems}"


@pytest.mark.parametrize("path", _notebooks("ignored"))
def test_every_ignored_cell_is_followed_by_an_assertion(path):
    assert not ignored_without_assertion(_code_cells(path)), (
        f"{path.name}: cells {ignored_without_assertion(_code_cells(path))} ignore their output "
        "but neither they nor the next code cell assert anything")


@pytest.mark.parametrize("path", _notebooks("noise"))
def test_exact_outputs_print_no_rounding_noise(path):
    found = noise_in_exact_outputs(_code_cells(path))
    assert not found, (f"{path.name}: (cell, number) {found}: print a bound such as '< 1e-12', or mark the "
                       "cell NBVAL_TOLERANCE")


@pytest.mark.parametrize("path", _notebooks("exercises"))
def test_every_exercise_has_its_own_solution_dropdown(path):
    counts = exercise_solution_counts(_cells(path))
    assert counts, f"{path.name}: no exercises found under an 'Exercises' heading"
    wrong = [(title, n) for title, n in counts if n != 1]
    assert not wrong, f"{path.name}: exercises without exactly one solution dropdown: {wrong}"


# --- the checkers themselves must be able to fail -----------------------------

@pytest.mark.parametrize("path", _notebooks("width"))
def test_code_lines_fit_the_column(path):
    too_long = long_code_lines(_code_cells(path))
    assert too_long == [], f"{path.name}: code lines over {CODE_LINE_LIMIT} characters (cell, length): {too_long}"


def test_width_check_counts_characters_per_line():
    cells = [{"source": ["x = 1\n", "y = " + "1 + " * 20 + "1\n"]}, {"source": ["# " + "a" * 77]}]
    assert long_code_lines(cells) == [(0, 85)]
    assert long_code_lines(cells, limit=78) == [(0, 85), (1, 79)]


def test_marker_check_catches_a_marker_with_trailing_text():
    assert marker_problems("# NBVAL_IGNORE_OUTPUT  (noise)\nprint(1)")
    assert marker_problems("# NBVAL_SKIP\n")
    assert marker_problems("# NBVAL_TOLERANCE abs=oops\n")
    assert not marker_problems("# NBVAL_IGNORE_OUTPUT\nprint(1)")
    assert not marker_problems("# NBVAL_TOLERANCE abs=0.02 (measured spread 0.006)\nprint(1)")


def test_ignored_cell_check_needs_an_assert_in_the_next_cell():
    cell = lambda s: {"cell_type": "code", "source": s}
    assert ignored_without_assertion([cell("# NBVAL_IGNORE_OUTPUT\nx = 1"), cell("print(x)")]) == [0]
    assert ignored_without_assertion([cell("# NBVAL_IGNORE_OUTPUT\nx = 1")]) == [0]
    assert ignored_without_assertion([cell("# NBVAL_IGNORE_OUTPUT\nx = 1"), cell("assert x == 1")]) == []
    assert ignored_without_assertion([cell("# NBVAL_IGNORE_OUTPUT\nx = 1"),
                                      cell("np.testing.assert_allclose(x, 1)")]) == []


def test_noise_check_tells_noise_from_bounds():
    cell = {"cell_type": "code", "source": "print(err)",
            "outputs": [{"output_type": "stream", "text": "max |a - b| = 2.4e-07, bound < 1e-12, lr 1e-3\n"}]}
    assert noise_in_exact_outputs([cell]) == [(0, "2.4e-07")]
    cell["source"] = "# NBVAL_IGNORE_OUTPUT\nprint(err)"
    assert noise_in_exact_outputs([cell]) == []


def test_exercise_check_counts_dropdowns_per_exercise():
    body = ("## Exercises\n\n**1. One.** text\n\n```{admonition} Solution\n:class: dropdown\nA\n```\n\n"
            "**2. Two.** text\n\n3. **Three.** text\n\n```{admonition} Solution\n:class: dropdown\nB\n```\n"
            "```{admonition} Solution\n:class: dropdown\nC\n```\n")
    counts = exercise_solution_counts([{"cell_type": "markdown", "source": body}])
    assert [n for _, n in counts] == [1, 0, 2]


def test_a_tolerance_marker_may_end_with_its_explanation_and_a_typo_is_refused():
    # The book's marker (book/conftest.py, not nbval's own) reads abs=/rel= up to a "(", so the
    # measured reason for a bound can stand on the marker line; a mistyped bound never passes silently.
    assert plugin.parse_tolerance("# NBVAL_TOLERANCE abs=0.02 rel=0.05 (6 configurations: largest 0.01)") == (
        plugin.Tolerance(abs=0.02, rel=0.05))  # fmt: skip
    assert marker_problems("# NBVAL_TOLERANCE abs=0.011 (accuracies on 512 texts)\nprint(1)") == []
    assert marker_problems("# NBVAL_TOLERANCE abz=0.02 (typo)") != []
    assert plugin.parse_tolerance("x = 1  # no marker here") is None
