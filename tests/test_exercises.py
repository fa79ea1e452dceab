"""companion.exercises: the checks accept the book's own solutions and refuse wrong answers;
the student notebooks of `make exercises` hold no solution text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from companion.exercises import ANSWERS, BY_EXERCISE, check
from companion.exercises.student import (
    NUMBER,
    STUDENT_NOTE,
    chapter_exercises,
    chapter_number,
    exercises_section,
    main,
    student_notebook,
    write_student_notebooks,
)

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTERS = sorted(BOOK.glob("part*/ch*.ipynb"))


def _notebook(chapter: int) -> dict:
    (path,) = [p for p in CHAPTERS if chapter_number(p) == chapter]
    return json.loads(path.read_text(encoding="utf-8"))


def _solution(exercise: str) -> str:
    chapter, number = exercise[2:].split(".")
    return chapter_exercises(_notebook(int(chapter)))[int(number) - 1].solution


# The numbers of each checked exercise as its solution in the book prints them, in order.
# The test finds each string in the solution text and hands the numbers to check().
QUOTED = {
    "ch01.1": ["100{,}480"],
    "ch01.6": ["$\\sigma'(0) = 0.25$", "\\approx 0.0066$", "\\approx 4.5 \\times 10^{-5}$"],
    "ch02.4": ["\\approx -0.693$", "\\approx 0.296$"],
    "ch04.1": ["contraction $4/6 \\approx 0.667$", "$24/26 \\approx 0.923$"],
    "ch05.1": ["= 0.505$", "\\approx 0.0198$"],
    "ch05.2": ["= 0.95$", "\\approx 0.161$"],
    "ch05.6": ["$p \\approx 0.081$", "$p \\approx 0.44$"],
    "ch06.4": ["= 10^{-6}$", "$\\eta_{999} = 10^{-3}$", "$\\eta_{1000} = 10^{-3}$", "$\\eta = 0.5 \\times 10^{-3}$"],
    "ch08.2": ["= 8320$", "8,448"],
    "ch09.2": ["= 591{,}360$"],
    "ch09.4": ["6 GiB"],
    "ch10.4": ["56{,}669{,}184$"],
    "ch11.4": ["$14{,}832{,}768$"],
    "ch12.2": ["= 16$ GiB"],
    "ch12.3": ["4 GiB instead"],
    "ch13.4": ["$257$ lies"],
    "ch14.1": ["$50/48 \\approx 1.042$", "$50/52 \\approx 0.962$"],
    "ch14.3": ["= 512$", "(8 all-reduces", "(1 all-reduce)"],
    "ch14.4": ["$3/7 \\approx 0.429$", "$3/35 \\approx 0.086$"],
    "ch14.5": ["$N = 6$"],
    "ch15.3": ["density below about 0.50", "density below about 0.33"],
    "ch16.2": ["$\\rho \\le 0.45$"],
    "ch16.3": ["= 6.8$", "\n18.2$", "= 41$"],
    "ch17.1": ["= 0.85 - 0.62 = 0.23$", "= 0.80 - 0.58 = 0.22$"],
    "ch17.2": ["= 2(1 - 0.15) = 1.7$", "= 2(1 - 0.9) = 0.2$"],
    "ch17.3": ["= 0.48 / 0.96 = 0.5$", "= 0.6087$"],
    "ch17.4": ["= 91 / 325 = 0.28$"],
    "ch18.1": ["= 112$", "= 56$", "= 9{,}472$"],
    "ch19.1": ["= 0.2$", "= 0.01$"],
    "ch19.2": ["= 0.0876$", "= 0.9994$"],
    "ch19.3": ["= 5/12 = 0.4167$", "= 0$"],
    "ch19.4": ["= -2.7726$", "= -2.4849$"],
    "ch20.1": ["+ 1 = 12$", "= 19$"],
    "ch20.2": ["= 23 / 100 = 0.23$", "= 3.848$"],
    "ch20.3": ["= 2 / (2 + 10) = 0.1667$", "= 1 / (1 + 4) = 0.2$"],
    "ch20.4": ["\\Delta_{\\mathrm{DP}} = 0.048$", "\\Delta_{\\mathrm{EO}} = 0.0028$"],
}
# Answers printed in a form the number reader cannot take, checked by recomputing them below.
RECOMPUTED = {"ch03.6", "ch09.3", "ch13.3"}


def book_number(text: str) -> float:
    """The last number written in a piece of the book's text: 100{,}480, 8,448, 4.5 \\times 10^{-5}, 10^{-3}."""
    plain = text.replace("{,}", "").replace("\\,", "")
    plain = re.sub(r"(?<=\d),(?=\d{3})", "", plain)
    pattern = r"(-?\d+(?:\.\d+)?)?\s*(?:\\times\s*)?(?:10\^\{(-?\d+)\})?"
    found = [m for m in re.finditer(pattern, plain) if m.group(1) or m.group(2)]
    if not found:
        raise ValueError(f"no number in {text!r}")
    mantissa, exponent = found[-1].group(1), found[-1].group(2)
    if exponent is None:
        return float(mantissa)
    return (float(mantissa) if mantissa else 1.0) * 10.0 ** int(exponent)


