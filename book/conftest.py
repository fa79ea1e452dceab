"""nbval extension: numbers that are checked within a stated tolerance.

nbval compares a cell's fresh output with the committed one as text. That is
right for exact results, and wrong for the results of training, which move in
their last digits with the CPU, the thread count and the BLAS kernel. A cell
whose first lines contain

    # NBVAL_TOLERANCE abs=0.02 rel=0.05

is compared number by number instead: the text between the numbers must be
equal, and every number x of the fresh output must be within the tolerance of
the committed number r at the same place, |x - r| <= abs or |x - r| <= rel*|r|
(either bound suffices; an omitted bound is 0). The printed numbers stay in the
rendered book, and the cell fails as soon as one leaves its tolerance.

CONTRIBUTING.md ("Reproducibility policy") says how to choose the tolerance
(from a measured spread) and when to use this marker. `make test-portability`
sets NBVAL_TOLERANCE_REPORT to a file, and every tolerance cell then appends the
largest deviation it saw, so the committed table shows how close each cell came
to its bound.

pytest loads this file for every notebook under book/, whether it runs from
`make test` or by hand, as README.md shows.
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass

import pytest

MARKER = "NBVAL_TOLERANCE"
# A number as a notebook prints it: 12, -0.031, 1.5e-07, .5 (thousands commas
# split a number into parts, which are then compared part by part).
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_BOUND = re.compile(r"^(abs|rel)=(\S+)$")


@dataclass(frozen=True)
class Tolerance:
    """The bound a tolerance cell's numbers are held to."""

    abs: float = 0.0
    rel: float = 0.0

    def allows(self, fresh: float, committed: float) -> bool:
        error = abs(fresh - committed)
        return error <= self.abs or error <= self.rel * abs(committed)


def parse_tolerance(source: str) -> Tolerance | None:
    """Read the `# NBVAL_TOLERANCE abs=... rel=...` line of a cell, or None.

    Raises ValueError for a marker line that cannot be read, so that a typo
    never silently turns a tolerance cell back into an exact one.
    """
    for line in source.splitlines():
        text = line.strip()
        if not text.startswith("#"):
            continue
        words = text.lstrip("#").split()
        if not words or words[0] != MARKER:
            continue
        bounds = {}
        for word in words[1:]:
            if word.startswith("("):
                break  # the rest of the line is an explanation
            match = _BOUND.match(word)
            if match is None:
                raise ValueError(f"{MARKER}: expected abs=NUMBER and/or rel=NUMBER, got {word!r} in {text!r}")
            try:
                value = float(match.group(2))
            except ValueError:
                raise ValueError(f"{MARKER}: {match.group(1)} must be a number, got {match.group(2)!r}") from None
            if not value >= 0:
                raise ValueError(f"{MARKER}: {match.group(1)} must be >= 0, got {value}")
            bounds[match.group(1)] = value
        if not bounds or max(bounds.values()) == 0:
            raise ValueError(f"{MARKER}: expected a positive abs= or rel= bound, got {text!r}")
        return Tolerance(**bounds)
    return None


def split_numbers(text: str) -> tuple[list[str], list[float]]:
    """Split a text into the pieces between numbers and the numbers themselves."""
    pieces, numbers, start = [], [], 0
    for match in NUMBER.finditer(text):
        pieces.append(text[start:match.start()])
        numbers.append(float(match.group()))
        start = match.end()
    pieces.append(text[start:])
    return pieces, numbers


def compare_within(fresh: str, committed: str, tolerance: Tolerance) -> tuple[bool, float, list[str]]:
    """Compare two texts number by number.

    Returns (passed, largest deviation as a fraction of the allowed one, problems).
    A fraction of 1.0 means a number sat exactly on its bound.
    """
    fresh_pieces, fresh_numbers = split_numbers(fresh)
    committed_pieces, committed_numbers = split_numbers(committed)
    if fresh_pieces != committed_pieces:
        return False, float("inf"), ["the text around the numbers differs"]
    problems, worst = [], 0.0
    for position, (x, r) in enumerate(zip(fresh_numbers, committed_numbers)):
        allowed = max(tolerance.abs, tolerance.rel * abs(r))
        error = abs(x - r)
        if error == 0:
            continue
        worst = max(worst, error / allowed if allowed > 0 else float("inf"))
        if not tolerance.allows(x, r):
            problems.append(f"number {position + 1}: got {x:g}, committed {r:g}, "
                            f"|difference| {error:.3g} > allowed {allowed:.3g}")
    return not problems, worst, problems


def _text_fields(output):
    """Yield (container, key) for every text field of one output that nbval compares."""
    if output.get("output_type") == "stream":
        yield output, "text"
    for key, value in output.get("data", {}).items():
        if isinstance(value, str) and not key.startswith("image/"):
            yield output["data"], key


def _report(item, worst: float, passed: bool, tolerance: Tolerance) -> None:
    path = os.environ.get("NBVAL_TOLERANCE_REPORT")
    if not path:
        return
    row = {"notebook": os.path.relpath(str(item.fspath)), "cell": item.cell_num, "abs": tolerance.abs,
           "rel": tolerance.rel, "worst_fraction_of_bound": worst if worst != float("inf") else None, "passed": passed}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")


def _install() -> None:
    from nbval.plugin import IPyNbCell

    exact_compare = IPyNbCell.compare_outputs
    if getattr(exact_compare, "_within_tolerance", False):
        return

    def compare_outputs(self, test, ref, skip_compare=None):
        tolerance = parse_tolerance(self.cell.source)
        if tolerance is None or len(test) != len(ref):
            return exact_compare(self, test, ref, skip_compare)
        # Where a fresh text agrees with the committed one within the tolerance,
        # hand nbval the committed text, so that nbval's own comparison checks
        # everything else (output types, images, order) as usual.
        test = copy.deepcopy(test)
        problems, worst = [], 0.0
        for fresh_output, committed_output in zip(test, ref):
            fresh_fields = list(_text_fields(fresh_output))
            committed_fields = dict((key, box[key]) for box, key in _text_fields(committed_output))
            for box, key in fresh_fields:
                if key not in committed_fields:
                    continue
                fresh_text = self.sanitize(box[key])
                committed_text = self.sanitize(committed_fields[key])
                passed, fraction, found = compare_within(fresh_text, committed_text, tolerance)
                worst = max(worst, fraction)
                if passed:
                    box[key] = committed_fields[key]
                problems.extend(f"{key}: {problem}" for problem in found)
        same = exact_compare(self, test, ref, skip_compare)
        _report(self, worst, same, tolerance)
        if problems:
            self.comparison_traceback.insert(0, f"{MARKER} abs={tolerance.abs:g} rel={tolerance.rel:g}:\n  "
                                             + "\n  ".join(problems))
        return same

    compare_outputs._within_tolerance = True
    IPyNbCell.compare_outputs = compare_outputs


def pytest_configure(config):
    if getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False):
        _install()
