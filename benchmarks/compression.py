"""Chapter 15's quantisation benchmark: the MiniLM classifier in PyTorch, ONNX Runtime fp32 and int8.

Runs :func:`companion.bench.compression.compression_benchmark`, prints a Markdown table and writes
the results. The classifier is chapter 11's frozen MiniLM with a logistic-regression head trained
on the first 1,024 English training reviews (``companion.compression.onnx_runtime.probe_classifier``).
It is exported to ONNX and quantised with ONNX Runtime's dynamic quantiser, per output
channel and per tensor. For each variant the script reports:

- the size of the model file on disk;
- test accuracy on the whole English test split (the same texts for every variant),
  with McNemar's test of each int8 variant against ONNX Runtime fp32;
- latency at batch 1 and batch 32 on one CPU thread: the median, minimum and maximum
  over ``--repeats`` timed calls, each call a batch of real test texts padded to their
  own longest text; ``--runs`` repeats the whole measurement and reports the median of
  the run medians with [min-max] over runs.

Writes ``benchmarks/results/compression_cpu.json`` and ``.md`` unless ``--no-write``.

Usage:
    python benchmarks/compression.py                 # full run (a few minutes on 2 cores)
    python benchmarks/compression.py --quick         # 256 test texts, few repeats; print only
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_SPEEDUP, TARGET_ACCURACY_LOSS = 2.0, 0.01  # issue 12: >= 2x lower latency at <= 1 point lost


def measure(args) -> dict:
    from companion.bench.compression import compression_benchmark

    result = compression_benchmark(quick=args.quick, repeats=args.repeats, runs=args.runs)
    result["command"] = "python " + " ".join(sys.argv)
    return result


def target_verdict(result: dict) -> list[str]:
    """Whether int8 reaches >= 2x lower latency than fp32 at <= 1 point of accuracy lost, per batch size."""
    rows = {row["variant"]: row for row in result["rows"]}
    lines = []
    for reference in ("ONNX Runtime fp32", "PyTorch fp32 (eager)"):
        base = rows[reference]
        for name in ("ONNX Runtime int8, per channel", "ONNX Runtime int8, per tensor"):
            row = rows[name]
            lost = base["accuracy"] - row["accuracy"]
            for batch_size in (1, 32):
                speedup = base[f"batch{batch_size}_ms"] / row[f"batch{batch_size}_ms"]
                met = speedup >= TARGET_SPEEDUP and lost <= TARGET_ACCURACY_LOSS
                lines.append(f"{name} against {reference}, batch {batch_size}: {speedup:.2f}x faster, "
                             f"{100 * lost:+.1f} points of accuracy lost: target {'met' if met else 'NOT met'}")
    return lines


def markdown(result: dict) -> str:
    m = result["machine"]
    lines = [
        "# Quantising the MiniLM classifier (chapter 15)",
        "",
        f"Measured by `{result['command']}` on {m['date_utc']} UTC: {m['cpu']}, {m['cores_available']} cores "
        f"available, latency on 1 thread, PyTorch {m['torch']}, load average {m['load_average_1m']} at the start. "
        f"Accuracy on {result['test_texts']} English test reviews; latency: medians of {result['repeats']} calls "
        f"per run, median over {result['runs']} runs with [min-max] over runs.",
        "",
        "| variant | file MB | accuracy | same prediction as fp32 | McNemar p vs fp32 | batch 1 ms | batch 32 ms |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["rows"]:
        def cell(batch_size, r=row):
            key = f"batch{batch_size}_ms"
            return f"{r[key]:.1f} [{r[key + '_min']:.1f}-{r[key + '_max']:.1f}]"

        size = "n/a" if row["file_mb"] is None else f"{row['file_mb']:.1f}"
        same = row.get("same_prediction_as_fp32")
        p = row.get("mcnemar_p_vs_fp32")
        lines.append(f"| {row['variant']} | {size} | {row['accuracy']:.4f} | "
                     f"{'-' if same is None else f'{same:.1%}'} | {'-' if p is None else f'{p:.3f}'} | "
                     f"{cell(1)} | {cell(32)} |")
    lines += ["", "Target (issue 12): at least 2x lower CPU latency than fp32 at no more than 1 point of accuracy "
              "lost.", ""] + [f"- {line}" for line in target_verdict(result)] + [""]
    shape = result["batch32_shape"]
    lines += [f"Where the time goes at batch 32 (ids {shape[0]} x {shape[1]}), by ONNX Runtime's profiler: kernel time "
              "per call and the operators with the largest shares.", ""]
    for name, profile in result["op_profile_batch32"].items():
        shares = ", ".join(f"{op} {share:.0%}" for op, share in profile["share"].items())
        lines.append(f"- {name}: {profile['ms_per_call']:.1f} ms; {shares}")
    lines += ["", "Sparsity and kernel time: MiniLM's first FFN layer (1536 x 384) on 32 x 40 tokens, one thread, "
              f"median [min-max] of {result['repeats']} calls.", "", "| weight | ms |", "| --- | --- |"]
    lines += [f"| {row['case']} | {row['ms']:.2f} [{row['ms_min']:.2f}-{row['ms_max']:.2f}] |"
              for row in result["sparse_kernels"]]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="256 test texts, 3 repeats, 1 run; print only")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per run (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="whole measurements (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.runs, args.no_write = 3, 1, True
    if args.repeats < 1 or args.runs < 1:
        parser.error(f"--repeats and --runs must be positive; got {args.repeats} and {args.runs}")
    result = measure(args)
    text = markdown(result)
    print(text)
    if not args.no_write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "compression_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS_DIR / "compression_cpu.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
