"""Chapter 13 benchmark harness: quick mode end to end, file round trip, machine table, bad input."""

import json
import math

import pytest

from companion.bench import cli, machine, suite, timing


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    status = cli.main(["--quick", "--device", "cpu", "--out", str(out)])
    return status, out


def _numbers(row):
    return [v for v in row.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]


def test_quick_run_writes_well_formed_results(quick_run, capsys):
    status, out = quick_run
    assert status == 0
    json_path, md_path = out / "bench_cpu_quick.json", out / "bench_cpu_quick.md"
    results = suite.read_results(json_path)
    assert results["mode"] == "quick" and results["machine"]["device"] == "cpu"
    assert [entry["name"] for entry in results["benchmarks"]] == list(suite.BENCHMARKS)
    for entry in results["benchmarks"]:
        assert entry["error"] is None, entry["error"]
        assert entry["rows"], entry["name"]
        for row in entry["rows"]:
            assert all(math.isfinite(x) for x in _numbers(row))
    mlp = results["benchmarks"][0]["rows"]
    assert all(row["numpy_ms"] > 0 and row["torch_ms"] > 0 for row in mlp)
    assert {row["architecture"] for row in mlp} == {"64-128-10", "784-256-256-10"}
    lstm = results["benchmarks"][2]["rows"][0]
    assert lstm["tokens_per_s"] == pytest.approx(lstm["batch"] * lstm["seq_len"] / (lstm["ms_per_step"] / 1e3))
    transformer = results["benchmarks"][3]["rows"][0]
    assert transformer["tokens_per_s"] > 0 and transformer["mfu"] is None
    assert transformer["parameters"] > 0 and transformer["model_tflop_per_step"] > 0
    assert results["mfu"] == "MFU: not measured (no GPU)"
    # strict JSON round trip: writing what was read gives the same text
    text = json_path.read_text()
    assert json.dumps(json.loads(text), indent=1, allow_nan=False) + "\n" == text
    markdown = md_path.read_text()
    assert "MFU: not measured (no GPU)" in markdown and "| architecture | batch |" in markdown


def test_clean_replaces_non_finite_and_numpy():
    import numpy as np

    cleaned = suite._clean({"a": float("nan"), "b": (np.float32(1.5), np.int64(3)), "c": float("inf")})
    assert cleaned == {"a": None, "b": [1.5, 3], "c": None}


def test_mfu_summary_on_gpu_results():
    results = {"machine": {"device": "cuda", "gpu": "NVIDIA H100 80GB HBM3"}, "benchmarks": [
        {"name": "transformer", "rows": [{"mfu": 0.35, "profile": "p", "dtype": "bf16", "compiled": True},
                                         {"mfu": 0.30, "profile": "q", "dtype": "bf16", "compiled": False}]}]}
    line = suite.mfu_summary(results)
    assert line.startswith("MFU: 35.0%") and "5.0 percentage points below" in line
    results["benchmarks"][0]["rows"] = [{"mfu": None}]
    assert "not reported" in suite.mfu_summary(results)


def test_peak_table_matching():
    assert machine.match_peak_device("NVIDIA H100 80GB HBM3") == "NVIDIA H100 SXM"
    assert machine.match_peak_device("NVIDIA H100 PCIe") == "NVIDIA H100 PCIe"
    assert machine.match_peak_device("NVIDIA H200") == "NVIDIA H200"
    assert machine.match_peak_device("NVIDIA A100-SXM4-80GB") == "NVIDIA A100"
    assert machine.match_peak_device("NVIDIA H100 NVL") is None
    assert machine.match_peak_device("NVIDIA H200 NVL") is None
    assert machine.match_peak_device("NVIDIA GeForce RTX 4090") is None
    assert machine.peak_flops("NVIDIA H100 80GB HBM3", "bf16") == pytest.approx(989.4e12)
    assert machine.peak_flops("Tesla T4", "bf16") is None


def test_markdown_table_format():
    table = suite.rows_to_markdown([{"a": 1, "b": 2.5, "c": None, "d": True}, {"a": 2, "b": 12345.6}])
    assert table.splitlines() == ["| a | b | c | d |", "|---|---|---|---|", "| 1 | 2.500 | – | yes |",
                                  "| 2 | 12,346 | – | – |"]


def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="only must name benchmarks"):
        suite.run_suite(quick=True, device="cpu", only=["gemm"])
    with pytest.raises(TypeError, match="quick must be a bool"):
        suite.run_suite(quick="yes", device="cpu")
    with pytest.raises(ValueError, match="dtype must be one of"):
        machine.peak_flops("NVIDIA H100 PCIe", "int8")
    with pytest.raises(ValueError, match="repeats must be a positive int"):
        timing.time_callable(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="callable"):
        timing.time_callable(42)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"schema": 99}))
    with pytest.raises(ValueError, match="schema"):
        suite.read_results(bad)
    with pytest.raises(FileNotFoundError, match="companion bench"):
        suite.read_results(tmp_path / "missing.json")
    with pytest.raises(SystemExit):
        cli.main(["--only", "gemm"])
    from companion.device import torch_available_devices

    if "cuda" not in torch_available_devices():
        with pytest.raises(SystemExit):
            cli.main(["--device", "cuda", "--no-write"])


def test_transformer_benchmark_bad_profile():
    from companion.bench.transformer import CPU_QUICK, transformer_benchmark

    with pytest.raises(TypeError, match="TransformerBenchProfile"):
        transformer_benchmark({"d_model": 64})
    with pytest.raises(ValueError, match="dtype must be"):
        transformer_benchmark(CPU_QUICK[0], device="cpu", dtype="fp16")


def test_gpu_profiles_fit_an_80_gb_h100_by_the_chapter_13_estimate():
    # Weights, gradients, Adam state (Eq. 13.7) and bf16 activations with the LM head (Eq. 13.10):
    # the profile must leave at least a third of the card for the transient copies of the logits
    # and the allocator, or the H100 run would end in an out-of-memory row.
    from companion.bench.transformer import GPU_FULL, GPU_QUICK
    from companion.models.config import parameter_count
    from companion.scaling.memory import activation_bytes, training_state_bytes

    sizes = {}
    for profile in GPU_FULL + GPU_QUICK:
        sizes[profile.name] = parameter_count(profile.model_config())
        state = training_state_bytes(sizes[profile.name], "adam", "fp32")["total"]
        activations = activation_bytes(profile.num_layers, profile.seq_len, profile.batch, profile.d_model,
                                       profile.num_heads, vocab_size=profile.vocab_size, attention="fused")
        assert state + activations < 80e9 * 2 / 3, (profile.name, (state + activations) / 1e9)
    assert 0.85e9 < sizes["gpu-fill"] < 0.9e9  # the size the comment and chapter 13 quote
