"""``python -m companion experiments``: list the full-scale runs, or run one over seeds and save it.

Usage:
    python -m companion experiments list
    python -m companion experiments run minilm-film                 # seeds 0 1 2, the full config
    python -m companion experiments run chinese-chars --quick       # small config, writes <name>_quick.*
    python -m companion experiments run minilm-film --seeds 0 --out /tmp/results --device cpu
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _build_parser() -> argparse.ArgumentParser:
    from companion.experiments.registry import EXPERIMENTS
    from companion.experiments.results import DEFAULT_FOLDER

    parser = argparse.ArgumentParser(prog="python -m companion experiments",
                                     description="Full-scale runs of the book's experiments (chapter 17).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="the experiments, their targets and settings")
    run = commands.add_parser("run", help="run one experiment over seeds and save its results")
    run.add_argument("name", choices=EXPERIMENTS, metavar="NAME", help=f"one of: {', '.join(EXPERIMENTS)}")
    run.add_argument("--quick", action="store_true", help="the small config (seconds; the test suite's run)")
    run.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds to run (default 0 1 2)")
    run.add_argument("--out", type=Path, default=DEFAULT_FOLDER,
                     help=f"folder for the results (default {DEFAULT_FOLDER})")
    run.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                     help="where PyTorch runs (default: companion.get_device())")
    run.add_argument("--no-write", action="store_true", help="print the table only")
    return parser


def run_experiment(name: str, seeds, quick: bool = False, device=None, argv=(), progress=None) -> dict:
    """Run ``name`` once per seed; returns the record (settings, runs, summary, target, provenance)."""
    from companion.experiments.provenance import git_commit, provenance
    from companion.experiments.registry import get_experiment
    from companion.experiments.results import summarise, target_check
    from companion.experiments.sentiment_runs import config_dict

    experiment = get_experiment(name)
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one; got {seeds}")
    config = experiment.quick if quick else experiment.full
    commit = git_commit()  # before the run: the code it ran is the code of this commit
    start = time.perf_counter()
    runs = []
    for seed in seeds:
        runs.append(experiment.run(seed, config, device=device))
        if progress is not None:
            progress(f"{name} seed {seed}: {runs[-1]['test']}")
    summary = summarise(runs)
    return {"name": name, "description": experiment.description, "quick": bool(quick), "config": config_dict(config),
            "runs": runs, "summary": summary, "target": target_check(summary, experiment.target),
            "provenance": provenance(list(argv), seeds, time.perf_counter() - start, commit, device)}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _build_parser()
    args = parser.parse_args(argv)
    from companion.experiments.registry import EXPERIMENTS

    if args.command == "list":
        for experiment in EXPERIMENTS.values():
            if experiment.target is None:
                target = "none"
            else:
                test_set, _, metric, bar = experiment.target
                target = f"{metric} >= {bar} on {test_set}"
            print(f"{experiment.name}: {experiment.description}\n    target: {target}; "
                  f"full config {experiment.full}")
        return 0
    import torch

    from companion.device import get_device, torch_available_devices
    from companion.experiments.results import format_markdown, write_record

    if args.device == "auto":
        device = get_device()
    elif args.device not in torch_available_devices():
        parser.error(f"--device {args.device} was requested, but PyTorch sees only "
                     f"{', '.join(torch_available_devices())} on this machine")
    else:
        device = torch.device(args.device)
    try:
        record = run_experiment(args.name, args.seeds, quick=args.quick, device=device, argv=argv,
                                progress=lambda line: print(line, file=sys.stderr, flush=True))
    except ValueError as error:
        parser.error(str(error))
    print(format_markdown(record))
    if not args.no_write:
        paths = write_record(record, args.out)
        print(f"wrote {paths[0]} and {paths[1]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
