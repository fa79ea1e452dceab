"""Training throughput and model FLOPs utilisation of the book's Transformer (book chapter 13).

One step trains the chapter-12 GPT (:class:`companion.models.gpt.GPT`) on a
batch of random token ids: forward pass, next-token cross-entropy, backward
pass, AdamW update. The row reports tokens per second, the model FLOPs of the
step from Eq. (13.5) (the weight products and the attention-score products,
counted in full although the attention is causal), the achieved FLOP/s, and on
a GPU listed in :data:`companion.bench.machine.PEAK_FLOPS` the MFU, Eq. (13.11),
and its distance from 40 %.

On a GPU the step runs the way large models are trained: bf16 autocast, the
fused ``scaled_dot_product_attention`` kernel, the fused AdamW implementation
and, when asked, ``torch.compile``. On the CPU it runs in fp32 eagerly, and no
MFU is reported: a CPU has no datasheet peak in the table, and the number
would mean little.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.bench.timing import time_callable

MFU_TARGET = 0.40


@dataclass(frozen=True)
class TransformerBenchProfile:
    """Sizes of one Transformer throughput measurement."""

    name: str
    vocab_size: int
    d_model: int
    num_heads: int
    num_layers: int
    seq_len: int
    batch: int

    def model_config(self):
        """The GPT's TransformerConfig: learned positions, tied embeddings, no dropout."""
        from companion.models.config import TransformerConfig  # numpy only; keeps import time low

        return TransformerConfig(vocab_size=self.vocab_size, max_len=self.seq_len, d_model=self.d_model,
                                 num_heads=self.num_heads, num_layers=self.num_layers, dropout=0.0,
                                 causal=True, positions="learned", tie_embeddings=True)


CPU_QUICK = (TransformerBenchProfile("cpu-tiny", 512, 64, 4, 2, 64, 8),)
CPU_FULL = (TransformerBenchProfile("cpu-small", 2048, 128, 4, 4, 128, 16),
            TransformerBenchProfile("cpu-medium", 4096, 256, 8, 4, 256, 8))
# The H100 size: 0.87 B parameters, 16 k tokens per step. Estimated with chapter 13's calculators
# (fp32 weights, gradients and Adam state, Eq. 13.7: 14.0 GB; bf16 activations with fused attention,
# Eq. 13.10, including the 2.3 GB of the LM head and loss: 19.5 GB) it needs about 33 GB, so it fits
# an 80 GB H100 with room for the logits' transient copies; tests/test_bench_harness.py checks this.
GPU_FULL = (TransformerBenchProfile("gpu-fill", 32768, 2048, 16, 16, 2048, 8),)
GPU_QUICK = (TransformerBenchProfile("gpu-small", 32768, 1024, 16, 8, 1024, 8),)


def transformer_benchmark(profile: TransformerBenchProfile, *, device=None, dtype: str | None = None,
                          compile: bool = False, warmup: int = 2, repeats: int = 5, seed: int = 0) -> dict:
    """Time training steps of a GPT of ``profile``'s size; return one row (a dict).

    Args:
        profile: model and batch sizes.
        device: torch device (default ``companion.get_device()``).
        dtype: "fp32" or "bf16" (autocast); default bf16 on CUDA, fp32 elsewhere.
        compile: wrap the model in ``torch.compile``.
        warmup, repeats: untimed and timed steps.

    Returns:
        {"profile", "device", "dtype", "compiled", "parameters", "tokens_per_step", "ms_per_step",
         "tokens_per_s", "model_tflop_per_step", "achieved_tflop_per_s", "peak_tflop_per_s", "mfu",
         "mfu_gap_to_target", "peak_memory_gib"}; peak, MFU, gap and memory are None where not measured.
    """
    import torch

    from companion.bench.machine import peak_flops
    from companion.device import get_device
    from companion.models.gpt import GPT
    from companion.train.language_model import lm_loss
    from companion.scaling.flops import training_flops_per_token
    from companion.models.counting import count_parameters

    if not isinstance(profile, TransformerBenchProfile):
        raise TypeError(f"profile must be a TransformerBenchProfile; got {type(profile).__name__}")
    device = torch.device(device) if device is not None else get_device()
    dtype = dtype or ("bf16" if device.type == "cuda" else "fp32")
    if dtype not in ("fp32", "bf16"):
        raise ValueError(f"dtype must be 'fp32' or 'bf16'; got {dtype!r}")
    config = profile.model_config()
    generator = torch.Generator().manual_seed(seed)
    model = GPT(config).to(device)
    n_params = count_parameters(model, trainable_only=True)
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=fused)
    ids = torch.randint(1, profile.vocab_size, (profile.batch, profile.seq_len + 1), generator=generator).to(device)
    inputs, targets = ids[:, :-1], ids[:, 1:]
    forward = torch.compile(model) if compile else model

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16"):
            loss = lm_loss(forward(inputs), targets)
        loss.backward()
        optimizer.step()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    timing = time_callable(step, warmup=warmup, repeats=repeats, device=device)
    seconds = timing["median_s"]
    tokens = profile.batch * profile.seq_len
    model_flops = tokens * training_flops_per_token(config, profile.seq_len)
    achieved = model_flops / seconds
    peak = None
    memory = None
    if device.type == "cuda":
        peak = peak_flops(torch.cuda.get_device_name(device), dtype)
        memory = torch.cuda.max_memory_allocated(device) / 2**30
    mfu = None if peak is None else achieved / peak
    return {
        "profile": profile.name, "device": device.type, "dtype": dtype, "compiled": bool(compile),
        "vocab_size": profile.vocab_size, "d_model": profile.d_model, "heads": profile.num_heads,
        "layers": profile.num_layers, "seq_len": profile.seq_len,
        "batch": profile.batch, "parameters": n_params, "tokens_per_step": tokens,
        "ms_per_step": seconds * 1e3, "tokens_per_s": tokens / seconds,
        "model_tflop_per_step": model_flops / 1e12, "achieved_tflop_per_s": achieved / 1e12,
        "peak_tflop_per_s": None if peak is None else peak / 1e12,
        "mfu": mfu, "mfu_gap_to_target": None if mfu is None else mfu - MFU_TARGET,
        "peak_memory_gib": memory,
    }


def transformer_suite(*, quick: bool = False, device=None, progress=None) -> list[dict]:
    """The harness's Transformer rows: CPU profiles eagerly in fp32; on CUDA bf16, eager and compiled."""
    import torch

    from companion.device import get_device

    device = torch.device(device) if device is not None else get_device()
    rows = []
    if device.type == "cuda":
        profiles = GPU_QUICK if quick else GPU_FULL
        variants = [{"compile": False}, {"compile": True}]
        warmup, repeats = (3, 5) if quick else (5, 10)
    else:
        profiles = CPU_QUICK if quick else CPU_FULL
        variants = [{"compile": False}]
        warmup, repeats = (1, 3) if quick else (2, 5)
    for profile in profiles:
        for variant in variants:
            try:
                row = transformer_benchmark(profile, device=device, warmup=warmup, repeats=repeats, **variant)
            except torch.cuda.OutOfMemoryError:
                torch.cuda.empty_cache()
                row = {"profile": profile.name, "device": device.type, "compiled": variant["compile"],
                       "note": "out of GPU memory at this size"}
            rows.append(row)
            if progress is not None and "tokens_per_s" in row:
                progress(f"transformer {profile.name} compiled={variant['compile']}: "
                         f"{row['tokens_per_s']:.0f} tokens/s")
    return rows
