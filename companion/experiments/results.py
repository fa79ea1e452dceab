"""Summaries of an experiment over seeds, and the JSON and Markdown files they are stored in.

Every per-seed result holds ``test``: {test set: {metric: value}}, or for runs that
compare several models on one test set {model: {metric: value}}. The summary gives,
for each (test set, metric), the mean, the minimum and the maximum over seeds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

DEFAULT_FOLDER = Path("benchmarks") / "results" / "experiments"  # where the command writes, from the repository root
#: The committed records, found from the package's own location (a notebook runs in its chapter's folder).
COMMITTED_FOLDER = Path(__file__).resolve().parents[2] / DEFAULT_FOLDER


def summarise(runs: list[dict]) -> dict:
    """{row: {metric: {"mean", "min", "max", "values"}}} over the seeds of ``runs`` (rows from ``run["test"]``)."""
    if not runs:
        raise ValueError("summarise needs at least one run; got none")
    rows = runs[0]["test"]
    summary = {}
    for row, metrics in rows.items():
        summary[row] = {}
        for metric in metrics:
            values = [float(run["test"][row][metric]) for run in runs]
            summary[row][metric] = {"mean": float(np.mean(values)), "min": min(values), "max": max(values),
                                    "values": values}
    return summary


def target_check(summary: dict, target: tuple | None) -> dict | None:
    """The target (test set, row, metric, bar) against the mean reached: reached, and the gap (mean - bar).

    ``row`` None means the test set's own row; a tuple of rows means the best mean among them (rows left
    out, such as an in-sample score, can never count). No target (None) gives None.
    """
    if target is None:
        return None
    test_set, rows, metric, bar = target
    if rows is None:
        row = test_set
    else:
        row = max(rows, key=lambda name: summary[name][metric]["mean"])
    mean = summary[row][metric]["mean"]
    return {"test_set": test_set, "row": row, "metric": metric, "bar": bar, "mean": mean,
            "reached": bool(mean >= bar), "gap": mean - bar}


def format_markdown(record: dict) -> str:
    """The committed table: one line per (row, metric) with mean and [min, max] over seeds, then the target."""
    prov = record["provenance"]
    machine = prov["machine"]
    seeds = ", ".join(str(seed) for seed in prov["seeds"])
    lines = [f"# {record['name']}{' (quick)' if record['quick'] else ''}", "", record["description"], "",
             "| test set / model | metric | mean | min | max |", "|---|---|---|---|---|"]
    for row, metrics in record["summary"].items():
        for metric, stats in metrics.items():
            if metric == "n":
                continue
            lines.append(f"| {row} | {metric} | {stats['mean']:.4f} | {stats['min']:.4f} | {stats['max']:.4f} |")
    target = record["target"]
    if target is None:
        verdict = "Target: none was set for this experiment."
    else:
        verdict = (f"Target: {target['metric']} >= {target['bar']} on {target['test_set']} ({target['row']}): "
                   f"mean {target['mean']:.4f}, {'reached' if target['reached'] else 'not reached'} "
                   f"(gap {target['gap']:+.4f}).")
    lines += ["", verdict, "",
              f"Seeds {seeds}; {prov['seconds_total']:.0f} s in all on {machine['cpu']} "
              f"({machine['cores_available']} cores, {machine['torch_threads']} PyTorch threads, "
              f"device {machine['device']}), {machine['date_utc']} UTC, commit {prov['git_commit']}.",
              f"Command: `{prov['command']}`", ""]
    return "\n".join(lines)


def result_paths(name: str, quick: bool, folder: Path = DEFAULT_FOLDER) -> tuple[Path, Path]:
    """``<folder>/<name>[_quick].json`` and ``.md``."""
    stem = f"{name}_quick" if quick else name
    folder = Path(folder)
    return folder / f"{stem}.json", folder / f"{stem}.md"


def write_record(record: dict, folder: Path = DEFAULT_FOLDER) -> tuple[Path, Path]:
    """Write the record as JSON and its Markdown table; returns both paths."""
    json_path, md_path = result_paths(record["name"], record["quick"], folder)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    md_path.write_text(format_markdown(record), encoding="utf-8")
    return json_path, md_path


def load_record(name: str, folder: Path = COMMITTED_FOLDER, quick: bool = False) -> dict:
    """A committed record; FileNotFoundError names the command that writes it."""
    json_path, _ = result_paths(name, quick, folder)
    if not json_path.is_file():
        raise FileNotFoundError(f"{json_path} does not exist; write it with "
                                f"`python -m companion experiments run {name}{' --quick' if quick else ''}`")
    return json.loads(json_path.read_text(encoding="utf-8"))
