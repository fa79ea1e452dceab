"""``python -m companion bench``: run the benchmark suite, print a Markdown table, save JSON + Markdown.

Usage:
    python -m companion bench                  # full suite, writes benchmarks/results/bench_<device>.{json,md}
    python -m companion bench --quick          # small sizes (< 1 min on 2 CPU cores), bench_<device>_quick.*
    python -m companion bench --out DIR        # write the two files into DIR
    python -m companion bench --device cpu     # run on the CPU although a GPU is present
    python -m companion bench --only transformer --only lstm
    python -m companion bench --runs 3         # the suite three times: medians and [min-max]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUT = Path("benchmarks") / "results"


def _build_parser() -> argparse.ArgumentParser:
    from companion.bench.suite import BENCHMARKS

    parser = argparse.ArgumentParser(prog="python -m companion bench",
                                     description="Run the book's benchmark suite (chapter 13).")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats (CI smoke run)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"directory for bench_<device>[_quick].json and .md (default {DEFAULT_OUT})")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                        help="device for the PyTorch benchmarks (default: companion.get_device())")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--note", default="", help="a line stored with the results, e.g. how busy the machine was")
    parser.add_argument("--runs", type=int, default=1,
                        help="run the whole suite this many times; report medians and [min-max] (default 1)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0, or 1 when a benchmark failed)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    import torch

    from companion.bench.suite import format_markdown, run_suite, write_results
    from companion.device import get_device, torch_available_devices

    if args.device == "auto":
        device = get_device()
    elif args.device not in torch_available_devices():
        parser.error(f"--device {args.device} was requested, but PyTorch sees only "
                     f"{', '.join(torch_available_devices())} on this machine")
    else:
        device = torch.device(args.device)
    if args.runs < 1:
        parser.error(f"--runs must be at least 1; got {args.runs}")
    results = run_suite(quick=args.quick, device=device, only=args.only, note=args.note, runs=args.runs,
                        progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_markdown(results))
    if not args.no_write:
        json_path, md_path = write_results(results, args.out)
        print(f"wrote {json_path} and {md_path}", file=sys.stderr)
    failed = [entry["name"] for entry in results["benchmarks"] if entry.get("error")]
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
