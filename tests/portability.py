"""nbval over the book under configurations that change floating-point results.

A reader's machine differs from the one that wrote the committed outputs: another
CPU and vector unit, another thread count, another BLAS kernel. This script
imitates those differences on one machine, with the switches each library
offers, and runs nbval over every notebook under each of them:

    python tests/portability.py                       # every configuration
    python tests/portability.py --configs avx2 threads-1 book/part1/ch06_regularisation.ipynb

It writes benchmarks/results/portability.md (configuration x notebook: pass or
fail, seconds) and portability.json, with, for every NBVAL_TOLERANCE cell, the
largest deviation it saw as a fraction of its bound (book/conftest.py). It exits
non-zero when any configuration fails. `make test-portability` runs it.
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


def run_config(name: str, paths: list[Path]) -> tuple[dict, list[dict]]:
    """Run nbval under one configuration; return per-notebook results and tolerance rows."""
    _, variables = CONFIGS[name]
    with tempfile.TemporaryDirectory() as tmp:
        junit, report = Path(tmp) / "junit.xml", Path(tmp) / "tolerance.jsonl"
        env = {**os.environ, **variables, "NBVAL_TOLERANCE_REPORT": str(report)}
        command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
                   str(ROOT / "tests" / "nbval_sanitize.cfg"), "-p", "no:cacheprovider", "-q",
                   f"--junitxml={junit}", *map(str, paths)]
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


def write_tables(results: dict, tolerance: dict, paths: list[Path]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stems = [p.stem for p in paths]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    lines = [f"# nbval under changed floating-point configurations", "",
             f"Written by `make test-portability` (tests/portability.py) on {now}: {model}, "
             f"{os.cpu_count()} logical CPUs, Python {platform.python_version()}. Each cell: pass or FAIL "
             "(failed cells of the notebook), and the notebook's seconds under nbval.", "",
             "| configuration | what changes |", "| --- | --- |"]
    lines += [f"| `{name}` | {CONFIGS[name][0]} |" for name in results]
    lines += ["", "| notebook | " + " | ".join(f"`{n}`" for n in results) + " |",
              "| --- | " + " | ".join("---" for _ in results) + " |"]
    for stem in stems:
        cells = []
        for name, result in results.items():
            row = result["notebooks"].get(stem)
            if row is None:
                cells.append("not run")
            else:
                verdict = "pass" if row["failed"] == 0 else f"FAIL ({row['failed']})"
                cells.append(f"{verdict}, {row['seconds']:.0f} s")
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    lines += ["", "Largest deviation of each `NBVAL_TOLERANCE` cell from its committed numbers, as a "
              "fraction of its bound (1.0 = on the bound), over all configurations:", "",
              "| notebook | cell | bound | largest fraction | configuration |", "| --- | --- | --- | --- | --- |"]
    for (notebook, cell), (fraction, name, bound) in sorted(tolerance.items()):
        lines.append(f"| {Path(notebook).stem} | {cell} | {bound} | {fraction:.2f} | `{name}` |")
    (RESULTS / "portability.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (RESULTS / "portability.json").write_text(json.dumps(
        {"written": now, "cpu": model, "configs": {n: CONFIGS[n][1] for n in results}, "results": results,
         "tolerance": [{"notebook": k[0], "cell": k[1], "largest_fraction": v[0], "config": v[1], "bound": v[2]}
                       for k, v in sorted(tolerance.items())]}, indent=1) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), metavar="NAME",
                        help=f"configurations to run (default: all): {', '.join(CONFIGS)}")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write the results table")
    parser.add_argument("paths", nargs="*", help="notebooks (default: every chapter)")
    args = parser.parse_args(argv)
    # `--configs a b book/x.ipynb`: argparse hands the notebook to --configs; move it back.
    args.paths += [name for name in args.configs if name.endswith(".ipynb")]
    args.configs = [name for name in args.configs if not name.endswith(".ipynb")]
    unknown = [name for name in args.configs if name not in CONFIGS]
    if unknown or not args.configs:
        parser.error(f"--configs must name configurations from {list(CONFIGS)}; got {args.configs}")
    missing = [p for p in args.paths if not Path(p).is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    paths = notebooks(args.paths)
    results, tolerance = {}, {}
    for name in args.configs:
        result, rows = run_config(name, paths)
        results[name] = result
        for row in rows:
            if row["worst_fraction_of_bound"] is None:  # the text around the numbers changed
                row["worst_fraction_of_bound"] = float("inf")
            key = (row["notebook"], row["cell"])
            bound = f"abs={row['abs']:g} rel={row['rel']:g}"
            if key not in tolerance or row["worst_fraction_of_bound"] > tolerance[key][0]:
                tolerance[key] = (row["worst_fraction_of_bound"], name, bound)
        failed = sum(r["failed"] for r in result["notebooks"].values())
        print(f"{name:18s} {'pass' if result['returncode'] == 0 else 'FAIL'}  {result['seconds']:.0f} s  "
              f"({failed} failed cells)", flush=True)
    if not args.no_write:
        write_tables(results, tolerance, paths)
    for (notebook, cell), (fraction, name, bound) in sorted(tolerance.items()):
        print(f"tolerance {Path(notebook).stem} cell {cell} ({bound}): largest fraction {fraction:.2f} ({name})")
    return 0 if all(r["returncode"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
