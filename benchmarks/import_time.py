"""How long ``import companion`` takes, next to the frameworks it must not load.

Each import runs in a fresh interpreter, ``--repeats`` times; the table reports
the median and the minimum of the wall time of ``python -c "import X"`` minus
that of an empty ``python -c "pass"``, and whether the import pulled in
PyTorch or TensorFlow. Results are printed as Markdown and written to
benchmarks/results/import_time.md.

Usage: python benchmarks/import_time.py [--repeats N] [--output PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

STATEMENTS = {
    "(empty interpreter)": "pass",
    "import numpy": "import numpy",
    "import companion": "import companion",
    "import companion.nn": "import companion.nn",
    "import torch": "import torch",
    "import tensorflow": "import tensorflow",
}
PROBE = "\nimport sys; print('torch' in sys.modules, 'tensorflow' in sys.modules)"


def time_statement(statement: str, repeats: int) -> tuple[list[float], str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    seconds, loaded = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", statement + PROBE], capture_output=True, text=True, check=True, env=env
        )
        seconds.append(time.perf_counter() - start)
        loaded = result.stdout.split()
    torch_loaded, tf_loaded = (word == "True" for word in loaded)
    frameworks = ", ".join(name for name, flag in (("torch", torch_loaded), ("tensorflow", tf_loaded)) if flag)
    return seconds, frameworks or "none"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "import_time.md")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be >= 1; got {args.repeats}")

    rows = {name: time_statement(statement, args.repeats) for name, statement in STATEMENTS.items()}
    baseline = statistics.median(rows["(empty interpreter)"][0])
    lines = [
        "# Import time",
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} logical cores, Python {platform.python_version()}.",
        f"Each row: {args.repeats} fresh interpreters; times exclude the empty interpreter's "
        f"median start-up ({baseline * 1e3:.0f} ms).",
        "",
        "| statement | median (ms) | min (ms) | frameworks loaded |",
        "| --- | ---: | ---: | --- |",
    ]
    for name, (seconds, frameworks) in rows.items():
        if name == "(empty interpreter)":
            continue
        median = (statistics.median(seconds) - baseline) * 1e3
        best = (min(seconds) - baseline) * 1e3
        lines.append(f"| `{name}` | {median:.0f} | {best:.0f} | {frameworks} |")
    table = "\n".join(lines) + "\n"
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    companion_frameworks = rows["import companion"][1]
    if companion_frameworks != "none":
        print(f"FAIL: import companion loaded {companion_frameworks}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
