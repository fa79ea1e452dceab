"""Where, when and how an experiment was run: the record stored next to its numbers (chapter 17)."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path


def git_commit(folder: Path | None = None) -> str | None:
    """The commit checked out in ``folder`` (default: the package's repository), with ``+dirty`` when files
    differ from it; None outside a git checkout."""
    folder = Path(__file__).resolve().parents[2] if folder is None else Path(folder)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=folder,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+dirty" if dirty else "")


def provenance(argv, seeds, seconds: float, commit: str | None, device=None) -> dict:
    """The record of one experiment run: command line, seeds, wall time, the git commit the run started
    from (taken before it began, so that later edits cannot change it), and the machine
    (:func:`companion.bench.machine.describe_machine`: date, CPU, cores, threads, versions, GPU)."""
    from companion.bench.machine import describe_machine

    return {
        "command": "python -m companion experiments " + shlex.join(str(part) for part in argv),
        "seeds": [int(seed) for seed in seeds],
        "seconds_total": round(float(seconds), 1),
        "git_commit": commit,
        "machine": describe_machine(device),
    }
