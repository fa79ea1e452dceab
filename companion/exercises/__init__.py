"""Checks for the book's exercises, and the student notebooks of ``make exercises``.

``from companion.exercises import check``, then ``check("ch04.1", answer)``
says whether an answer is right (:mod:`companion.exercises.check`; the answer
key is :mod:`companion.exercises.answers`). :mod:`companion.exercises.student`
writes each chapter without its solutions (``python -m companion exercises``).
"""

from companion.exercises.answers import ANSWERS, BY_EXERCISE, Answer
from companion.exercises.check import Verdict, check

__all__ = ["ANSWERS", "Answer", "BY_EXERCISE", "Verdict", "check"]
