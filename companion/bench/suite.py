"""The benchmark suite behind ``python -m companion bench`` (book chapter 13).

:func:`run_suite` runs a fixed list of benchmarks, each a function in its own
module that returns a list of rows (dicts) and never prints:

====================  =========================================================
``mlp``               NumPy versus PyTorch MLP training step on the CPU (:mod:`companion.bench.mlp`)
``attention``         written-out attention versus ``scaled_dot_product_attention``
                      (:mod:`companion.bench.attention`, chapter 9)
``lstm``              LSTM training-step throughput (:mod:`companion.bench.lstm`)
``transformer``       GPT training throughput in tokens/s, and MFU on a known GPU
                      (:mod:`companion.bench.transformer`)
====================  =========================================================

The results are a JSON-ready dict ``{"schema", "mode", "machine", "benchmarks", "mfu"}``;
:func:`format_markdown` renders them, :func:`write_results` saves
``bench_<device>[_quick].json`` and ``.md``, and :func:`read_results` loads a
saved file back. Non-finite numbers are stored as null, so the JSON is strict.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

SCHEMA = 1
BENCHMARKS = ("mlp", "attention", "lstm", "transformer")
TITLES = {
    "mlp": "MLP training step, NumPy versus PyTorch (CPU, float32)",
    "attention": "Attention: written out versus scaled_dot_product_attention (forward, no grad)",
    "lstm": "LSTM training step (PyTorch)",
    "transformer": "Transformer (GPT) training step: throughput and MFU",
}
MFU_NOT_MEASURED = "MFU: not measured (no GPU)"


def _run_one(name: str, quick: bool, device, progress):
    if name == "mlp":
        from companion.bench.mlp import mlp_benchmark

        if quick:
            return mlp_benchmark(((64, 128, 10), (784, 256, 256, 10)), (32,), thread_counts=[1],
                                 warmup=1, rounds=2, per_round=2, progress=progress)
        return mlp_benchmark(progress=progress)
    if name == "attention":
        from companion.bench.attention import attention_benchmark

        if device.type == "cuda":
            return attention_benchmark(device=device, quick=quick)
        seq_lens = (64, 128) if quick else (128, 256, 512, 1024, 2048)
        return attention_benchmark(seq_lens, device=device, quick=quick)
    if name == "lstm":
        from companion.bench.lstm import FULL_SHAPES, QUICK_SHAPES, lstm_benchmark

        if quick:
            return lstm_benchmark(QUICK_SHAPES, device=device, warmup=1, repeats=3, progress=progress)
        return lstm_benchmark(FULL_SHAPES, device=device, progress=progress)
    if name == "transformer":
        from companion.bench.transformer import transformer_suite

        return transformer_suite(quick=quick, device=device, progress=progress)
    raise ValueError(f"benchmark must be one of {BENCHMARKS}; got {name!r}")


def _clean(value):
    """JSON-ready copy: non-finite floats become None, tuples lists, numpy scalars Python numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def mfu_summary(results: dict) -> str:
    """One line on MFU: the best measured value and its distance from 40 %, or why there is none."""
    rows = [row for row in _benchmark(results, "transformer").get("rows", []) if row.get("mfu") is not None]
    machine = results.get("machine", {})
    if machine.get("device") != "cuda":
        return MFU_NOT_MEASURED
    if not rows:
        gpu = machine.get("gpu") or "this GPU"
        return f"MFU: not reported ({gpu} has no datasheet peak in companion.bench.machine.PEAK_FLOPS)"
    best = max(rows, key=lambda row: row["mfu"])
    gap = best["mfu"] - 0.40
    verdict = "meets" if gap >= 0 else "falls short of"
    return (f"MFU: {best['mfu']:.1%} ({best['profile']}, {best['dtype']}, compiled={best['compiled']}), "
            f"{abs(gap) * 100:.1f} percentage points {'above' if gap >= 0 else 'below'} the 40 % target: "
            f"it {verdict} the target")


def _benchmark(results, name):
    for entry in results.get("benchmarks", []):
        if entry.get("name") == name:
            return entry
    return {}


def run_suite(*, quick: bool = False, device=None, only=None, progress=None, note: str = "", runs: int = 1) -> dict:
    """Run the suite; return the results dict (see the module docstring).

    Args:
        quick: small sizes and few repeats (for CI: well under a minute on 2 CPU cores).
        device: torch device or name (default ``companion.get_device()``); the MLP
            benchmark always runs on the CPU.
        only: names from :data:`BENCHMARKS` to run (default all).
        progress: optional callable receiving progress lines.
        note: free text stored with the machine description.
        runs: how many times the whole suite is run, one pass after another; every
            measured number is then the median over the passes, with its range
            (:func:`companion.bench.repeat.combine_runs`).

    A benchmark that raises is recorded with its error message instead of rows,
    so one broken benchmark does not hide the others.
    """
    import torch

    from companion.bench.machine import describe_machine
    from companion.bench.repeat import combine_runs
    from companion.checks import check_positive_int
    from companion.device import get_device

    if not isinstance(quick, bool):
        raise TypeError(f"quick must be a bool; got {type(quick).__name__}")
    runs = check_positive_int(runs, "runs")
    names = BENCHMARKS if only is None else tuple(only)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        raise ValueError(f"only must name benchmarks from {BENCHMARKS}; got {list(names)}")
    device = torch.device(device) if device is not None else get_device()
    machine = describe_machine(device)
    if note:
        machine["note"] = note
    machine["runs"] = runs
    results = {"schema": SCHEMA, "mode": "quick" if quick else "full", "machine": machine, "benchmarks": []}
    per_run = {name: [] for name in names}
    errors = {name: None for name in names}
    seconds = {name: 0.0 for name in names}
    loads = []
    for run in range(runs):
        for name in names:
            if errors[name]:
                continue
            if progress is not None and runs > 1:
                progress(f"run {run + 1} of {runs}: {name}")
            start = time.perf_counter()
            try:
                per_run[name].append(_run_one(name, quick, device, progress))
            except Exception as exc:  # recorded in the results, not swallowed
                errors[name] = f"{type(exc).__name__}: {exc}"
            seconds[name] += time.perf_counter() - start
        try:
            loads.append(round(os.getloadavg()[0], 2))
        except OSError:
            loads.append(None)
    for name in names:
        entry = {"name": name, "title": TITLES[name], "rows": [], "error": errors[name], "seconds": seconds[name]}
        if not errors[name]:
            entry["rows"] = combine_runs(per_run[name])
        results["benchmarks"].append(entry)
    machine["load_average_1m_after"] = loads[-1]
    machine["load_average_1m_after_each_run"] = loads
    results["mfu"] = mfu_summary(results)
    return _clean(results)


