"""Chapter 16's serving benchmark: runtimes at several batch sizes, then the real server under load.

:func:`runtime_benchmark` times chapter 11's MiniLM classifier (the served model's network)
in eager PyTorch, under ``torch.compile`` (inductor, dynamic shapes), in ONNX Runtime fp32
and in ONNX Runtime int8, on one CPU thread, at batch sizes 1, 8 and 32 of real test texts
cut or padded to 32 tokens (so that the batch size alone changes); each figure is the median of
``repeats`` calls per run, then the median and [min-max] over ``runs``. It also fits the batch cost model
``c(b) = c_0 + b c_1`` of Eq. (16.5) to each runtime's medians.

:func:`load_benchmark` builds the served int8 model, starts ``python -m companion serve``
with batching off (``max_batch_size=1``) and on, and drives it with
:func:`companion.serving.load.run_load` at several concurrencies, ``n_requests`` requests
per point, ``runs`` times each. Both print nothing; ``benchmarks/serving.py`` prints and saves.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from companion.checks import check_positive_int

BATCH_SIZES = (1, 8, 32)
TOKENS = 32
BATCHING = {"off (one request per call)": {"max_batch_size": 1, "max_wait_ms": 0.0},
            "on, max batch 8, wait 2 ms": {"max_batch_size": 8, "max_wait_ms": 2.0},
            "on, max batch 32, wait 5 ms": {"max_batch_size": 32, "max_wait_ms": 5.0}}
CONCURRENCY = (1, 4, 16, 32)


def fit_batch_cost(batch_sizes, seconds) -> dict:
    """Least-squares ``c(b) = c_0 + b c_1`` (Eq. (16.5)) through measured call times."""
    b = np.asarray(batch_sizes, dtype=np.float64)
    c = np.asarray(seconds, dtype=np.float64)
    if b.ndim != 1 or b.shape != c.shape or b.size < 2 or np.unique(b).size < 2:
        raise ValueError(f"need at least two distinct batch sizes with one time each; got {b.tolist()} and "
                         f"{c.tolist()}")
    slope, intercept = np.polyfit(b, c, 1)
    return {"c0_ms": 1e3 * float(intercept), "c1_ms": 1e3 * float(slope)}


def _test_batches(tokenizer, texts, length: int = TOKENS) -> dict:
    """Batches of real test texts cut or padded to ``length`` tokens, so that only ``b`` changes."""
    batches = {}
    for batch_size in BATCH_SIZES:
        encoded = tokenizer(texts[:batch_size], padding="max_length", truncation=True, max_length=length,
                            return_tensors="np")
        batches[batch_size] = {key: encoded[key].astype(np.int64) for key in ("input_ids", "attention_mask")}
    return batches


def runtime_benchmark(*, repeats: int = 20, runs: int = 3, compile_model: bool = True) -> dict:
    """Latency of each runtime at each batch size (ms), with the fitted ``c_0`` and ``c_1``."""
    repeats, runs = check_positive_int(repeats, "repeats"), check_positive_int(runs, "runs")
    import torch
    from tqdm import TqdmWarning

    from companion.bench.timing import time_callable
    from companion.compression import onnx_runtime
    from companion.data import load_english_sentiment
    from companion.pretrained.minilm import load_minilm

    torch.set_num_threads(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        tokenizer, encoder = load_minilm(device="cpu")
    corpus = load_english_sentiment("movie_reviews", seed=0)
    classifier, _ = onnx_runtime.probe_classifier(tokenizer, encoder, corpus.train.texts[:1024],
                                                  corpus.train.labels[:1024])
    work = Path(tempfile.mkdtemp(prefix="serving_bench_"))
    example = tokenizer(corpus.test.texts[:2], padding=True, return_tensors="pt")
    fp32 = onnx_runtime.export_onnx(classifier, work / "fp32.onnx", example["input_ids"], example["attention_mask"])
    int8 = onnx_runtime.quantize_dynamic_int8(fp32, work / "int8.onnx")
    batches = _test_batches(tokenizer, corpus.test.texts)

    torch.set_num_threads(1)

    def torch_runner(module):
        def run(batch):
            with torch.inference_mode():
                return module(torch.as_tensor(batch["input_ids"]), torch.as_tensor(batch["attention_mask"]))
        return run

    runners = {"PyTorch eager fp32": torch_runner(classifier)}
    compile_seconds = None
    if compile_model:
        compiled = torch.compile(classifier, dynamic=True)
        started = time.perf_counter()
        for batch in batches.values():  # compile (once, dynamic shapes) and warm up every shape
            torch_runner(compiled)(batch)
        compile_seconds = time.perf_counter() - started
        runners["torch.compile fp32 (inductor)"] = torch_runner(compiled)
    for name, path in (("ONNX Runtime fp32", fp32), ("ONNX Runtime int8", int8)):
        session = onnx_runtime.onnx_session(path, threads=1)
        runners[name] = lambda batch, s=session: s.run(["logits"], batch)

    medians = {}
    for _ in range(runs):
        for batch_size, batch in batches.items():
            for name, run in runners.items():
                timing = time_callable(lambda r=run, b=batch: r(b), warmup=2, repeats=repeats)
                medians.setdefault((name, batch_size), []).append(1e3 * timing["median_s"])
    rows = []
    for name in runners:
        row = {"runtime": name}
        for batch_size in BATCH_SIZES:
            values = medians[(name, batch_size)]
            row[f"batch{batch_size}_ms"] = round(statistics.median(values), 2)
            row[f"batch{batch_size}_ms_min"] = round(min(values), 2)
            row[f"batch{batch_size}_ms_max"] = round(max(values), 2)
        fit = fit_batch_cost(BATCH_SIZES, [row[f"batch{b}_ms"] / 1e3 for b in BATCH_SIZES])
        row.update({key: round(value, 3) for key, value in fit.items()})
        rows.append(row)
    shapes = {str(b): list(batch["input_ids"].shape) for b, batch in batches.items()}
    return {"rows": rows, "batch_shapes": shapes, "repeats": repeats, "runs": runs, "torch_threads": 1,
            "compile_seconds": None if compile_seconds is None else round(compile_seconds, 1)}


def load_benchmark(*, n_requests: int = 2000, runs: int = 3, concurrency=CONCURRENCY, model_dir=None) -> dict:
    """Throughput and latency of the real server, batching off and on, at each concurrency."""
    n_requests, runs = check_positive_int(n_requests, "n_requests"), check_positive_int(runs, "runs")
    from companion.data import load_english_sentiment
    from companion.serving.load import run_load
    from companion.serving.sentiment_model import build_sentiment_model
    from companion.serving.server import ServerProcess, free_port, serve_command

    if model_dir is None:
        model_dir = build_sentiment_model(Path(tempfile.mkdtemp(prefix="serving_load_")) / "model")
    texts = load_english_sentiment("movie_reviews", seed=0).test.texts
    points = []
    for setting, options in BATCHING.items():
        port = free_port()
        with ServerProcess(serve_command(model_dir, port, threads=1, **options), port) as server:
            run_load(server.url, texts, concurrency=4, n_requests=100)  # warm-up, not reported
            for clients in concurrency:
                results = [run_load(server.url, texts, concurrency=clients, n_requests=n_requests,
                                    time_limit_s=300) for _ in range(runs)]
                point = {"batching": setting, **options, "concurrency": clients,
                         "requests": sum(r["requests"] for r in results), "failed": sum(r["failed"] for r in results)}
                for key in ("throughput_rps", "p50_ms", "p95_ms", "p99_ms"):
                    values = [r[key] for r in results]
                    point[key] = round(float(statistics.median(values)), 2)
                    point[key + "_min"] = round(float(min(values)), 2)
                    point[key + "_max"] = round(float(max(values)), 2)
                points.append(point)
    return {"points": points, "n_requests": n_requests, "runs": runs, "server_threads": 1}
