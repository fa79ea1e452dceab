"""Written-out attention versus torch.nn.functional.scaled_dot_product_attention, over sequence lengths.

Runs :func:`companion.bench.attention.attention_benchmark` on the book's device
(``companion.get_device()``, or ``--device``), prints a Markdown table, and, unless
``--quick``, writes ``benchmarks/results/attention_<device type>.json`` (machine
description and rows) and ``.md`` (the same table). Book chapter 9 quotes the
committed CPU results.

Usage:
    python benchmarks/attention.py                  # full run: T = 128 ... 4096
    python benchmarks/attention.py --quick          # small lengths, few repeats; print only
    python benchmarks/attention.py --threads 1      # limit PyTorch's intra-op threads
    python benchmarks/attention.py --causal         # causal self-attention on both paths
    python benchmarks/attention.py --runs 3         # three runs: medians and [min-max] over them
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine_description(device) -> dict:
    import torch

    from companion.bench.machine import available_cores, cpu_model

    info = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": cpu_model(),
        "cores_available": available_cores(),
        "os_cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()}",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "load_average_1min_before": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
    return info


def markdown(meta: dict, rows: list[dict], command: str) -> str:
    def mib(value):
        return "n/a" if value is None else f"{value:.1f}"

    first = rows[0]
    lines = [
        "# Attention: written-out path versus scaled_dot_product_attention",
        "",
        f"Produced by `{command}`. Inputs: random (B, H, T, D_h) = ({first['batch']}, {first['heads']}, T, "
        f"{first['head_dim']}) queries, keys and values in {first['dtype']}, "
        f"{'causal' if first['causal'] else 'no'} mask. Times are medians of the timed calls after one warm-up "
        "call, the two paths alternating; with several runs, each number is the median over the runs and "
        "[min–max] follows it. Speed-up = written-out time / SDPA time. The score matrix column is "
        "B H T^2 entries (Eq. (9.8)); the peak columns are the extra memory each call needed, "
        f"measured as {first['memory_method']}.",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in meta.items()]
    lines += [
        "",
        "| T | written-out ms | SDPA ms | speed-up | score matrix MiB | written-out peak MiB "
        "| SDPA peak MiB | max abs diff |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    def ranged(row, key, fmt):
        bounds = row.get("spread", {}).get(key)
        text = format(row[key], fmt)
        return text if bounds is None else f"{text} [{format(bounds[0], fmt)}–{format(bounds[1], fmt)}]"

    lines += [
        f"| {r['seq_len']} | {ranged(r, 'written_out_ms', '.2f')} | {ranged(r, 'sdpa_ms', '.2f')} | "
        f"{ranged(r, 'speedup', '.1f')} | {r['score_matrix_mib']:.1f} | {mib(r['written_out_peak_mib'])} | "
        f"{mib(r['sdpa_peak_mib'])} | {'< 1e-6' if r['max_abs_diff'] < 1e-6 else format(r['max_abs_diff'], '.1e')} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small lengths, few repeats; print only, write nothing")
    parser.add_argument("--device", default=None, help="torch device (default: companion.get_device())")
    parser.add_argument("--threads", type=int, default=None, help="PyTorch intra-op threads (default: PyTorch's)")
    parser.add_argument("--repeats", type=int, default=None, help="timed calls per path and length")
    parser.add_argument("--causal", action="store_true", help="causal self-attention on both paths")
    parser.add_argument("--runs", type=int, default=1, help="independent runs; report medians and [min-max]")
    parser.add_argument("--note", default="", help="a line to add to the results, e.g. how busy the machine was")
    parser.add_argument("--out-dir", type=Path, default=RESULTS_DIR, help=f"results folder (default {RESULTS_DIR})")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import torch

    from companion.bench.attention import attention_benchmark
    from companion.device import get_device

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    meta = machine_description(device)
    from companion.bench.repeat import combine_runs

    if args.runs < 1:
        parser.error(f"--runs must be at least 1; got {args.runs}")
    runs, loads = [], []
    for _ in range(args.runs):
        runs.append(attention_benchmark(device=device, repeats=args.repeats, causal=args.causal, quick=args.quick))
        loads.append(round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None)
    rows = combine_runs(runs)
    meta["runs"] = args.runs
    meta["load_average_1min_after"] = loads[-1]
    meta["load_average_1min_after_each_run"] = loads
    if args.note:
        meta["note"] = args.note
    command = "python benchmarks/attention.py" + "".join(
        f" {flag}" for flag, on in (("--quick", args.quick), ("--causal", args.causal)) if on)
    if args.threads is not None:
        command += f" --threads {args.threads}"
    if args.repeats is not None:
        command += f" --repeats {args.repeats}"
    if args.runs != 1:
        command += f" --runs {args.runs}"
    table = markdown(meta, rows, command)
    print(table)
    if not args.quick:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        stem = args.out_dir / f"attention_{device.type}"
        stem.with_suffix(".json").write_text(json.dumps({"machine": meta, "rows": rows}, indent=2) + "\n",
                                             encoding="utf-8")
        stem.with_suffix(".md").write_text(table, encoding="utf-8")
        print(f"wrote {stem}.json and {stem}.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