def test_book_number_reads_the_forms_the_solutions_use():
    assert book_number("100{,}480") == 100480
    assert book_number("8,448") == 8448
    assert book_number("\\approx 4.5 \\times 10^{-5}$") == pytest.approx(4.5e-5)
    assert book_number("$\\eta_{999} = 10^{-3}$") == pytest.approx(1e-3)
    assert book_number("\\approx -0.693$") == -0.693
    with pytest.raises(ValueError, match="no number"):
        book_number("none here")


def test_every_chapter_numbers_its_exercises_one_two_three():
    """The ids chNN.K count the exercises in order: each exercise's printed number must be K."""
    for path in CHAPTERS:
        exercises = chapter_exercises(json.loads(path.read_text(encoding="utf-8")))
        assert exercises, f"{path.name} has no exercises"
        printed = []
        for exercise in exercises:
            match = NUMBER.match(exercise.question)
            printed.append(int(match.group(1) or match.group(2)) if match else None)
        assert printed == list(range(1, len(exercises) + 1)), f"{path.name}: exercises numbered {printed}"


def test_every_answer_points_to_an_exercise_of_the_book():
    for answer in ANSWERS:
        chapter, number = answer.exercise[2:].split(".")
        assert 1 <= int(number) <= len(chapter_exercises(_notebook(int(chapter)))), answer.exercise
    assert set(QUOTED) | RECOMPUTED == set(BY_EXERCISE)


@pytest.mark.parametrize("exercise", sorted(QUOTED))
def test_the_book_solution_passes_its_check(exercise, capsys):
    solution = _solution(exercise)
    numbers = []
    for quoted in QUOTED[exercise]:
        assert quoted in solution, f"{exercise}: the solution no longer prints {quoted!r}"
        numbers.append(book_number(quoted))
    verdict = check(exercise, numbers)
    assert verdict.right, verdict.message
    assert capsys.readouterr().out.strip() == verdict.message


def test_recomputed_answers_pass_their_checks():
    import torch

    from companion.attention.masks import causal_mask
    from companion.scaling.measure import count_matmul_flops

    assert check("ch09.3", causal_mask(2, 7).astype(int))
    layer, x = torch.nn.Linear(64, 32), torch.zeros(10, 64)
    forward, _ = count_matmul_flops(lambda: layer(x))
    x_grad = torch.zeros(10, 64, requires_grad=True)
    both, _ = count_matmul_flops(lambda: layer(x_grad).sum().backward())
    weights_only, _ = count_matmul_flops(lambda: layer(x).sum().backward())
    assert check("ch13.3", [forward, both, weights_only])


def test_library_functions_agree_with_the_key():
    from companion.distributed.memory import pipeline_bubble_fraction
    from companion.nn.conv import conv2d_parameter_count
    from companion.optim.schedules import warmup_cosine

    assert check("ch14.4", [pipeline_bubble_fraction(4, 4), pipeline_bubble_fraction(4, 32)])
    assert check("ch18.1", [112, 56, conv2d_parameter_count(3, 64, 7)])
    from companion.metrics.transfer import correct_for_label_shift, proxy_a_distance, transfer_gap

    gap = transfer_gap([[0.80, 0.62], [0.58, 0.85]])
    assert check("ch17.1", [gap[0, 1], gap[1, 0]])
    assert check("ch17.2", [proxy_a_distance(45 / 600), proxy_a_distance(330 / 600)])
    corrected = correct_for_label_shift([[0.4, 0.6], [0.3, 0.7]], [0.5, 0.5], [0.6, 0.4])
    assert check("ch17.3", list(corrected[:, 1]))
    rates = [warmup_cosine(t, 1e-3, warmup_steps=1000, total_steps=10_000) for t in (0, 999, 1000, 5500)]
    assert check("ch06.4", rates)


def test_the_book_leaky_relu_passes_and_a_wrong_backward_fails():
    match = re.search(r"```python\n(.*?)```", _solution("ch03.6"), re.S)
    namespace: dict = {}
    exec(compile(match.group(1), "solution 3.6", "exec"), namespace)
    assert check("ch03.6", namespace["LeakyReLU"])
    Right = namespace["LeakyReLU"]

    class WrongBackward(Right):
        def backward(self, grad_out):
            return grad_out  # forgets the slope alpha on the negative side

    verdict = check("ch03.6", WrongBackward)
    assert not verdict and "backward" in verdict.message
    assert not check("ch03.6", Right(0.1))  # an instance, not the class
    assert "class itself" in check("ch03.6", Right(0.1)).message


