"""The full-scale runs of chapter 17: the quick mode end to end, the summaries, and the committed records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.experiments.cli import main, run_experiment
from companion.experiments.provenance import git_commit
from companion.experiments.registry import EXPERIMENTS, get_experiment
from companion.experiments.results import COMMITTED_FOLDER, format_markdown, load_record, summarise, target_check

COMMITTED = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "experiments"


def test_the_notebooks_read_the_repositorys_committed_folder():
    # A notebook runs in its chapter's folder; the default must not depend on the working directory.
    assert COMMITTED_FOLDER == COMMITTED and COMMITTED_FOLDER.is_absolute()


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _runs():
    return [{"seed": s, "test": {"a": {"accuracy": acc, "n": 10}, "leak": {"accuracy": 0.99, "n": 10}}}
            for s, acc in ((0, 0.8), (1, 0.9), (2, 0.85))]


def test_summarise_gives_mean_and_range_over_seeds():
    summary = summarise(_runs())
    assert summary["a"]["accuracy"]["mean"] == pytest.approx(0.85)
    assert (summary["a"]["accuracy"]["min"], summary["a"]["accuracy"]["max"]) == (0.8, 0.9)
    assert summary["a"]["accuracy"]["values"] == [0.8, 0.9, 0.85]
    with pytest.raises(ValueError, match="at least one run"):
        summarise([])


def test_target_ignores_rows_outside_the_allowed_ones():
    summary = summarise(_runs())
    check = target_check(summary, ("test", ("a",), "accuracy", 0.9))  # "leak" scores 0.99 but may not count
    assert check["row"] == "a" and not check["reached"] and check["gap"] == pytest.approx(-0.05)
    assert target_check(summary, ("a", None, "accuracy", 0.8))["reached"]


def test_an_experiment_without_a_target_says_so():
    assert target_check(summarise(_runs()), None) is None
    record = {"name": "x", "quick": False, "description": "d", "summary": summarise(_runs()), "target": None,
              "provenance": {"seeds": [0, 1, 2], "seconds_total": 1.0, "git_commit": "abc", "command": "c",
                             "machine": {"cpu": "cpu", "cores_available": 2, "torch_threads": 1,
                                         "device": "cpu", "date_utc": "2026-12-05 00:00"}}}
    assert "Target: none was set for this experiment." in format_markdown(record)


def test_transfer_run_rejects_an_unknown_corpus():
    from companion.experiments.sentiment_runs import MINILM_QUICK, minilm_transfer_run

    with pytest.raises(ValueError, match="one of movie_reviews, tweets, amazon, nyt, chinese; got 'imdb'"):
        minilm_transfer_run(0, "imdb", ("tweets",), MINILM_QUICK)
    with pytest.raises(ValueError, match="got 'french'"):
        minilm_transfer_run(0, "tweets", ("nyt", "french"), MINILM_QUICK)


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(KeyError, match="minilm-film"):
        get_experiment("bert-large")
    with pytest.raises(SystemExit):
        main(["run", "bert-large"])
    with pytest.raises(ValueError, match="distinct"):
        run_experiment("minilm-film", [0, 0], quick=True)


def test_git_commit_outside_a_checkout_is_none(tmp_path):
    assert git_commit(tmp_path) is None
    commit = git_commit()
    assert commit is None or len(commit.split("+")[0]) == 40


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_quick_run_writes_a_record_with_provenance(name, tmp_path, capsys):
    assert main(["run", name, "--quick", "--seeds", "3", "--out", str(tmp_path), "--device", "cpu"]) == 0
    record = json.loads((tmp_path / f"{name}_quick.json").read_text(encoding="utf-8"))
    assert record["quick"] and record["provenance"]["seeds"] == [3]
    assert record["provenance"]["command"].startswith(f"python -m companion experiments run {name} --quick")
    assert record["provenance"]["machine"]["cores_available"] >= 1
    assert record["config"] == vars(EXPERIMENTS[name].quick) | {}
    run = record["runs"][0]
    for row, metrics in run["test"].items():
        assert 0 <= metrics["accuracy"] <= 1 and metrics["n"] > 0, row
    if name == "minilm-sources":  # one model per other source, each scored on the four English test splits
        assert len(run["test"]) == 12 and set(run["sources"]) == {"tweets", "amazon", "nyt"}
        assert all(source["n_train"] == EXPERIMENTS[name].quick.max_train for source in run["sources"].values())
    assert record["summary"] == summarise(record["runs"])
    printed = capsys.readouterr().out
    assert printed.startswith(f"# {name} (quick)") and "Target:" in printed
    assert (tmp_path / f"{name}_quick.md").read_text(encoding="utf-8") == format_markdown(record)


def test_load_record_names_the_command_when_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m companion experiments run minilm-film"):
        load_record("minilm-film", tmp_path)


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_committed_full_record_is_consistent(name):
    # The chapter prints these files; they must be full runs over 3 seeds whose summary and target
    # verdict follow from the per-seed numbers stored with them.
    record = load_record(name, COMMITTED)
    experiment = EXPERIMENTS[name]
    assert not record["quick"] and record["config"] == vars(experiment.full)
    assert len(record["runs"]) >= 3 and record["provenance"]["seeds"] == [run["seed"] for run in record["runs"]]
    assert record["summary"] == summarise(record["runs"])
    assert record["target"] == target_check(record["summary"], experiment.target)
    assert "+dirty" not in (record["provenance"]["git_commit"] or ""), "a full run must be made from a commit"
    assert (COMMITTED / f"{name}.md").read_text(encoding="utf-8") == format_markdown(record)
