"""Combining repeated benchmark runs: medians and [min, max] (companion.bench.repeat)."""

import pytest

from companion.bench import suite
from companion.bench.repeat import combine_runs, relative_spread


def _run(ms, name="a"):
    return [{"name": name, "size": 32, "ms": ms, "ratio": ms / 2}]


def test_median_and_range_of_varying_fields():
    rows = combine_runs([_run(3.0), _run(1.0), _run(2.0)])
    assert rows == [{"name": "a", "size": 32, "ms": 2.0, "ratio": 1.0,
                     "spread": {"ms": [1.0, 3.0], "ratio": [0.5, 1.5]}}]
    assert relative_spread(rows[0], "ms") == pytest.approx(1.0)
    assert relative_spread(rows[0], "size") is None


def test_one_run_is_returned_unchanged():
    assert combine_runs([_run(3.0)]) == _run(3.0)


def test_runs_of_different_configurations_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        combine_runs([])
    with pytest.raises(ValueError, match="same number of rows"):
        combine_runs([_run(1.0), _run(1.0) + _run(2.0)])
    with pytest.raises(ValueError, match="different configurations"):
        combine_runs([_run(1.0, "a"), _run(1.0, "b")])
    with pytest.raises(ValueError, match="different fields"):
        combine_runs([_run(1.0), [{"name": "a"}]])


def test_markdown_shows_median_and_range():
    table = suite.rows_to_markdown(combine_runs([_run(3.0), _run(1.0), _run(2.0)]))
    assert "spread" not in table.splitlines()[0]
    assert "| a | 32 | 2.000 [1.000–3.000] | 1.000 [0.500–1.500] |" in table


def test_run_suite_repeats_and_records_the_load_after_each_run():
    results = suite.run_suite(quick=True, device="cpu", only=["lstm"], runs=2)
    assert results["machine"]["runs"] == 2
    assert len(results["machine"]["load_average_1m_after_each_run"]) == 2
    row = results["benchmarks"][0]["rows"][0]
    assert row["ms_per_step"] > 0
    low, high = row["spread"]["ms_per_step"]
    assert low <= row["ms_per_step"] <= high
    with pytest.raises(ValueError, match="positive int"):
        suite.run_suite(quick=True, device="cpu", only=["lstm"], runs=0)
