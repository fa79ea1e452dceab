"""Wall time and peak memory of every chapter, executed top to bottom.

Every chapter must run within 90 s on 2 quiet CPU cores (CONTRIBUTING.md), and a
time stated in a chapter's prose must match this table. Each notebook is executed
with nbconvert in a fresh process, into a temporary copy (the committed outputs
are not touched), --repeats times:

    python benchmarks/notebook_budget.py                 # every chapter, 1 run each
    python benchmarks/notebook_budget.py --repeats 3 book/part2/ch10_transformer.ipynb

Peak memory is the largest resident set of any one process of the run (the
kernel, or a worker it started), from getrusage(RUSAGE_CHILDREN) of a fresh
process per run. The load average at the start of each run is recorded, so a
reader can see whether the machine was quiet. Results go to
benchmarks/results/notebook_budget.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BUDGET_S = 90.0

# Run in a child so that RUSAGE_CHILDREN covers this notebook's processes only.
_CHILD = r"""
import json, resource, subprocess, sys, time
notebook, out = sys.argv[1], sys.argv[2]
start = time.perf_counter()
done = subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                       "--ExecutePreprocessor.timeout=900", "--output", out, notebook],
                      capture_output=True, text=True)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "peak_mib": peak_kib / 1024, "returncode": done.returncode,
                  "stderr": done.stderr[-2000:]}))
"""


def measure(notebook: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        load = os.getloadavg()[0]
        out = Path(tmp) / notebook.name
        completed = subprocess.run([sys.executable, "-c", _CHILD, str(notebook), str(out)],
                                   cwd=notebook.parent, capture_output=True, text=True, check=True)
        row = json.loads(completed.stdout.strip().splitlines()[-1])
        row["load_at_start"] = load
        if row["returncode"] != 0:
            raise RuntimeError(f"{notebook.name} failed to execute:\n{row['stderr']}")
        return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per notebook (default 1)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--merge", action="store_true", help="keep the committed rows of chapters not run now")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    paths = [Path(p).resolve() for p in args.paths] or sorted((ROOT / "book").glob("part*/*.ipynb"))
    rows = []
    for path in paths:
        runs = [measure(path) for _ in range(args.repeats)]
        seconds = [r["seconds"] for r in runs]
        row = {"notebook": path.stem, "median_s": statistics.median(seconds), "min_s": min(seconds),
               "max_s": max(seconds), "peak_mib": max(r["peak_mib"] for r in runs),
               "load_at_start": max(r["load_at_start"] for r in runs), "repeats": args.repeats,
               "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
        rows.append(row)
        flag = "" if row["median_s"] <= BUDGET_S else "  OVER BUDGET"
        print(f"{path.stem:36s} {row['median_s']:6.1f} s (min {row['min_s']:.1f}, max {row['max_s']:.1f})  "
              f"peak {row['peak_mib']:6.0f} MiB  load {row['load_at_start']:.2f}{flag}", flush=True)
    if not args.no_write:
        if args.merge and (RESULTS / "notebook_budget.json").exists():
            old = json.loads((RESULTS / "notebook_budget.json").read_text(encoding="utf-8"))["rows"]
            fresh = {r["notebook"] for r in rows}
            rows = sorted([r for r in old if r["notebook"] not in fresh] + rows, key=lambda r: r["notebook"])
        write(rows)
    return 0 if all(r["median_s"] <= BUDGET_S for r in rows) else 1


def write(rows: list[dict]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    dates = sorted(r.get("date", "") for r in rows)
    now = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    lines = ["# Time and memory budget of each chapter", "",
             f"Measured by `python benchmarks/notebook_budget.py` on {now}: {model}, {os.cpu_count()} logical "
             f"CPUs, no GPU, Python {platform.python_version()}. Each notebook executed top to bottom with "
             "nbconvert in a fresh kernel; seconds are wall time including the kernel's start; peak memory is "
             "the largest resident set of one process; load is the 1-minute load average at the start of a "
             f"run (the largest over the repeats). The budget is {BUDGET_S:.0f} s per chapter.", "",
             "| chapter | median s | min s | max s | runs | peak MiB | load at start | within budget |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['notebook']} | {r['median_s']:.1f} | {r['min_s']:.1f} | {r['max_s']:.1f} | "
                     f"{r['repeats']} | {r['peak_mib']:.0f} | {r['load_at_start']:.2f} | "
                     f"{'yes' if r['median_s'] <= BUDGET_S else 'NO'} |")
    (RESULTS / "notebook_budget.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "notebook_budget.json").write_text(json.dumps({"written": now, "cpu": model, "rows": rows},
                                                             indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
