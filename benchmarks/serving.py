"""Chapter 16's serving benchmark: runtimes by batch size, and the real HTTP server under load.

Runs :func:`companion.bench.serving.runtime_benchmark` and :func:`companion.bench.serving.load_benchmark`,
prints Markdown tables and writes ``benchmarks/results/serving_cpu.json`` and ``.md`` unless ``--no-write``.

1. The MiniLM classifier (chapter 11's frozen encoder and logistic head) in eager PyTorch,
   ``torch.compile``, ONNX Runtime fp32 and ONNX Runtime int8, one CPU thread, batches of 1, 8
   and 32 real test texts of 32 tokens each; the fitted ``c(b) = c_0 + b c_1`` of Eq. (16.5).
2. ``python -m companion serve`` (int8 model, one model thread) driven by the bounded load
   generator at 1, 4, 16 and 32 concurrent clients, with batching off and on; throughput and
   p50/p95/p99 latency, median [min-max] over ``--runs`` runs of ``--requests`` requests each.

The load generator and the server share the machine's cores: on 2 cores the client's own
work is part of what is measured, as it is for any single-machine test.

Usage:
    python benchmarks/serving.py                 # full run (about 12 minutes on 2 cores)
    python benchmarks/serving.py --quick         # small and fast; print only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_THROUGHPUT_RATIO, TARGET_CLIENTS, TARGET_REQUESTS = 3.0, 32, 2000  # issue 12


def target_verdict(result: dict) -> list[str]:
    """Batching >= 3x the throughput of one-request-at-a-time at equal or lower p99 with 32 clients; no failures."""
    points = [p for p in result["load"]["points"] if p["concurrency"] == TARGET_CLIENTS]
    off = next(p for p in points if p["max_batch_size"] == 1)
    lines = []
    for point in points:
        if point is off:
            continue
        ratio = point["throughput_rps"] / off["throughput_rps"]
        met = ratio >= TARGET_THROUGHPUT_RATIO and point["p99_ms"] <= off["p99_ms"]
        lines.append(f"batching {point['batching']} at {TARGET_CLIENTS} clients: {ratio:.2f}x the throughput of "
                     f"batching off, p99 {point['p99_ms']:.0f} ms against {off['p99_ms']:.0f} ms: target "
                     f"{'met' if met else 'NOT met'}")
    failed = sum(p["failed"] for p in result["load"]["points"])
    total = sum(p["requests"] for p in result["load"]["points"])
    smallest = min(p["requests"] for p in result["load"]["points"])
    lines.append(f"failed requests: {failed} of {total} (every point sent at least {smallest}): target "
                 f"{'met' if failed == 0 and smallest >= TARGET_REQUESTS else 'NOT met'}")
    return lines


def markdown(result: dict) -> str:
    m, runtime, load = result["machine"], result["runtime"], result["load"]

    def cell(row, key, digits=1):
        return f"{row[key]:.{digits}f} [{row[key + '_min']:.{digits}f}-{row[key + '_max']:.{digits}f}]"

    shapes = ", ".join(f"batch {b}: {s[0]} x {s[1]}" for b, s in runtime["batch_shapes"].items())
    lines = [
        "# Serving the MiniLM classifier (chapter 16)",
        "",
        f"Measured by `{result['command']}` on {m['date_utc']} UTC: {m['cpu']}, {m['cores_available']} cores "
        f"available, PyTorch {m['torch']}, load average {m['load_average_1m']} at the start.",
        "",
        f"## Runtimes, one thread (ms per call; median of {runtime['repeats']} calls per run, median "
        f"[min-max] over {runtime['runs']} runs; ids {shapes})",
        "",
        "| runtime | batch 1 | batch 8 | batch 32 | c_0 ms | c_1 ms per text |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in runtime["rows"]:
        lines.append(f"| {row['runtime']} | {cell(row, 'batch1_ms')} | {cell(row, 'batch8_ms')} | "
                     f"{cell(row, 'batch32_ms')} | {row['c0_ms']:.2f} | {row['c1_ms']:.2f} |")
    if runtime["compile_seconds"] is not None:
        lines += ["", f"torch.compile's first calls (compilation and warm-up of the three shapes) took "
                      f"{runtime['compile_seconds']:.0f} s."]
    lines += [
        "",
        f"## The server under load ({load['n_requests']} single-text requests per run, median [min-max] over "
        f"{load['runs']} runs; int8 model on {load['server_threads']} thread)",
        "",
        "| batching | clients | requests/s | p50 ms | p95 ms | p99 ms | failed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in load["points"]:
        lines.append(f"| {p['batching']} | {p['concurrency']} | {cell(p, 'throughput_rps', 0)} | {cell(p, 'p50_ms')} "
                     f"| {cell(p, 'p95_ms')} | {cell(p, 'p99_ms')} | {p['failed']} of {p['requests']} |")
    lines += ["", "Targets (issue 12): dynamic batching at least 3x the throughput of one-request-at-a-time at "
              "equal or lower p99 under 32 concurrent clients; zero failed requests in runs of at least 2,000.", ""]
    lines += [f"- {line}" for line in target_verdict(result)]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repeats and requests, no torch.compile; print only")
    parser.add_argument("--requests", type=int, default=TARGET_REQUESTS, help="requests per load run (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="whole measurements (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.runs < 1:
        parser.error(f"--requests and --runs must be positive; got {args.requests} and {args.runs}")
    from companion.bench.machine import describe_machine
    from companion.bench.serving import load_benchmark, runtime_benchmark

    machine = describe_machine("cpu")
    if args.quick:
        runtime = runtime_benchmark(repeats=3, runs=1, compile_model=False)
        load = load_benchmark(n_requests=100, runs=1, concurrency=(1, 32))
        args.no_write = True
    else:
        runtime = runtime_benchmark(runs=args.runs)
        load = load_benchmark(n_requests=args.requests, runs=args.runs)
    result = {"machine": machine, "command": "python " + " ".join(sys.argv), "runtime": runtime, "load": load}
    text = markdown(result)
    print(text)
    if not args.no_write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "serving_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS_DIR / "serving_cpu.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
