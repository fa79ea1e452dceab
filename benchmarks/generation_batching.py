"""Chapter 16's generation benchmark: decoding-step cost by batch size, and three schedules compared.

Chapter 12's CPU GPT (2 blocks, width 128, context 128, its character vocabulary of the movie
reviews) on one CPU thread, as the server runs it. The weights are chapter 12's initialisation,
untrained: a step's time does not depend on their values. Each run measures
:func:`companion.bench.generation.decode_step_costs` at batch sizes 1, 4, 16 and 64, then
:func:`companion.bench.generation.compare_schedules` on 64 requests of 8 to 112 new tokens
(seeded) with 16 places; figures are the median [min-max] over ``--runs`` runs. Writes
``benchmarks/results/generation_batching_cpu.json`` and ``.md`` unless ``--no-write``.

Usage:
    python benchmarks/generation_batching.py            # about 20 s
    python benchmarks/generation_batching.py --runs 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SCHEDULES = ("one at a time", "static batching", "continuous batching")


def measure(runs: int) -> dict:
    import torch

    from companion.bench.generation import compare_schedules, decode_step_costs, workload_lengths
    from companion.bench.machine import describe_machine
    from companion.data import load_english_sentiment
    from companion.models.gpt import GPT
    from companion.seed import set_seed
    from companion.train.language_model import GPT_CPU_PROFILE, build_char_vocabulary, gpt_config

    torch.set_num_threads(1)
    set_seed(0)
    vocab = build_char_vocabulary(load_english_sentiment("movie_reviews", seed=0).train.texts)
    model = GPT(gpt_config(len(vocab), GPT_CPU_PROFILE)).eval()
    lengths = workload_lengths()
    results = [compare_schedules(model, lengths, step_cost=decode_step_costs(model)) for _ in range(runs)]
    return {"machine": describe_machine("cpu"), "command": "python " + " ".join(sys.argv), "runs": runs,
            "vocab_size": len(vocab), "profile": GPT_CPU_PROFILE.name, "results": results}


def _spread(values, digits=2) -> str:
    return f"{statistics.median(values):.{digits}f} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def markdown(result: dict) -> str:
    m, runs = result["machine"], result["results"]
    first = runs[0]
    sizes = list(first["step_cost"]["step_ms"])
    lines = [
        "# Batching text generation (chapter 16)",
        "",
        f"Measured by `{result['command']}` on {m['date_utc']} UTC: {m['cpu']}, one thread, PyTorch {m['torch']}, "
        f"load average {m['load_average_1m']} at the start. Chapter 12's {result['profile']} GPT, vocabulary "
        f"{result['vocab_size']}, untrained weights (a step's time does not depend on them). Median [min-max] over "
        f"{result['runs']} runs.",
        "",
        f"## One decoding step of `generate` (ms; context {first['step_cost']['prompt_len']} to "
        f"{first['step_cost']['prompt_len'] + first['step_cost']['new_tokens']} tokens)",
        "",
        "| " + " | ".join(f"batch {b}" for b in sizes) + " | c_0 ms | c_1 ms per row | bound 1 + c_0/c_1 |",
        "| " + " | ".join("---" for _ in range(len(sizes) + 3)) + " |",
        "| " + " | ".join(_spread([r["step_cost"]["step_ms"][b] for r in runs], 3) for b in sizes)
        + f" | {_spread([r['step_cost']['c0_ms'] for r in runs], 3)}"
        + f" | {_spread([r['step_cost']['c1_ms'] for r in runs], 4)}"
        + f" | {_spread([1 + r['step_cost']['c0_ms'] / r['step_cost']['c1_ms'] for r in runs], 1)} |",
        "",
        f"## {first['requests']} requests, {first['tokens']} new tokens in all, {first['slots']} places, "
        f"prompts of {first['prompt_len']} tokens",
        "",
        "| schedule | how | seconds | tokens/s | mean completion s | predicted seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in SCHEDULES:
        predicted = [r["predicted"][name]["seconds"] for r in runs]
        source = "measured" if name in first["measured"] else "predicted"
        rows = [r[source][name] for r in runs]
        lines.append(f"| {name} | {source} | {_spread([x['seconds'] for x in rows])} | "
                     f"{_spread([x['tokens_per_s'] for x in rows], 0)} | "
                     f"{_spread([x['mean_completion_s'] for x in rows])} | {_spread(predicted)} |")
    lines += ["", "Continuous batching is predicted, not measured: the book's KV cache holds one length for all "
              "rows, so sequences cannot join a batch mid-way. The predictions use the measured step times "
              "(linear between the batch sizes measured); the last column shows how close they come for the "
              "two schedules that were measured."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="whole measurements (default 3)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs must be positive; got {args.runs}")
    result = measure(args.runs)
    text = markdown(result)
    print(text)
    if not args.no_write:
        RESULTS_DIR.mkdir(exist_ok=True)
        (RESULTS_DIR / "generation_batching_cpu.json").write_text(json.dumps(result, indent=2) + "\n")
        (RESULTS_DIR / "generation_batching_cpu.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
