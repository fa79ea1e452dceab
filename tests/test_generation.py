"""Sampling filters and the decoding loop (chapter 12): what each strategy keeps, and bad input."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.generation.generate import check_prompt, generate, generate_stream
from companion.generation.sampling import (apply_temperature, check_logits, entropy, filter_logits, greedy,
                                           next_token_distribution, sample_next_token, top_k_filter, top_p_filter)
from companion.models.config import TransformerConfig
from companion.models.gpt import GPT

SETTINGS = settings(deadline=None, max_examples=40)


def _distinct_logits(seed, batch, vocab):
    """Random logits whose entries are all distinct (a permutation of well-separated values)."""
    rng = np.random.default_rng(seed)
    rows = [rng.permutation(vocab) * 0.37 + rng.normal(size=vocab) * 0.01 for _ in range(batch)]
    return torch.tensor(np.array(rows), dtype=torch.float64)


# --- top-k ----------------------------------------------------------------------------------------------


@SETTINGS
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 4), vocab=st.integers(1, 30), k=st.integers(1, 35))
def test_top_k_keeps_exactly_the_k_largest(seed, batch, vocab, k):
    logits = _distinct_logits(seed, batch, vocab)
    filtered = top_k_filter(logits, k)
    kept = torch.isfinite(filtered)
    assert (kept.sum(dim=-1) == min(k, vocab)).all()
    expected = torch.zeros_like(kept)
    expected.scatter_(-1, torch.topk(logits, min(k, vocab), dim=-1).indices, True)
    assert torch.equal(kept, expected)
    assert torch.equal(filtered[kept], logits[kept])  # kept logits are unchanged


def test_top_k_keeps_ties_at_the_threshold():
    logits = torch.tensor([[3.0, 1.0, 1.0, 0.0]])
    assert torch.isfinite(top_k_filter(logits, 2)).tolist() == [[True, True, True, False]]


def test_top_k_one_samples_the_argmax():
    logits = _distinct_logits(3, 5, 12)
    generator = torch.Generator().manual_seed(0)
    for _ in range(5):
        drawn = sample_next_token(logits, strategy="sample", top_k=1, generator=generator)
        assert torch.equal(drawn, logits.argmax(dim=-1))


# --- top-p ----------------------------------------------------------------------------------------------


def _smallest_nucleus(probs_row, p):
    """Brute force: the smallest set of tokens (ranked by probability) with mass >= p."""
    order = np.argsort(-probs_row, kind="stable")
    total = 0.0
    for size, token in enumerate(order, start=1):
        total += probs_row[token]
        if total >= p:
            return set(order[:size].tolist())
    return set(order.tolist())


@SETTINGS
@given(seed=st.integers(0, 10_000), vocab=st.integers(1, 25), p=st.floats(0.01, 1.0))
def test_top_p_keeps_the_smallest_set_with_mass_at_least_p(seed, vocab, p):
    logits = torch.tensor(np.random.default_rng(seed).normal(scale=2.0, size=(1, vocab)))
    probs = torch.softmax(logits, dim=-1)[0].numpy()
    kept = torch.isfinite(top_p_filter(logits, p))[0].numpy()
    kept_set = set(np.flatnonzero(kept).tolist())
    assert kept_set == _smallest_nucleus(probs, p)
    mass = probs[kept].sum()
    assert mass >= p - 1e-12
    # minimal: dropping the least probable kept token falls below p
    if kept.sum() > 1:
        assert mass - probs[kept].min() < p


def test_top_p_hand_example():
    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    logits = probs.log()
    assert torch.isfinite(top_p_filter(logits, 0.5)).tolist() == [[True, False, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.8)).tolist() == [[True, True, False, False]]
    assert torch.isfinite(top_p_filter(logits, 0.81)).tolist() == [[True, True, True, False]]
    assert torch.isfinite(top_p_filter(logits, 1.0)).all()
    renormalised = next_token_distribution(logits, top_p=0.8)
    assert torch.allclose(renormalised, torch.tensor([[0.625, 0.375, 0.0, 0.0]]))


def test_top_p_boundary_is_exact():
    """Mass exactly p is enough: four equal tokens (probability 0.25 each, exact in binary)."""
    logits = torch.zeros(1, 4)
    assert torch.isfinite(top_p_filter(logits, 0.25)).sum().item() == 1
    assert torch.isfinite(top_p_filter(logits, 0.5)).sum().item() == 2
    assert torch.isfinite(top_p_filter(logits, 0.5000001)).sum().item() == 3
    # ties are broken by the smaller token id
    assert torch.isfinite(top_p_filter(logits, 0.5)).tolist() == [[True, True, False, False]]


def test_top_p_always_keeps_the_most_probable_token():
    logits = torch.tensor([[0.0, 5.0, 1.0]])
    assert torch.isfinite(top_p_filter(logits, 1e-9)).tolist() == [[False, True, False]]


# --- temperature and greedy -------------------------------------------------------------------------------------


def test_temperature_divides_the_logits_and_orders_the_entropy():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    assert torch.allclose(apply_temperature(logits, 0.5), logits * 2)
    entropies = [float(entropy(next_token_distribution(logits, temperature=t))) for t in (0.25, 0.5, 1.0, 2.0, 8.0)]
    assert all(a < b for a, b in zip(entropies, entropies[1:]))
    assert entropies[-1] < math.log(4)  # never above uniform
    assert entropy(torch.tensor([0.25, 0.25, 0.25, 0.25])).item() == pytest.approx(math.log(4))
    assert entropy(torch.tensor([1.0, 0.0, 0.0])).item() == 0.0


def test_temperature_to_zero_tends_to_greedy():
    logits = _distinct_logits(7, 6, 20).float()
    top = logits.argmax(dim=-1)
    probs = next_token_distribution(logits, temperature=1e-3)
    assert (probs.gather(-1, top[:, None]) > 1 - 1e-6).all()
    generator = torch.Generator().manual_seed(1)
    draws = [sample_next_token(logits, temperature=1e-3, generator=generator) for _ in range(5)]
    assert all(torch.equal(d, top) for d in draws)
    # while at temperature 1 the same logits do not always give the argmax (p(argmax) is about 0.3 here)
    generator = torch.Generator().manual_seed(1)
    assert not all(torch.equal(sample_next_token(logits, generator=generator), top) for _ in range(5))


def test_greedy_is_argmax_and_ignores_filters():
    logits = _distinct_logits(11, 3, 9)
    assert torch.equal(greedy(logits), logits.argmax(dim=-1))
    out = sample_next_token(logits, strategy="greedy", temperature=3.0, top_k=2, top_p=0.3)
    assert torch.equal(out, logits.argmax(dim=-1))


def test_sampling_follows_the_distribution_and_is_seeded():
    logits = torch.tensor([[0.0, math.log(3.0)]]).repeat(4000, 1)  # p = (0.25, 0.75)
    first = sample_next_token(logits, generator=torch.Generator().manual_seed(5))
    second = sample_next_token(logits, generator=torch.Generator().manual_seed(5))
    assert torch.equal(first, second)
    assert abs(first.double().mean().item() - 0.75) < 0.03  # 4000 draws: s.d. 0.007
    filtered = filter_logits(logits[:1], temperature=1.0, top_k=1)
    assert torch.isfinite(filtered).tolist() == [[False, True]]


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.0, -0.1, 1.0001, 2.0, float("nan")])
def test_top_p_outside_zero_one_raises(p):
    with pytest.raises(ValueError, match=r"top_p must lie in \(0, 1\]"):
        top_p_filter(torch.zeros(1, 3), p)


@pytest.mark.parametrize("temperature", [0.0, -1.0, float("inf"), float("nan")])
def test_bad_temperature_raises(temperature):
    with pytest.raises(ValueError, match="temperature must be a finite float > 0"):
        apply_temperature(torch.zeros(1, 3), temperature)


@pytest.mark.parametrize("k", [0, -3])
def test_top_k_below_one_raises(k):
    with pytest.raises(ValueError, match="top_k must be an int >= 1"):
        top_k_filter(torch.zeros(1, 3), k)


def test_wrong_types_raise():
    with pytest.raises(TypeError, match="top_k must be an int"):
        top_k_filter(torch.zeros(1, 3), 2.0)
    with pytest.raises(TypeError, match="temperature must be a float"):
        apply_temperature(torch.zeros(1, 3), "hot")
    with pytest.raises(TypeError, match="logits must be a torch.Tensor"):
        greedy(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="floating-point"):
        greedy(torch.zeros(1, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="generator must be a torch.Generator"):
        sample_next_token(torch.zeros(1, 3), generator=np.random.default_rng(0))


def test_bad_logits_raise():
    with pytest.raises(ValueError, match="NaN"):
        check_logits(torch.tensor([[0.0, float("nan")]]))
    with pytest.raises(ValueError, match="all -inf"):
        check_logits(torch.full((1, 3), float("-inf")))
    with pytest.raises(ValueError, match="strategy must be one of"):
        sample_next_token(torch.zeros(1, 3), strategy="beam")
    with pytest.raises(ValueError, match=r"\(batch, vocab_size\)"):
        sample_next_token(torch.zeros(3))


# --- the decoding loop --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_gpt():
    torch.manual_seed(0)
    config = TransformerConfig(vocab_size=17, max_len=24, d_model=32, num_heads=4, num_layers=2, dropout=0.1,
                               positions="learned", causal=True)
    return GPT(config)


def test_prompt_checks(small_gpt):
    assert check_prompt([3, 4, 5], 24).shape == (1, 3)
    assert check_prompt(np.array([[3, 4], [5, 6]]), 24).dtype == torch.long
    with pytest.raises(ValueError, match="empty prompt"):
        generate(small_gpt, [], 3)
    with pytest.raises(ValueError, match="empty prompt"):
        generate(small_gpt, torch.zeros(2, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="prompt of 25 tokens exceeds the model's max_len 24"):
        generate(small_gpt, [2] * 25, 1)
    with pytest.raises(TypeError, match="got a str"):
        generate(small_gpt, "hello", 3)
    with pytest.raises(TypeError, match="integers"):
        generate(small_gpt, [1.5, 2.0], 3)
    with pytest.raises(ValueError, match=r"in \[0, 17\)"):
        generate(small_gpt, [3, 17], 3)
    with pytest.raises(ValueError, match="non-negative"):
        generate(small_gpt, [3, -1], 3)


def test_generation_past_max_len_raises_before_computing(small_gpt):
    with pytest.raises(ValueError, match=r"prompt of 20 tokens \+ 5 new tokens = 25 exceeds the model's max_len 24"):
        generate(small_gpt, [2] * 20, 5)
    out = generate(small_gpt, [2] * 20, 4)  # exactly max_len is allowed
    assert out.shape == (1, 24)


def test_generation_settings_are_checked(small_gpt):
    with pytest.raises(ValueError, match="top_p must lie"):
        generate(small_gpt, [2, 3], 2, strategy="sample", top_p=0.0)
    with pytest.raises(ValueError, match="temperature must be"):
        generate(small_gpt, [2, 3], 2, strategy="sample", temperature=0.0)
    with pytest.raises(ValueError, match="top_k must be"):
        generate(small_gpt, [2, 3], 2, strategy="sample", top_k=0)
    with pytest.raises(ValueError, match="max_new_tokens must be"):
        generate(small_gpt, [2, 3], -1)
    with pytest.raises(TypeError, match="model must be"):
        generate(torch.nn.Linear(2, 2), [2, 3], 2)


def test_generate_keeps_the_prompt_and_restores_training_mode(small_gpt):
    small_gpt.train()
    out = generate(small_gpt, [[2, 3, 4], [5, 6, 7]], 5)
    assert small_gpt.training
    assert out.shape == (2, 8)
    assert out[:, :3].tolist() == [[2, 3, 4], [5, 6, 7]]
    assert torch.equal(generate(small_gpt, [2, 3], 0), torch.tensor([[2, 3]]))
    # dropout is off during generation: greedy decoding is repeatable
    assert torch.equal(generate(small_gpt, [[2, 3, 4], [5, 6, 7]], 5), out)
    small_gpt.eval()


def test_stop_id_ends_rows(small_gpt):
    first = int(generate(small_gpt, [2, 3], 1)[0, -1])
    out = generate(small_gpt, [2, 3], 6, stop_id=first)
    assert out.tolist() == [[2, 3, first]]  # the only row stopped at once


# --- streaming ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("settings_", [dict(strategy="greedy"), dict(strategy="sample", top_k=5)])
def test_the_stream_yields_the_tokens_of_generate_one_step_at_a_time(small_gpt, use_cache, settings_):
    whole = generate(small_gpt, [[2, 3], [4, 5]], 9, use_cache=use_cache,
                     generator=torch.Generator().manual_seed(3), **settings_)
    steps = list(generate_stream(small_gpt, [[2, 3], [4, 5]], 9, use_cache=use_cache,
                                 generator=torch.Generator().manual_seed(3), **settings_))
    assert len(steps) == 9 and all(step.shape == (2,) for step in steps)
    assert torch.equal(torch.stack(steps, dim=1), whole[:, 2:])


def test_the_stream_checks_its_settings_before_the_first_step(small_gpt):
    # the errors come from the call itself, not from the first next()
    with pytest.raises(ValueError, match=r"= 25 exceeds the model's max_len 24"):
        generate_stream(small_gpt, [2] * 20, 5)
    with pytest.raises(ValueError, match="empty prompt"):
        generate_stream(small_gpt, [], 3)
    assert list(generate_stream(small_gpt, [2, 3], 0)) == []


def test_closing_the_stream_early_stops_it_and_restores_training_mode(small_gpt):
    small_gpt.train()
    stream = generate_stream(small_gpt, [2, 3], 10)
    first = next(stream)
    assert not small_gpt.training  # dropout is off while the stream runs
    stream.close()
    assert small_gpt.training
    assert int(first[0]) == int(generate(small_gpt, [2, 3], 1)[0, -1])
    small_gpt.eval()
