"""Chapter 15's quantisation benchmark: the MiniLM classifier in PyTorch, ONNX Runtime fp32 and int8.

The classifier is chapter 11's frozen MiniLM with a logistic-regression head trained
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
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

RESULTS_DIR = Path(__file__).resolve().parent / "results"
TARGET_SPEEDUP, TARGET_ACCURACY_LOSS = 2.0, 0.01  # issue 12: >= 2x lower latency at <= 1 point lost


def _latencies(runners: dict, batches: dict, repeats: int) -> dict:
    from companion.bench.timing import time_callable

    out = {}
    for batch_size, batch in batches.items():
        for name, run in runners.items():
            timing = time_callable(lambda r=run, b=batch: r(b), warmup=2, repeats=repeats)
            out[(name, batch_size)] = 1e3 * timing["median_s"]
    return out


def _op_shares(path, batch: dict, calls: int = 10) -> dict:
    """Share of ONNX Runtime's kernel time per operator type over ``calls`` runs (its own profiler)."""
    import collections

    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(path).with_suffix("")) + "_profile"
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    for _ in range(calls):
        session.run(["logits"], batch)
    events = json.loads(Path(session.end_profiling()).read_text())
    per_op = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    return {"ms_per_call": round(total / calls / 1e3, 1),
            "share": {op: round(us / total, 3) for op, us in per_op.most_common(6)}}


def _sparse_kernels(repeats: int) -> list[dict]:
    """One thread: MiniLM's first FFN layer on 32 x 40 tokens, dense, with zeros, shrunk and in CSR."""
    import torch
    from safetensors import safe_open

    from companion.bench.timing import time_callable
    from companion.compression import pruning
    from companion.pretrained.minilm import minilm_path

    with safe_open(minilm_path() / "model.safetensors", "pt") as weights:
        w_in = weights.get_tensor("encoder.layer.0.intermediate.dense.weight")
        w_out = weights.get_tensor("encoder.layer.0.output.dense.weight")
    tokens = torch.randn(32 * 40, 384, generator=torch.Generator().manual_seed(0))
    keep = torch.as_tensor(pruning.neurons_to_keep(w_in.numpy(), w_out.numpy(), 0.5))
    cases = {"dense": (w_in, False)}
    for sparsity in (0.5, 0.9):
        zeroed = w_in * torch.as_tensor(pruning.magnitude_mask(w_in.numpy(), sparsity))
        cases[f"{sparsity:.0%} zeros, dense kernel"] = (zeroed, False)
        cases[f"{sparsity:.0%} zeros, CSR kernel"] = (zeroed, True)
    cases["half the neurons removed"] = (w_in[keep], False)
    rows = []
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        for label, (matrix, as_csr) in cases.items():
            if as_csr:
                csr = matrix.to_sparse_csr()
                timing = time_callable(lambda c=csr: c @ tokens.T, warmup=2, repeats=repeats)
            else:
                timing = time_callable(lambda m=matrix: tokens @ m.T, warmup=2, repeats=repeats)
            rows.append({"case": label, "ms": round(1e3 * timing["median_s"], 2),
                         "ms_min": round(1e3 * timing["min_s"], 2), "ms_max": round(1e3 * max(timing["times_s"]), 2)})
    return rows


def measure(args) -> dict:
    import torch
    from tqdm import TqdmWarning

    from companion.bench.machine import describe_machine
    from companion.compression import onnx_runtime
    from companion.data import load_english_sentiment
    from companion.metrics.significance import mcnemar
    from companion.pretrained.minilm import load_minilm

    torch.set_num_threads(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        tokenizer, encoder = load_minilm(device="cpu")
    en = load_english_sentiment("movie_reviews", seed=0)
    n_test = 256 if args.quick else len(en.test)
    test_texts, test_labels = en.test.texts[:n_test], en.test.labels[:n_test]
    classifier, _ = onnx_runtime.probe_classifier(tokenizer, encoder, en.train.texts[:1024], en.train.labels[:1024])

    work = Path(tempfile.mkdtemp(prefix="compression_bench_"))
    example = tokenizer(test_texts[:2], padding=True, return_tensors="pt")
    paths = {"ONNX Runtime fp32": onnx_runtime.export_onnx(classifier, work / "fp32.onnx", example["input_ids"],
                                                           example["attention_mask"])}
    paths["ONNX Runtime int8, per channel"] = onnx_runtime.quantize_dynamic_int8(
        paths["ONNX Runtime fp32"], work / "int8_channel.onnx", per_channel=True)
    paths["ONNX Runtime int8, per tensor"] = onnx_runtime.quantize_dynamic_int8(
        paths["ONNX Runtime fp32"], work / "int8_tensor.onnx", per_channel=False)

    accuracy, predictions = {}, {}
    for name, path in paths.items():
        session = onnx_runtime.onnx_session(path, threads=2)
        predictions[name] = onnx_runtime.onnx_logits(session, tokenizer, test_texts).argmax(axis=1)
        accuracy[name] = float(np.mean(predictions[name] == test_labels))

    torch.set_num_threads(1)
    sessions = {name: onnx_runtime.onnx_session(path, threads=1) for name, path in paths.items()}
    batches = {}
    for batch_size in (1, 32):
        encoded = tokenizer(test_texts[:batch_size], padding=True, truncation=True, max_length=128, return_tensors="np")
        batches[batch_size] = {key: encoded[key].astype(np.int64) for key in ("input_ids", "attention_mask")}

    def torch_run(batch):
        with torch.inference_mode():
            return classifier(torch.as_tensor(batch["input_ids"]), torch.as_tensor(batch["attention_mask"]))

    runners = {"PyTorch fp32 (eager)": torch_run}
    runners.update({name: (lambda batch, s=session: s.run(["logits"], batch)) for name, session in sessions.items()})
    runs = [_latencies(runners, batches, args.repeats) for _ in range(args.runs)]

    rows = []
    for name in runners:
        row = {"variant": name,
               "file_mb": None if name not in paths else round(onnx_runtime.file_megabytes(paths[name]), 1),
               "accuracy": accuracy.get(name, accuracy["ONNX Runtime fp32"])}
        for batch_size in batches:
            values = [run[(name, batch_size)] for run in runs]
            row[f"batch{batch_size}_ms"] = round(statistics.median(values), 2)
            row[f"batch{batch_size}_ms_min"] = round(min(values), 2)
            row[f"batch{batch_size}_ms_max"] = round(max(values), 2)
        if name in predictions and name != "ONNX Runtime fp32":
            test = mcnemar(test_labels, predictions["ONNX Runtime fp32"], predictions[name])
            row["mcnemar_p_vs_fp32"] = round(test.p_value, 4)
            same = np.mean(predictions[name] == predictions["ONNX Runtime fp32"])
            row["same_prediction_as_fp32"] = round(float(same), 4)
        rows.append(row)
    profiles = {name: _op_shares(paths[name], batches[32])
                for name in ("ONNX Runtime fp32", "ONNX Runtime int8, per channel")}
    machine = describe_machine("cpu")
    machine["torch_threads"] = 1
    return {"machine": machine, "test_texts": n_test, "repeats": args.repeats, "runs": args.runs,
            "command": "python " + " ".join(sys.argv), "rows": rows,
            "batch32_shape": list(batches[32]["input_ids"].shape),
            "op_profile_batch32": profiles, "sparse_kernels": _sparse_kernels(args.repeats)}


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
