"""Repeated benchmark runs: the median of each number and its spread (book chapter 13).

One run of a benchmark on a shared machine can be off by a factor of two or more
(another process takes a core for a while). The harness therefore repeats the
whole benchmark ``runs`` times and reports, for every measured number, the
median over the runs and the range [min, max] it took. Runs are combined row by
row: the rows of every run must describe the same configurations (the same
non-numeric fields and the same sizes), only the measurements may differ.
"""

from __future__ import annotations

import statistics

SPREAD_KEY = "spread"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def combine_runs(runs: list[list[dict]]) -> list[dict]:
    """Combine the rows of several runs of one benchmark into median rows with a spread.

    Every numeric field that differs between runs becomes the median over the
    runs, and ``row["spread"][field] = [min, max]``; fields equal in every run
    (sizes, names) are kept as they are. One run is returned unchanged.

    Raises:
        ValueError: no runs, or runs whose rows do not describe the same
            configurations (a different number of rows, different keys, or
            different non-numeric values).
    """
    if not runs:
        raise ValueError("runs must hold at least one run's rows; got none")
    if len(runs) == 1:
        return [dict(row) for row in runs[0]]
    lengths = {len(rows) for rows in runs}
    if len(lengths) != 1:
        raise ValueError(f"every run must have the same number of rows; got {sorted(lengths)}")
    combined = []
    for index, rows in enumerate(zip(*runs)):
        keys = [tuple(row) for row in rows]
        if len(set(keys)) != 1:
            raise ValueError(f"row {index}: the runs have different fields: {sorted(set(keys))}")
        out, spread = {}, {}
        for key in rows[0]:
            values = [row[key] for row in rows]
            if all(_is_number(v) for v in values) and len(set(values)) > 1:
                out[key] = statistics.median(values)
                spread[key] = [min(values), max(values)]
            elif all(v == values[0] for v in values) or all(v is None for v in values):
                out[key] = values[0]
            elif any(v is None for v in values) and all(v is None or _is_number(v) for v in values):
                numbers = [v for v in values if v is not None]
                out[key] = statistics.median(numbers)
                spread[key] = [min(numbers), max(numbers)]
            else:
                raise ValueError(f"row {index}: field {key!r} describes different configurations: {values}")
        if spread:
            out[SPREAD_KEY] = spread
        combined.append(out)
    return combined


def relative_spread(row: dict, key: str) -> float | None:
    """(max - min) / median of one field of a combined row, or None if it did not vary."""
    bounds = row.get(SPREAD_KEY, {}).get(key)
    if bounds is None or not row.get(key):
        return None
    return (bounds[1] - bounds[0]) / abs(row[key])
