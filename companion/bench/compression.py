"""Chapter 15's quantisation benchmark: the MiniLM classifier in PyTorch, ONNX Runtime fp32 and int8.

:func:`compression_benchmark` builds chapter 11's frozen MiniLM classifier with a logistic-regression
head on the first 1,024 English training reviews
(:func:`companion.compression.onnx_runtime.probe_classifier`), exports it to ONNX and quantises it
with ONNX Runtime's dynamic quantiser, per output channel and per tensor. It returns, for each
variant, the file size, test accuracy on the English test split with McNemar's test against ONNX
Runtime fp32, and latency at batch 1 and 32 on one CPU thread (the median of ``repeats`` calls per
run, then the median and [min-max] over ``runs``); ONNX Runtime's profile of where the time goes at
batch 32; and the time of one FFN product with pruned weights in dense and CSR form. It prints
nothing; ``benchmarks/compression.py`` prints and saves the result.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import warnings
from pathlib import Path

import numpy as np

from companion.checks import check_positive_int


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


def sparse_kernel_times(repeats: int = 30) -> list[dict]:
    """Rows (case, ms, ms_min, ms_max): one product of MiniLM's first FFN layer with pruned weights.

    The (1536, 384) weight of block 0 multiplies 32 x 40 random tokens: dense, with 50 % and
    90 % of its weights zeroed by magnitude (Eq. (15.9)) in a dense kernel and in PyTorch's CSR
    kernel, and with half of its neurons removed (Eq. (15.10)). Runs on the threads PyTorch has;
    raises if a CSR product differs from the dense product of the same matrix.
    """
    import torch
    from safetensors import safe_open

    from companion.bench.timing import time_callable
    from companion.compression import pruning
    from companion.pretrained.minilm import minilm_path

    repeats = check_positive_int(repeats, "repeats")
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
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")  # a notice, not a fault
        for label, (matrix, as_csr) in cases.items():
            if as_csr:
                csr = matrix.to_sparse_csr()  # the non-zeros, their column indices and row pointers
                if not torch.allclose(csr @ tokens.T, matrix @ tokens.T, atol=1e-4):
                    raise RuntimeError(f"the CSR product differs from the dense one ({label})")
                timing = time_callable(lambda c=csr: c @ tokens.T, warmup=2, repeats=repeats)
            else:
                timing = time_callable(lambda m=matrix: tokens @ m.T, warmup=2, repeats=repeats)
            rows.append({"case": label, "ms": round(1e3 * timing["median_s"], 2),
                         "ms_min": round(1e3 * timing["min_s"], 2), "ms_max": round(1e3 * max(timing["times_s"]), 2)})
    return rows


def compression_benchmark(*, quick: bool = False, repeats: int = 30, runs: int = 3) -> dict:
    """The benchmark's result (a JSON-ready dict); ``quick`` uses 256 test texts instead of all."""
    repeats = check_positive_int(repeats, "repeats")
    runs = check_positive_int(runs, "runs")
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
    n_test = 256 if quick else len(en.test)
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
    runs = [_latencies(runners, batches, repeats) for _ in range(runs)]

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
    return {"machine": machine, "test_texts": n_test, "repeats": repeats, "runs": runs, "rows": rows,
            "batch32_shape": list(batches[32]["input_ids"].shape),
            "op_profile_batch32": profiles, "sparse_kernels": sparse_kernel_times(repeats)}


