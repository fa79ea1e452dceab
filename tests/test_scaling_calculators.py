"""Chapter 13 calculators: parameter counts, FLOPs, memory, number formats (torch-free parts)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.models.config import TransformerConfig, parameter_count
from companion.scaling import flops, memory, precision, shapes

# --- published shapes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [
    ("all-MiniLM-L6-v2", 22_713_216),     # sum of numel over the released weights (see test_scaling_measure.py)
    ("GPT-2 small", 124_439_808),         # the GPT-2 release's 124M model
    ("GPT-2 XL", 1_557_611_200),
    ("Llama 2 7B", 6_738_415_616),
    ("Llama 2 70B", 68_976_648_192),
])
def test_published_shape_counts(name, expected):
    assert shapes.shape_parameter_count(name) == expected


def test_bert_count_is_post_ln_stack_plus_extras():
    D = 32
    config = TransformerConfig(vocab_size=50, max_len=16, d_model=D, num_heads=4, num_layers=2,
                               positions="learned", norm_first=False)
    base = parameter_count(config)
    assert shapes.bert_parameter_count(50, 16, D, 4, 2, 4 * D) == base + 2 * D + 2 * D + D * D + D
    assert shapes.bert_parameter_count(50, 16, D, 4, 2, 4 * D, pooler=False) == base + 4 * D


def test_matmul_params_of_gpt2_small():
    # 12 layers x (4 D^2 + 8 D^2) + V D
    assert shapes.shape_matmul_parameter_count("GPT-2 small") == 12 * 12 * 768**2 + 50257 * 768


def test_shapes_bad_input():
    with pytest.raises(ValueError, match="shape must be one of"):
        shapes.shape_parameter_count("GPT-5")
    with pytest.raises(TypeError, match="PublishedShape"):
        shapes.shape_parameter_count(3)
    with pytest.raises(ValueError, match="cannot express"):
        shapes.transformer_config("Llama 2 7B")
    with pytest.raises(ValueError, match="divisible"):
        shapes.PublishedShape("x", "gpt2", 10, 10, 10, 1, 3, 40)
    with pytest.raises(ValueError, match="family"):
        shapes.PublishedShape("x", "rnn", 10, 10, 12, 1, 3, 40)


# --- FLOPs ------------------------------------------------------------------------------------------------------


def _config(**kw):
    base = dict(vocab_size=101, max_len=64, d_model=32, num_heads=4, num_layers=2, dropout=0.0)
    base.update(kw)
    return TransformerConfig(**base)


def test_matmul_flops_and_backward():
    assert flops.matmul_flops(2, 3, 4) == 48
    assert flops.matmul_backward_flops(2, 3, 4) == 96
    assert flops.matmul_backward_flops(2, 3, 4, input_grad=False) == 48


@settings(deadline=None, max_examples=25)
@given(T=st.integers(1, 64), B=st.integers(1, 4), L=st.integers(1, 3), heads=st.sampled_from([1, 2, 4]),
       width=st.sampled_from([8, 16, 32]), ff=st.sampled_from([None, 24, 64]))
def test_per_token_formula_equals_term_sum(T, B, L, heads, width, ff):
    config = _config(d_model=width, num_heads=heads, num_layers=L, d_ff=ff)
    train = flops.transformer_training_flops(config, T, B, head="lm")
    assert train["total"] == B * T * flops.training_flops_per_token(config, T)
    assert train["total"] == sum(v for k, v in train.items() if k != "total")
    # the attention term is exactly 12 L T D per token
    assert train["attention_scores"] + train["attention_values"] == B * T * 12 * L * T * width


def test_forward_terms_known_case():
    config = _config(d_model=8, num_heads=2, num_layers=1, d_ff=16, vocab_size=10)
    f = flops.transformer_forward_flops(config, 4, 1, head="lm")
    assert f["qkv_proj"] == 3 * 2 * 4 * 8 * 8
    assert f["attention_scores"] == 2 * 4 * 4 * 8
    assert f["ffn"] == 2 * (2 * 4 * 8 * 16)
    assert f["head"] == 2 * 4 * 8 * 10
    assert flops.transformer_forward_flops(config, 4, 3, head=5)["head"] == 2 * 3 * 8 * 5
    assert flops.transformer_forward_flops(config, 4, 1)["head"] == 0


def test_six_n_and_cost():
    assert flops.six_n_flops(1e9, 2e10) == pytest.approx(1.2e20)
    assert flops.training_seconds(1e18, 1e15, 0.5) == pytest.approx(2000.0)
    assert flops.training_seconds(1e18, 1e15, 0.5, n_devices=4) == pytest.approx(500.0)
    assert flops.model_flops_utilisation(4e14, 1.0, 1e15) == pytest.approx(0.4)


def test_flops_bad_input():
    config = _config()
    with pytest.raises(ValueError, match="seq_len must be at most"):
        flops.transformer_forward_flops(config, 65)
    with pytest.raises(ValueError, match="positive int"):
        flops.transformer_forward_flops(config, 0)
    with pytest.raises(TypeError, match="positive int"):
        flops.transformer_forward_flops(config, 2.5)
    with pytest.raises(ValueError, match="head must be"):
        flops.transformer_forward_flops(config, 8, head="classifier")
    with pytest.raises(TypeError, match="TransformerConfig"):
        flops.transformer_forward_flops({"d_model": 8}, 8)
    with pytest.raises(ValueError, match="positive int"):
        flops.matmul_flops(0, 3, 4)
    with pytest.raises(ValueError, match="fraction"):
        flops.training_seconds(1e18, 1e15, 1.5)
    with pytest.raises(ValueError, match="positive finite"):
        flops.six_n_flops(-1, 10)
    with pytest.raises(TypeError, match="positive number"):
        flops.six_n_flops("1e9", 10)


# --- memory -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer, precision_name, per_param", [
    ("sgd", "fp32", 8), ("sgd_momentum", "fp32", 12), ("adam", "fp32", 16), ("adamw", "fp32", 16),
    ("sgd", "bf16", 4), ("sgd_momentum", "bf16", 6), ("adam", "bf16", 8),
    ("adam", "mixed_bf16", 16), ("adam", "mixed_fp16", 16), ("sgd_momentum", "mixed_bf16", 12),
    ("sgd", "mixed_fp16", 8),
])
def test_training_state_bytes_per_parameter(optimizer, precision_name, per_param):
    parts = memory.training_state_bytes(1000, optimizer, precision_name)
    assert parts["total"] == 1000 * per_param
    assert parts["total"] == parts["weights"] + parts["gradients"] + parts["master_weights"] + parts["optimizer_state"]


def test_optimizer_state_bytes_known():
    assert memory.optimizer_state_bytes(7_000_000_000, "adam", "fp32") == 56_000_000_000
    assert memory.optimizer_state_bytes(10, "sgd") == 0
    assert memory.optimizer_state_bytes(10, "sgd_momentum", "bf16") == 20


def test_activation_formula_matches_quoted_form():
    # p = 2, f = 4h, dropout: 34 s b h + 5 a s^2 b bytes
    s, b, h, a = 128, 4, 256, 8
    got = memory.activation_bytes_per_layer(s, b, h, a, dtype="bf16", dropout=True)
    assert got == 34 * s * b * h + 5 * a * s * s * b
    assert memory.activation_bytes_per_layer(s, b, h, a, dtype="fp16") == 32 * s * b * h + 2 * a * s * s * b
    fused = memory.activation_bytes_per_layer(s, b, h, a, dtype="fp32", attention="fused")
    assert fused == 4 * s * b * (8 * h + 8 * h) + 4 * a * s * b


def test_recomputation_keeps_layer_inputs():
    per_layer = memory.activation_bytes_per_layer(64, 2, 32, 4, dtype="fp32")
    assert memory.activation_bytes(3, 64, 2, 32, 4, dtype="fp32") == 3 * per_layer
    assert memory.activation_bytes(3, 64, 2, 32, 4, dtype="fp32", recompute="full") == 3 * 4 * 64 * 2 * 32 + per_layer


def test_head_term_of_a_language_model():
    # GPT-2 XL, one sequence of 1,024 tokens in bf16: final LayerNorm input and output (2 p s h) and the
    # loss's fp32 log-softmax of the 50,257 logits (4 s V), about 0.21 GB.
    s, h, v = 1024, 1600, 50257
    head = memory.head_activation_bytes(s, 1, h, v, dtype="bf16")
    assert head == 2 * 2 * s * h + 4 * s * v == 212_406_272
    assert memory.head_activation_bytes(s, 1, h, v, dtype="bf16", loss_dtype="bf16") == 4 * s * h + 2 * s * v
    expected = 2 * (8 * s * h + 4 * s * v + 8 * s)
    assert memory.head_activation_bytes(s, 2, h, v, dtype="fp32", norm_stats=True) == expected
    # The head is not recomputed: it is added to both totals, which shrinks recomputation's gain.
    args = (48, s, 1, h, 25, 6400)
    options = dict(dtype="bf16", attention="fused", dropout=True)
    kept = memory.activation_bytes(*args, vocab_size=v, **options)
    recomputed = memory.activation_bytes(*args, vocab_size=v, recompute="full", **options)
    assert kept == memory.activation_bytes(*args, **options) + head
    assert recomputed == memory.activation_bytes(*args, recompute="full", **options) + head
    assert 6 < kept / recomputed < 7 < memory.activation_bytes(*args, **options) / memory.activation_bytes(
        *args, recompute="full", **options)
    with pytest.raises(ValueError, match="vocab_size must be a positive int; got 0"):
        memory.head_activation_bytes(s, 1, h, 0)
    with pytest.raises(ValueError, match="dtype must be one of"):
        memory.activation_bytes(*args, vocab_size=v, loss_dtype="fp8")


def test_memory_bad_input():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        memory.training_state_bytes(10, "lion")
    with pytest.raises(TypeError, match="optimizer must be a string"):
        memory.optimizer_state_count(None)
    with pytest.raises(ValueError, match="precision must be one of"):
        memory.training_state_bytes(10, "adam", "int8")
    with pytest.raises(ValueError, match="dtype must be one of"):
        memory.optimizer_state_bytes(10, "adam", "fp8")
    with pytest.raises(ValueError, match="positive int"):
        memory.training_state_bytes(0)
    with pytest.raises(TypeError, match="positive int"):
        memory.training_state_bytes(1.5)
    with pytest.raises(ValueError, match="positive int"):
        memory.activation_bytes_per_layer(-1, 2, 32, 4)
    with pytest.raises(ValueError, match="attention must be one of"):
        memory.activation_bytes_per_layer(8, 2, 32, 4, attention="flash")
    with pytest.raises(ValueError, match="recompute must be one of"):
        memory.activation_bytes(2, 8, 2, 32, 4, recompute="some")


# --- number formats ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, np_dtype", [("fp32", np.float32), ("fp16", np.float16)])
def test_format_limits_match_numpy(name, np_dtype):
    fmt = precision.float_format(name)
    info = np.finfo(np_dtype)
    assert fmt.max == float(info.max)
    assert fmt.smallest_normal == float(info.smallest_normal)
    assert fmt.smallest_subnormal == float(info.smallest_subnormal)
    assert fmt.eps == float(info.eps)
    assert fmt.bytes == np.dtype(np_dtype).itemsize


def test_bf16_limits():
    fmt = precision.float_format("bfloat16")
    assert fmt.bytes == 2 and fmt.eps == 2.0**-7
    assert fmt.smallest_normal == float(np.finfo(np.float32).smallest_normal)
    assert math.isclose(fmt.max, 3.3895313892515355e38)


def test_dtype_names():
    assert precision.normalise_dtype("float16") == "fp16"
    assert precision.normalise_dtype(np.dtype("float32")) == "fp32"
    assert precision.dtype_bytes("BF16") == 2
    with pytest.raises(ValueError, match="dtype must be one of"):
        precision.normalise_dtype("int8")
    with pytest.raises(TypeError, match="dtype must be a string"):
        precision.normalise_dtype(16)
