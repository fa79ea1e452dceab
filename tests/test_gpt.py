"""The small GPT of chapter 12: causality, KV-cache equivalence, parameter count, data and evaluation."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.generation.generate import generate
from companion.models.config import TransformerConfig, parameter_count
from companion.models.counting import count_parameters
from companion.models.gpt import GPT
from companion.train.language_model import (GPT_CPU_PROFILE, GPT_GPU_PROFILE, SEPARATOR, build_char_vocabulary,
                                            choose_gpt_profile, encode_stream, evaluate_nll, gpt_config,
                                            learning_rate_at, lm_loss, random_windows, train_gpt, unigram_nll)
from companion.models.transformer import set_attention_implementation


def _config(**overrides):
    settings_ = dict(vocab_size=23, max_len=20, d_model=32, num_heads=4, num_layers=2, dropout=0.1,
                     positions="learned", causal=True)
    settings_.update(overrides)
    return TransformerConfig(**settings_)


def _model(seed=0, **overrides):
    torch.manual_seed(seed)
    return GPT(_config(**overrides)).eval()


# --- parameter count and weight tying --------------------------------------------------------------------------


@pytest.mark.parametrize("tie", [True, False])
@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("norm_first", [True, False])
def test_parameter_count_matches_unique_parameters(tie, positions, bias, norm_first):
    config = _config(tie_embeddings=tie, positions=positions, bias=bias, norm_first=norm_first, d_ff=48)
    model = GPT(config)
    unique = {id(p): p.numel() for p in model.parameters()}
    assert parameter_count(config, "lm") == sum(unique.values()) == count_parameters(model)
    V, D = config.vocab_size, config.d_model
    assert parameter_count(_config(tie_embeddings=False, positions=positions, bias=bias, norm_first=norm_first,
                                   d_ff=48), "lm") - parameter_count(
        _config(tie_embeddings=True, positions=positions, bias=bias, norm_first=norm_first, d_ff=48), "lm") == V * D
    assert (model.lm_head.weight is model.embedding.token.weight) == tie


def test_tied_head_shares_storage_and_gradient():
    model = _model()
    assert model.lm_head.weight.data_ptr() == model.embedding.token.weight.data_ptr()
    ids = torch.randint(1, 23, (2, 6))
    lm_loss(model(ids[:, :-1]), ids[:, 1:]).backward()
    grad = model.embedding.token.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert model.lm_head.bias is None


# --- the padding row of the token embedding (the docstring of companion.models.gpt) -----------------------------


def _pad_row_gradient(model, ids):
    model.zero_grad(set_to_none=True)
    lm_loss(model(ids[:, :-1]), ids[:, 1:]).backward()
    return model.embedding.token.weight.grad[0]


def test_padding_row_starts_at_zero_and_gets_no_gradient_from_the_lookup():
    # Untied: row 0 of E is used by the lookup only, and padding_idx=0 gives it no gradient, even where
    # the input is <pad>; so it stays 0 however long the model trains.
    for tie in (True, False):
        assert torch.equal(_model(tie_embeddings=tie).embedding.token.weight[0], torch.zeros(32))
    model = _model(tie_embeddings=False, dropout=0.0)
    ids = torch.randint(0, 23, (4, 12))
    ids[:, :4] = 0  # plenty of <pad> inputs
    assert torch.equal(_pad_row_gradient(model, ids), torch.zeros(32))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    for _ in range(3):
        _pad_row_gradient(model, ids)
        optimizer.step()
    assert torch.equal(model.embedding.token.weight[0], torch.zeros(32))


def test_tied_padding_row_gets_the_gradient_of_the_pad_logit_and_does_not_stay_zero():
    # Tied: the same matrix is the output layer, so row 0 receives d loss / d z_pad (softmax minus target,
    # times the final states) although no input and no target is <pad>; training moves it off 0.
    model = _model(dropout=0.0)
    ids = torch.randint(1, 23, (4, 12))
    grad = _pad_row_gradient(model, ids)
    assert grad.abs().max() > 0
    with torch.no_grad():
        states = model.final_norm(_final_states(model, ids[:, :-1]))
        probs = torch.softmax(model.lm_head(states), dim=-1)
    expected = (probs[..., 0:1] * states).sum(dim=(0, 1)) / ids[:, 1:].numel()  # no target is 0
    torch.testing.assert_close(grad, expected, rtol=1e-4, atol=1e-7)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    optimizer.step()
    assert model.embedding.token.weight[0].norm() > 0


def _final_states(model, ids):
    x = model.embedding(ids)
    for block in model.blocks:
        x = block(x, is_causal=True)
    return x


def test_gpt_needs_a_causal_config():
    with pytest.raises(ValueError, match="causal=True"):
        GPT(_config(causal=False))
    with pytest.raises(TypeError, match="TransformerConfig"):
        GPT({"vocab_size": 10})


def test_initial_loss_is_close_to_uniform():
    model = _model(seed=1, vocab_size=50)
    ids = torch.randint(1, 50, (8, 20))
    loss = lm_loss(model(ids[:, :-1]), ids[:, 1:]).item()
    assert abs(loss - math.log(50)) < 0.05


# --- causality ---------------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=10)
@given(seed=st.integers(0, 1000), T=st.integers(2, 20), cut=st.integers(1, 19),
       implementation=st.sampled_from(["sdpa", "written_out"]))
def test_future_tokens_do_not_change_earlier_logits(seed, T, cut, implementation):
    cut = min(cut, T - 1)
    model = _model()
    set_attention_implementation(model, implementation)
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 23, (2, T), generator=generator)
    changed = ids.clone()
    changed[:, cut:] = torch.randint(1, 23, (2, T - cut), generator=generator)
    with torch.no_grad():
        a, b = model(ids), model(changed)
    torch.testing.assert_close(a[:, :cut], b[:, :cut], rtol=0, atol=1e-6)
    if not torch.equal(ids[:, cut:], changed[:, cut:]):
        assert not torch.allclose(a[:, cut:], b[:, cut:])  # the test can see a leak: later logits do change


def test_a_non_causal_forward_would_be_caught():
    """The causal check above detects leakage: the same stack without the causal mask fails it."""
    model = _model()
    ids = torch.randint(1, 23, (1, 10), generator=torch.Generator().manual_seed(0))
    changed = ids.clone()
    changed[:, 5:] = (changed[:, 5:] % 22) + 1
    with torch.no_grad():
        def leaky(x):
            h = model.embedding(x)
            for block in model.blocks:
                h = block(h, is_causal=False)
            return model.lm_head(model.final_norm(h))
        assert not torch.allclose(leaky(ids)[:, :5], leaky(changed)[:, :5], atol=1e-6)


# --- KV cache ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("implementation", ["sdpa", "written_out"])
def test_cached_forward_equals_full_forward(implementation):
    model = _model()
    set_attention_implementation(model, implementation)
    ids = torch.randint(1, 23, (3, 20), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        full = model(ids)
        caches = model.make_caches()
        pieces = [model(ids[:, :7], caches=caches, start=0)]
        for t in range(7, 20):
            pieces.append(model(ids[:, t:t + 1], caches=caches, start=t))
    assert caches[0].length == 20 and caches[1].keys.shape == (3, 4, 20, 8)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=0, atol=2e-5)


@pytest.mark.parametrize("implementation", ["sdpa", "written_out"])
@pytest.mark.parametrize("sampling", [
    dict(strategy="greedy"),
    dict(strategy="sample", temperature=1.0),
    dict(strategy="sample", temperature=0.7, top_k=5),
    dict(strategy="sample", temperature=1.3, top_p=0.9),
])
def test_cached_generation_gives_the_same_tokens(implementation, sampling):
    model = _model(seed=3)
    set_attention_implementation(model, implementation)
    prompts = torch.tensor([[4, 5, 6], [7, 8, 9]])
    outs = []
    for use_cache in (True, False):
        generator = torch.Generator().manual_seed(11)
        outs.append(generate(model, prompts, 17, use_cache=use_cache, generator=generator, **sampling))
    assert outs[0].shape == (2, 20)
    assert torch.equal(outs[0], outs[1])
    if sampling["strategy"] == "sample":  # a different seed gives different tokens, so the seed matters
        other = generate(model, prompts, 17, generator=torch.Generator().manual_seed(12), **sampling)
        assert not torch.equal(other, outs[0])


def test_cache_errors():
    model = _model()
    ids = torch.randint(1, 23, (1, 4))
    caches = model.make_caches()
    with torch.no_grad():
        model(ids, caches=caches, start=0)
        with pytest.raises(ValueError, match=r"start must equal the number of cached positions \(4\); got 3"):
            model(ids[:, :1], caches=caches, start=3)
        with pytest.raises(ValueError, match="one KVCache per block"):
            model(ids, caches=caches[:1], start=4)
        with pytest.raises(ValueError, match="exceeds max_len 20"):
            model(torch.ones(1, 21, dtype=torch.long))


# --- data, loss, evaluation ----------------------------------------------------------------------------------------


def test_char_vocabulary_uses_the_training_texts_only():
    vocab = build_char_vocabulary(["abca", "bd"])
    assert SEPARATOR in vocab and "z" not in vocab
    # most frequent first (a, b and the separator twice each, ties in string order), then d and c
    assert vocab.itos == ["<pad>", "<unk>", SEPARATOR, "a", "b", "c", "d"]
    stream = encode_stream(["az", "b"], vocab)
    assert stream.tolist() == [vocab.stoi["a"], 1, vocab.stoi[SEPARATOR], vocab.stoi["b"], vocab.stoi[SEPARATOR]]
    with pytest.raises(ValueError, match="contains the separator"):
        build_char_vocabulary(["a\nb"])
    with pytest.raises(TypeError, match=r"must be an iterable of str \(a list of texts\); got str"):
        encode_stream("abc", vocab)
    with pytest.raises(ValueError, match="at least one text"):
        build_char_vocabulary([])


def test_random_windows_are_shifted_by_one():
    stream = np.arange(2, 50)
    x, y = random_windows(stream, 6, 10, np.random.default_rng(0))
    assert x.shape == y.shape == (6, 10)
    assert np.array_equal(y, x + 1)  # the stream counts up by one
    with pytest.raises(ValueError, match="at least 11 tokens"):
        random_windows(np.arange(10), 2, 10, np.random.default_rng(0))


def test_lm_loss_is_the_mean_negative_log_probability():
    logits = torch.randn(2, 5, 7, generator=torch.Generator().manual_seed(0))
    targets = torch.randint(1, 7, (2, 5))
    manual = -torch.log_softmax(logits, dim=-1).gather(-1, targets[..., None]).mean()
    torch.testing.assert_close(lm_loss(logits, targets), manual)
    with pytest.raises(ValueError, match="logits must be"):
        lm_loss(logits, targets[:, :4])


def test_evaluate_nll_scores_every_target_once():
    model = _model(seed=4)
    stream = np.random.default_rng(0).integers(1, 23, size=47)
    got = evaluate_nll(model, stream, context=10, batch_size=3)
    # reference: one window at a time, the same cut into windows of 10 predictions
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, 46, 10):
            window = torch.as_tensor(stream[start:start + 11])[None]
            logp = torch.log_softmax(model(window[:, :-1]).double(), dim=-1)
            total -= logp.gather(-1, window[:, 1:, None]).sum().item()
            count += window.shape[1] - 1
    assert count == 46
    assert got == pytest.approx(total / count, rel=1e-6)
    with pytest.raises(ValueError, match="exceeds the model's max_len"):
        evaluate_nll(model, stream, context=21)


def test_unigram_nll_by_hand():
    train = np.array([2, 2, 2, 3])
    held_out = np.array([3, 2, 4])  # targets 2 and 4
    V = 5
    p2, p4 = (3 + 1) / (4 + 5), (0 + 1) / (4 + 5)
    assert unigram_nll(train, held_out, V) == pytest.approx(-(math.log(p2) + math.log(p4)) / 2)
    assert unigram_nll(train, held_out, V, alpha=0.5) != pytest.approx(unigram_nll(train, held_out, V))
    with pytest.raises(ValueError, match="vocab_size=4"):
        unigram_nll(train, held_out, 4)
    with pytest.raises(ValueError, match="alpha"):
        unigram_nll(train, held_out, V, alpha=0)


def test_profiles_and_schedule():
    assert choose_gpt_profile(torch.device("cpu")) is GPT_CPU_PROFILE
    assert choose_gpt_profile("cuda") is GPT_GPU_PROFILE
    config = gpt_config(30, GPT_CPU_PROFILE)
    assert config.causal and config.tie_embeddings and config.max_len == GPT_CPU_PROFILE.max_len
    p = GPT_CPU_PROFILE
    assert learning_rate_at(0, p) == pytest.approx(p.learning_rate / p.warmup_steps)
    assert learning_rate_at(p.warmup_steps, p) == pytest.approx(p.learning_rate)
    assert learning_rate_at(p.steps, p) == pytest.approx(0.1 * p.learning_rate)


def test_training_lowers_the_loss_on_a_learnable_stream():
    torch.manual_seed(0)
    stream = np.tile(np.array([2, 3, 4, 5, 6]), 60)  # a cycle: perfectly predictable from one character
    profile = dataclasses.replace(GPT_CPU_PROFILE, d_model=16, num_heads=2, num_layers=1, max_len=8, batch_size=8,
                                  steps=40, warmup_steps=5, learning_rate=1e-2)
    model = GPT(gpt_config(7, profile))
    before = evaluate_nll(model, stream)
    history = train_gpt(model, stream, profile, np.random.default_rng(0), log_every=20)
    after = evaluate_nll(model, stream)
    assert history["step"] == [20, 40]
    assert before > 1.5 and after < 0.2