@pytest.mark.parametrize("answer", [a for a in ANSWERS if a.kind in ("numbers", "integers")], ids=lambda a: a.exercise)
def test_a_wrong_answer_fails_without_revealing_the_right_one(answer, capsys):
    expected = list(answer.expected)
    for position in range(len(expected)):
        wrong = list(expected)
        off = 1 if answer.kind == "integers" else 3 * max(answer.rel * abs(wrong[position]), answer.abs)
        wrong[position] += off
        verdict = check(answer.exercise, wrong)
        assert not verdict, (answer.exercise, wrong)
        # what the message may hold besides the answer: the exercise, the position, the tolerance
        shown = re.sub(r"Exercise [\d.]+|value [\d, ]+ of \d+|\(within [^)]*\)", "", capsys.readouterr().out)
        for value in expected:  # the message names no expected value, in any usual format
            for form in (repr(value), f"{value:g}", f"{value:.3g}"):
                assert form not in shown, (form, shown)
    assert not check(answer.exercise, expected + [1.0])  # one value too many
    assert not check(answer.exercise, ["a"] * len(expected))
    assert not check(answer.exercise, [float("nan")] * len(expected))
    assert "replace ..." in check(answer.exercise, ...).message


def test_integers_must_be_whole_and_arrays_the_right_shape():
    assert "whole number" in check("ch13.4", 257.5).message
    assert check("ch13.4", np.int64(257)) and check("ch13.4", 257.0)
    assert "shape (2, 7)" in check("ch09.3", np.ones((7, 2))).message
    assert "1 of 14 entries" in check("ch09.3", np.ones((2, 7))).message


def test_an_unknown_exercise_is_refused_with_the_list_of_checks():
    with pytest.raises(KeyError, match="no check for exercise 'ch04.9'.*ch01.1"):
        check("ch04.9", 1.0)


def test_student_notebooks_hold_no_solution_and_a_check_for_each_checked_exercise(tmp_path, capsys):
    assert main(["--out", str(tmp_path)]) == 0
    assert f"{len(CHAPTERS)} student notebooks" in capsys.readouterr().out
    for path in CHAPTERS:
        original = json.loads(path.read_text(encoding="utf-8"))
        student = json.loads((tmp_path / path.relative_to(BOOK)).read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in student["cells"])
        _, section = exercises_section(student["cells"][1:])
        exercises_text = "\n".join(c["source"] for c in section)
        assert "{admonition} Solution" not in text and "Solution" not in text, path.name
        for exercise in chapter_exercises(original):
            for line in exercise.solution.splitlines():
                # every distinctive line of every solution is gone (short lines like "```" may recur)
                if len(line.strip()) > 30 and line.strip() not in exercise.question:
                    assert line.strip() not in exercises_text, (path.name, exercise.number, line)
            assert exercise.question.splitlines()[0] in text  # ... and every question stays
        chapter = chapter_number(path)
        for answer in ANSWERS:
            if answer.exercise.startswith(f"ch{chapter:02d}."):
                assert f'check("{answer.exercise}", answer)' in text
        before, _ = exercises_section(original["cells"])
        assert student["cells"][0]["source"] == STUDENT_NOTE
        assert [c["source"] for c in student["cells"][1:len(before) + 1]] == [c["source"] for c in before]
        assert all(c.get("outputs", []) == [] for c in section if c["cell_type"] == "code")


def test_a_work_cell_runs_and_asks_for_the_answer(tmp_path, capsys):
    notebook = student_notebook(_notebook(14), 14)
    (cell,) = [c for c in notebook["cells"] if 'check("ch14.4"' in c["source"]]
    namespace: dict = {}
    exec(cell["source"].replace("from companion.exercises import check\n", ""), {"check": check}, namespace)
    assert "replace ... with your answer: the bubble fraction" in capsys.readouterr().out
    work = [c["source"] for c in notebook["cells"] if isinstance(c["source"], str) and 'check("' in c["source"]]
    assert len(work) == 4 and max(len(line) for source in work for line in source.splitlines()) <= 79


def test_write_student_notebooks_refuses_a_folder_without_chapters(tmp_path):
    assert write_student_notebooks(tmp_path, tmp_path / "out") == []
    with pytest.raises(SystemExit):
        main(["--book", str(tmp_path), "--out", str(tmp_path / "out")])
