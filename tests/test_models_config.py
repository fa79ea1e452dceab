"""TransformerConfig validation and the closed-form parameter count, Eqs. (10.7)-(10.8) (chapter 10).

The count is checked against sum(p.numel()) of the real PyTorch models in
tests/test_transformer.py; here it is checked by hand and against a published total.
"""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.models.config import (
    TransformerConfig,
    block_parameter_count,
    parameter_breakdown,
    parameter_count,
)


def test_defaults_and_resolved_ffn_width():
    config = TransformerConfig(vocab_size=100, max_len=16)
    assert (config.d_model, config.num_heads, config.num_layers) == (128, 4, 2)
    assert config.ffn_dim == 512 and config.head_dim == 32
    assert TransformerConfig(vocab_size=100, max_len=16, d_ff=300).ffn_dim == 300
    assert config.norm_first and config.positions == "sinusoidal" and config.bias and not config.causal


def test_small_configuration_counted_by_hand():
    # V=10, L=6, D=4, F=8, one block, learned positions, biases, pre-LN, 3 classes.
    config = TransformerConfig(vocab_size=10, max_len=6, d_model=4, num_heads=2, num_layers=1, d_ff=8,
                               positions="learned")
    attention = 4 * (4 * 4 + 4)  # Q, K, V, O with biases
    ffn = (4 * 8 + 8) + (8 * 4 + 4)  # W1, b1, W2, b2
    norms = 2 * (4 + 4)
    assert block_parameter_count(config) == attention + ffn + norms == 172
    expected = 10 * 4 + 6 * 4 + 172 + 2 * 4 + (4 * 3 + 3)
    assert parameter_count(config, head=3) == expected == 259
    assert parameter_breakdown(config, 3) == {"token_embedding": 40, "position_embedding": 24, "blocks": 172,
                                              "final_norm": 8, "head": 15}


def test_gpt2_small_total():
    # GPT-2 small (pre-LN, learned positions, biases, tied LM head) has 124,439,808 parameters.
    config = TransformerConfig(vocab_size=50257, max_len=1024, d_model=768, num_heads=12, num_layers=12,
                               positions="learned", causal=True, tie_embeddings=True)
    assert parameter_count(config, "lm") == 124_439_808
    untied = TransformerConfig(vocab_size=50257, max_len=1024, d_model=768, num_heads=12, num_layers=12,
                               positions="learned", causal=True, tie_embeddings=False)
    assert parameter_count(untied, "lm") == 124_439_808 + 50257 * 768


def test_switches_change_the_count_by_the_stated_terms():
    base = dict(vocab_size=50, max_len=12, d_model=16, num_heads=4, num_layers=3, d_ff=24)
    pre = TransformerConfig(**base)
    post = TransformerConfig(**base, norm_first=False)
    assert parameter_count(pre) - parameter_count(post) == 2 * 16  # the final LayerNorm
    learned = TransformerConfig(**base, positions="learned")
    assert parameter_count(learned) - parameter_count(pre) == 12 * 16
    no_bias = TransformerConfig(**base, bias=False)
    assert parameter_count(pre) - parameter_count(no_bias) == 3 * (4 * 16 + 24 + 16)
    assert parameter_count(pre, 2) - parameter_count(pre) == 16 * 2 + 2
    assert parameter_count(pre, "lm") == parameter_count(pre)  # tied head is free


@settings(deadline=None, max_examples=40)
@given(
    d_head=st.integers(1, 16), heads=st.integers(1, 8), layers=st.integers(1, 6), d_ff=st.integers(1, 64),
    positions=st.sampled_from(["sinusoidal", "learned"]), bias=st.booleans(), norm_first=st.booleans(),
    head=st.one_of(st.sampled_from(["none", "lm"]), st.integers(1, 10)),
)
def test_count_is_the_sum_of_its_terms(d_head, heads, layers, d_ff, positions, bias, norm_first, head):
    config = TransformerConfig(vocab_size=37, max_len=9, d_model=d_head * heads, num_heads=heads,
                               num_layers=layers, d_ff=d_ff, positions=positions, bias=bias, norm_first=norm_first)
    D = config.d_model
    block = 4 * D * D + 2 * D * d_ff + 4 * D + (5 * D + d_ff if bias else 0)
    head_terms = {"none": 0, "lm": 0}.get(head, None) if isinstance(head, str) else D * head + head
    total = 37 * D + (9 * D if positions == "learned" else 0) + layers * block + (2 * D if norm_first else 0)
    assert parameter_count(config, head) == total + head_terms


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(d_model=30, num_heads=4), ValueError, r"divisible by num_heads.*got d_model=30, num_heads=4"),
        (dict(dropout=1.0), ValueError, r"dropout must lie in \[0, 1\); got 1.0"),
        (dict(dropout=-0.1), ValueError, r"dropout must lie in \[0, 1\); got -0.1"),
        (dict(dropout="0.1"), TypeError, "dropout must be a float"),
        (dict(positions="rotary"), ValueError, r"positions must be one of \('sinusoidal', 'learned'\); got 'rotary'"),
        (dict(num_layers=0), ValueError, "num_layers must be a positive int; got 0"),
        (dict(d_model=64.0), TypeError, "d_model must be a positive int; got float"),
        (dict(d_ff=0), ValueError, "d_ff must be a positive int; got 0"),
        (dict(norm_first="yes"), TypeError, "norm_first must be a bool; got str"),
        (dict(vocab_size=-3), ValueError, "vocab_size must be a positive int; got -3"),
    ],
)
def test_bad_configurations_raise_clear_errors(kwargs, error, message):
    base = dict(vocab_size=100, max_len=16)
    base.update(kwargs)
    with pytest.raises(error, match=message):
        TransformerConfig(**base)


def test_bad_heads_and_configs_are_refused():
    config = TransformerConfig(vocab_size=100, max_len=16)
    with pytest.raises(ValueError, match="head must be 'none', 'lm' or a positive int.*got 'classifier'"):
        parameter_count(config, "classifier")
    with pytest.raises(ValueError, match="got 0"):
        parameter_count(config, 0)
    with pytest.raises(TypeError, match="got bool True"):
        parameter_count(config, True)
    with pytest.raises(TypeError, match="config must be a TransformerConfig; got dict"):
        parameter_count({"vocab_size": 100}, "none")


def test_config_is_frozen():
    config = TransformerConfig(vocab_size=100, max_len=16)
    with pytest.raises(AttributeError):
        config.d_model = 64
