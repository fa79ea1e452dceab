"""nbval over the book under configurations that change floating-point results.

A reader's machine differs from the one that wrote the committed outputs: another
CPU and vector unit, another thread count, another BLAS kernel. This script
imitates those differences on one machine, with the switches each library
offers, and runs nbval over every notebook under each of them:

    python tests/portability.py                       # every configuration
    python tests/portability.py --configs avx2 threads-1 book/part1/ch06_regularisation.ipynb

It writes benchmarks/results/portability.md (configuration x notebook: pass or
fail, seconds) and portability.json, with, for every NBVAL_TOLERANCE cell, the
largest deviation it saw as a fraction of its bound (book/conftest.py); with
--merge, the committed records of the configurations and notebooks not run now
are kept. It exits non-zero when any configuration fails. `make
test-portability` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _threads(n: int) -> dict[str, str]:
    n = str(n)
    return {"OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
            "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n}


# Each configuration is a set of environment variables read by the libraries at
# start-up. What each one changes:
CONFIGS: dict[str, tuple[str, dict[str, str]]] = {
    "threads-1": ("NumPy, PyTorch and TensorFlow on 1 thread (other reduction splits)", _threads(1)),
    "threads-2": ("the same on 2 threads", _threads(2)),
    "aten-default": ("PyTorch's non-vectorised CPU kernels (ATEN_CPU_CAPABILITY=default)",
                     {"ATEN_CPU_CAPABILITY": "default"}),
    "openblas-haswell": ("NumPy's OpenBLAS with its Haswell (AVX2) kernels instead of the AVX-512 ones",
                         {"OPENBLAS_CORETYPE": "Haswell"}),
    "onednn-off": ("TensorFlow without oneDNN (TF_ENABLE_ONEDNN_OPTS=0)", {"TF_ENABLE_ONEDNN_OPTS": "0"}),
    "avx2": ("an AVX2-only CPU as far as one machine can imitate it: PyTorch, oneDNN, MKL and OpenBLAS "
             "limited to AVX2", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2",
                                 "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"}),
}


def notebooks(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted((ROOT / "book").glob("part*/*.ipynb"))


def run_config(name: str, paths: list[Path], workers: int = 1) -> tuple[dict, list[dict]]:
    """Run nbval under one configuration; return per-notebook results and tolerance rows.

    ``workers`` > 1 runs that many notebooks at once (pytest-xdist, one notebook per
    worker, its cells in order): sensible for ``threads-1``, where each notebook uses
    one core, so that two workers on two cores take about half the time.
    """
    _, variables = CONFIGS[name]
    with tempfile.TemporaryDirectory() as tmp:
        junit, report = Path(tmp) / "junit.xml", Path(tmp) / "tolerance.jsonl"
        # OpenMP threads that sleep when idle instead of spinning: no change to any result, but far
        # less time lost when the machine is busier than its cores (OpenBLAS and oneDNN spin by default).
        env = {"OMP_WAIT_POLICY": "PASSIVE", **os.environ, **variables, "NBVAL_TOLERANCE_REPORT": str(report)}
        command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                   str(ROOT / "tests" / "nbval_sanitize.cfg"), "-p", "no:cacheprovider", "-q",
                   f"--junitxml={junit}", *map(str, paths)]
        if workers > 1:
            command[3:3] = ["-n", str(workers), "--dist", "loadfile"]
        start = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        per_notebook = defaultdict(lambda: {"cells": 0, "failed": 0, "seconds": 0.0})
        if junit.exists():
            for case in ET.parse(junit).getroot().iter("testcase"):
                # classname "book.part1.ch01_forward_pass.ipynb" -> "ch01_forward_pass"
                stem = case.get("classname", "").removesuffix(".ipynb").rsplit(".", 1)[-1]
                row = per_notebook[stem]
                row["cells"] += 1
                row["seconds"] += float(case.get("time", 0.0))
                if case.find("failure") is not None or case.find("error") is not None:
                    row["failed"] += 1
        rows = [json.loads(line) for line in report.read_text().splitlines()] if report.exists() else []
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.splitlines()[-40:])
        print(f"--- {name}: nbval failed (exit {completed.returncode}) ---\n{tail}", flush=True)
    result = {"returncode": completed.returncode, "seconds": elapsed, "notebooks": dict(per_notebook)}
    return result, rows


def _cpu_model() -> str:
    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def load_records() -> list[dict]:
    """The records of an earlier run (benchmarks/results/portability.json), or none."""
    path = RESULTS / "portability.json"
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("records", [])


def write_tables(records: list[dict]) -> None:
    """Write portability.md and .json from records, one per (configuration, notebook)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    configs = [name for name in CONFIGS if any(r["config"] == name for r in records)]
    cpus = sorted({r.get("cpu", _cpu_model()) for r in records})
    brand = {cpu: cpu.split("(")[0].split()[0] for cpu in cpus}  # "Intel", "AMD": which machine ran a cell
    stems = sorted({r["notebook"] for r in records})
    by_key = {(r["config"], r["notebook"]): r for r in records}
    dates = sorted({r["date"] for r in records})
    lines = ["# nbval under changed floating-point configurations", "",
             f"Written by `make test-portability` (tests/portability.py), runs from {dates[0]} to {dates[-1]}, "
             f"on {' and '.join(cpus)} ({os.cpu_count()} logical CPUs, Python {platform.python_version()}). Each "
             "cell: pass or FAIL (with the number of failed cells), and the notebook's seconds under nbval "
             "(load average at the start of the run in brackets: above 2 the machine was busy and the "
             "seconds are not a measure of the chapter's speed; benchmarks/results/notebook_budget.md is)"
             + (", and the CPU that ran it" if len(cpus) > 1 else "") + ". The committed outputs of a "
             "notebook were written on the CPU of its latest re-execution; a pass on the other CPU is a "
             "pass across machines.", "",
             "| configuration | what changes |", "| --- | --- |"]
    lines += [f"| `{name}` | {CONFIGS[name][0]} |" for name in configs]
    lines += ["", "| notebook | " + " | ".join(f"`{n}`" for n in configs) + " |",
              "| --- | " + " | ".join("---" for _ in configs) + " |"]
    for stem in stems:
        cells = []
        for name in configs:
            r = by_key.get((name, stem))
            if r is None:
                cells.append("not run")
            else:
                verdict = "pass" if r["failed"] == 0 else f"FAIL ({r['failed']})"
                where = f" {brand[r.get('cpu', _cpu_model())]}" if len(cpus) > 1 else ""
                cells.append(f"{verdict}, {r['seconds']:.0f} s [{r['load']:.1f}]{where}")
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    lines += ["", "Largest deviation of each `NBVAL_TOLERANCE` cell (nbval's cell number) from its committed "
              "numbers, as a fraction of its bound (1.0 = on the bound; 0 = equal), over all configurations:", "",
              "| notebook | cell | bound | largest fraction | in configuration |", "| --- | --- | --- | --- | --- |"]
    worst = {}
    for r in records:
        for t in r["tolerance"]:
            key = (r["notebook"], t["cell"])
            fraction = float("inf") if t["fraction"] is None else t["fraction"]
            if key not in worst or fraction > worst[key][0]:
                worst[key] = (fraction, r["config"], t["bound"])
    for (stem, cell), (fraction, name, bound) in sorted(worst.items()):
        lines.append(f"| {stem} | {cell} | {bound} | {fraction:.2f} | `{name}` |")
    (RESULTS / "portability.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "portability.json").write_text(json.dumps(
        {"cpu": _cpu_model(), "configs": {n: CONFIGS[n][1] for n in configs}, "records": records},
        indent=1) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), metavar="NAME",
                        help=f"configurations to run (default: all): {', '.join(CONFIGS)}")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results table")
    parser.add_argument("--merge", action="store_true",
                        help="keep the committed records of configurations and notebooks not run now")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="notebooks run at once (pytest-xdist); use with threads-1 on N cores")
    parser.add_argument("paths", nargs="*", help="notebooks (default: every chapter)")
    args = parser.parse_args(argv)
    # `--configs a b book/x.ipynb`: argparse hands the notebook to --configs; move it back.
    args.paths += [name for name in args.configs if name.endswith(".ipynb")]
    args.configs = [name for name in args.configs if not name.endswith(".ipynb")]
    unknown = [name for name in args.configs if name not in CONFIGS]
    if unknown or not args.configs:
        parser.error(f"--configs must name configurations from {list(CONFIGS)}; got {args.configs}")
    if args.workers < 1:
        parser.error(f"--workers must be a positive number of notebooks run at once; got {args.workers}")
    missing = [p for p in args.paths if not Path(p).is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    paths = notebooks(args.paths)
    records, status = [], 0
    for name in args.configs:
        load = os.getloadavg()[0]
        date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        result, rows = run_config(name, paths, args.workers)
        status |= result["returncode"] != 0
        for path in paths:
            row = result["notebooks"].get(path.stem, {"cells": 0, "failed": 1, "seconds": 0.0})
            tolerance = [{"cell": t["cell"], "bound": f"abs={t['abs']:g} rel={t['rel']:g}",
                          "fraction": t["worst_fraction_of_bound"]}
                         for t in rows if Path(t["notebook"]).stem == path.stem]
            records.append({"config": name, "notebook": path.stem, "date": date, "load": round(load, 2),
                            "cpu": _cpu_model(),
                            **row, "tolerance": tolerance})
            for t in tolerance:
                shown = "text differs" if t["fraction"] is None else f"{t['fraction']:.2f} of its bound"
                print(f"  {path.stem} cell {t['cell']} ({t['bound']}): largest deviation {shown}")
        failed = sum(r["failed"] for r in result["notebooks"].values())
        print(f"{name:18s} {'pass' if result['returncode'] == 0 else 'FAIL'}  {result['seconds']:.0f} s  "
              f"({failed} failed cells)", flush=True)
    if not args.no_write:
        if args.merge:
            fresh = {(r["config"], r["notebook"]) for r in records}
            records = [r for r in load_records() if (r["config"], r["notebook"]) not in fresh] + records
        write_tables(records)
    return int(status)


if __name__ == "__main__":
    sys.exit(main())