def _format_value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        magnitude = abs(value)
        if magnitude >= 1000:
            return f"{value:,.0f}"
        if magnitude >= 10:
            return f"{value:.1f}"
        if magnitude >= 0.01:
            return f"{value:.3f}"
        return f"{value:.2e}"
    return str(value)


def _format_cell(row: dict, column: str) -> str:
    value = _format_value(row.get(column))
    bounds = row.get("spread", {}).get(column)
    if bounds is not None:
        value += f" [{_format_value(bounds[0])}–{_format_value(bounds[1])}]"
    return value


def rows_to_markdown(rows, columns=None) -> str:
    """A Markdown table of ``rows`` (dicts); columns default to the first row's keys.

    A number that was measured over several runs shows as ``median [min–max]``.
    """
    if not rows:
        return "(no rows)"
    columns = [c for c in (columns or rows[0].keys()) if c != "spread"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_format_cell(row, col) for col in columns) + " |")
    return "\n".join(lines)


def format_markdown(results: dict) -> str:
    """Render a results dict as a Markdown document: machine, one table per benchmark, MFU line."""
    machine = results["machine"]
    lines = [
        f"# Benchmark results ({results['mode']} mode, device {machine['device']})",
        "",
        "Produced by `python -m companion bench" + (" --quick" if results["mode"] == "quick" else "") + "`.",
        ("Times are medians over repeated steps after warm-up; rows are single runs, not averages over runs."
         if machine.get("runs", 1) == 1 else
         f"Times are medians over repeated steps after warm-up, in each of {machine['runs']} runs of the whole "
         "suite one after another; each number is the median over the runs, followed by [min–max] over them."),
        "",
        f"- date (UTC): {machine['date_utc']}",
        f"- CPU: {machine['cpu']}; {machine['cores_available']} core(s) available; "
        f"PyTorch {machine['torch_threads']} thread(s)",
        f"- Python {machine['python']}, NumPy {machine['numpy']}, PyTorch {machine['torch']} on {machine['platform']}",
        f"- GPU: {machine['gpu'] or 'none'}" + (f" ({machine['gpu_memory_gib']} GiB)" if machine.get("gpu") else ""),
        f"- load average (1 min) before / after: {machine['load_average_1m']} / "
        f"{machine.get('load_average_1m_after')}"
        + (f" (after each run: {', '.join(map(str, machine['load_average_1m_after_each_run']))})"
           if machine.get("runs", 1) > 1 else ""),
    ]
    if machine.get("note"):
        lines.append(f"- note: {machine['note']}")
    lines += ["", f"**{results['mfu']}**", ""]
    for entry in results["benchmarks"]:
        lines += [f"## {entry['title']}", ""]
        if entry.get("error"):
            lines.append(f"Not run: {entry['error']}")
        else:
            rows = entry["rows"]
            columns = [c for c in (rows[0].keys() if rows else []) if c not in ("device", "memory_method")]
            lines.append(rows_to_markdown(rows, columns))
            methods = {row.get("memory_method") for row in rows if row.get("memory_method")}
            if methods:
                lines += ["", f"Memory columns measured by: {', '.join(sorted(methods))}."]
        lines.append("")
    return "\n".join(lines)


def _results_stem(results: dict) -> str:
    """File stem: ``bench_<device>`` for a full run, ``bench_<device>_quick`` for a quick one."""
    stem = f"bench_{results['machine']['device']}"
    return stem + ("_quick" if results["mode"] == "quick" else "")


def write_results(results: dict, out_dir) -> tuple[Path, Path]:
    """Write ``<stem>.json`` (strict JSON) and ``<stem>.md`` into ``out_dir``; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = _results_stem(results)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(_clean(results), indent=1, allow_nan=False) + "\n", encoding="utf-8")
    md_path.write_text(format_markdown(results), encoding="utf-8")
    return json_path, md_path


def read_results(path) -> dict:
    """Load a results JSON written by :func:`write_results`; check its schema."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no benchmark results at {path}; run `python -m companion bench` first")
    results = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(results, dict) or results.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a schema-{SCHEMA} benchmark results file; got schema "
                         f"{results.get('schema') if isinstance(results, dict) else type(results).__name__}")
    return results
