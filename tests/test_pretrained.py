"""Chapter 11 helpers that need no pretrained weights: schedule, AdamW groups, pooling, WordPiece, batching, errors."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import companion

from companion.pretrained.features import check_max_len, check_texts, length_sorted_batches, padded_tokens
from companion.pretrained.finetune import (FINETUNE_CPU_PROFILE, FINETUNE_GPU_PROFILE,
                                           build_optimizer, check_labelled_texts,
                                           choose_finetune_profile, global_grad_norm,
                                           no_decay_parameter_names, weight_decay_groups)
from companion.optim.schedules import (check_schedule, warmup_linear_lr, warmup_linear_scheduler,
                                       warmup_steps_for)
from companion.pretrained.pooling import mean_pool
from companion.pretrained.wordpiece import basic_tokenize, encode, wordpiece_tokenize, wordpiece_word

# --- schedule, Eq. (11.4) ---------------------------------------------------------------------------


def test_schedule_values_at_warmup_peak_and_end():
    base, W, T = 2e-5, 4, 20
    lrs = [warmup_linear_lr(t, base, W, T) for t in range(T + 2)]
    assert lrs[0] == pytest.approx(base / 4)  # first update: eta / W, not 0
    assert lrs[1] == pytest.approx(base / 2)
    assert lrs[W - 1] == pytest.approx(base)  # end of warmup: the peak
    assert lrs[W] == pytest.approx(base)  # first decay step starts from the peak
    assert lrs[W + 1] == pytest.approx(base * 15 / 16)  # falls by eta / (T - W) per step
    assert lrs[T - 1] == pytest.approx(base / 16)  # last update still moves
    assert lrs[T] == 0.0 and lrs[T + 1] == 0.0
    assert max(lrs) == pytest.approx(base)


def test_schedule_without_warmup_starts_at_peak():
    assert warmup_linear_lr(0, 1.0, 0, 10) == 1.0
    assert warmup_linear_lr(5, 1.0, 0, 10) == pytest.approx(0.5)


@settings(deadline=None, max_examples=40)
@given(W=st.integers(0, 30), extra=st.integers(1, 60))
def test_torch_scheduler_matches_formula_and_shape(W, extra):
    T = W + extra
    param = nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    scheduler = warmup_linear_scheduler(optimizer, W, T)
    seen = []
    for _ in range(T):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [warmup_linear_lr(t, 0.1, W, T) for t in range(T)]
    np.testing.assert_allclose(seen, expected, rtol=1e-12)
    rising, falling = np.diff(expected[: W + 1]), np.diff(expected[W:])
    assert np.all(rising >= -1e-15) and np.all(falling < 0)
    assert max(expected) == pytest.approx(0.1) and min(expected) > 0


def test_schedule_bad_input():
    with pytest.raises(ValueError,
                       match="warmup_steps must be smaller than total_steps.*warmup_steps=12, total_steps=10"):
        warmup_linear_lr(0, 1e-3, 12, 10)
    with pytest.raises(ValueError, match="smaller than total_steps"):
        check_schedule(10, 10)
    with pytest.raises(ValueError, match="warmup_steps must be >= 0"):
        check_schedule(-1, 10)
    with pytest.raises(ValueError, match="total_steps must be a positive int"):
        check_schedule(0, 0)
    with pytest.raises(ValueError, match="base_lr"):
        warmup_linear_lr(0, -1.0, 1, 10)
    with pytest.raises(ValueError, match="step must be an int >= 0"):
        warmup_linear_lr(-1, 1.0, 1, 10)


def test_warmup_steps_for():
    assert warmup_steps_for(100, 0.1) == 10
    assert warmup_steps_for(16, 0.1) == 2
    assert warmup_steps_for(3, 0.1) == 1  # at least one step when asked for warmup
    assert warmup_steps_for(2, 0.9) == 1  # never all of them
    assert warmup_steps_for(10, 0.0) == 0
    with pytest.raises(ValueError, match="warmup fraction"):
        warmup_steps_for(10, 1.0)


def test_profiles():
    assert choose_finetune_profile(torch.device("cpu")) is FINETUNE_CPU_PROFILE
    assert choose_finetune_profile("cuda") is FINETUNE_GPU_PROFILE
    assert FINETUNE_GPU_PROFILE.max_train is None and FINETUNE_GPU_PROFILE.max_eval is None
    assert FINETUNE_GPU_PROFILE.max_features is None
    assert FINETUNE_CPU_PROFILE.max_train <= FINETUNE_CPU_PROFILE.max_features
    assert FINETUNE_GPU_PROFILE.max_len > FINETUNE_CPU_PROFILE.max_len
    with pytest.raises(TypeError, match="device"):
        choose_finetune_profile(0)


# --- AdamW parameter groups ------------------------------------------------------------------------


class TinyBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(10, 4)
        self.LayerNorm = nn.LayerNorm(4)
        self.dense = nn.Linear(4, 4)
        self.norm2 = nn.LayerNorm(4, bias=False)
        self.head = nn.Linear(4, 2, bias=False)


def test_weight_decay_groups_exclude_biases_and_layernorm():
    model = TinyBlock()
    assert no_decay_parameter_names(model) == ["LayerNorm.bias", "LayerNorm.weight", "dense.bias", "norm2.weight"]
    decay, no_decay = weight_decay_groups(model, 0.01)
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert decay["names"] == ["embed.weight", "dense.weight", "head.weight"]
    assert sorted(no_decay["names"]) == no_decay_parameter_names(model)
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_groups_skip_frozen_parameters_and_optimizer_uses_them():
    model = TinyBlock()
    model.embed.weight.requires_grad_(False)
    optimizer = build_optimizer(model, 1e-3, weight_decay=0.1)
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.1, 0.0]
    assert "embed.weight" not in optimizer.param_groups[0]["names"]


def test_decoupled_decay_leaves_layernorm_untouched_with_zero_gradient():
    # With zero gradients, AdamW's only effect is the decay: weights shrink by lr * wd, excluded ones do not.
    model = TinyBlock()
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    optimizer = build_optimizer(model, 0.1, weight_decay=0.5)
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    optimizer.step()
    assert torch.allclose(model.dense.weight, torch.full_like(model.dense.weight, 1 - 0.1 * 0.5))
    assert torch.all(model.LayerNorm.weight == 1.0) and torch.all(model.dense.bias == 1.0)


def test_weight_decay_bad_input():
    with pytest.raises(ValueError, match=r"weight_decay must be in \[0, 1\); got -0.1"):
        weight_decay_groups(TinyBlock(), -0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0; got 0.0"):
        build_optimizer(TinyBlock(), 0.0)


def test_global_grad_norm_and_clipping_agree():
    model = TinyBlock()
    for p in model.parameters():
        p.grad = torch.full_like(p, 2.0)
    n = sum(p.numel() for p in model.parameters())
    assert global_grad_norm(model.parameters()) == pytest.approx(2.0 * math.sqrt(n), rel=1e-6)
    before = global_grad_norm(model.parameters())
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    assert global_grad_norm(model.parameters()) == pytest.approx(1.0, rel=1e-5)
    assert before > 1.0


# --- pooling, Eq. (11.3) ---------------------------------------------------------------------------


@settings(deadline=None, max_examples=30)
@given(B=st.integers(1, 4), T=st.integers(1, 7), D=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_mean_pool_ignores_padding(B, T, D, seed):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).long()
    hidden = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    pooled = mean_pool(hidden, mask)
    garbage = hidden.clone()
    garbage[mask == 0] = 1e6 * torch.randn(int((mask == 0).sum()), D, generator=g, dtype=torch.float64)
    assert torch.equal(mean_pool(garbage, mask), pooled)
    for b in range(B):
        assert torch.allclose(pooled[b], hidden[b, : lengths[b]].mean(dim=0))
    assert torch.equal(mean_pool(hidden, mask.bool()), pooled)


def test_mean_pool_differs_from_naive_mean_with_padding():
    hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[1, 1, 0]])
    assert mean_pool(hidden, mask).item() == 2.0
    assert hidden.mean(dim=1).item() != 2.0


def test_mean_pool_bad_input():
    hidden = torch.zeros(2, 3, 4)
    with pytest.raises(ValueError, match=r"attention_mask must have shape \(B, T\) = \(2, 3\).*got \(2, 4\)"):
        mean_pool(hidden, torch.ones(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="hidden must be a float tensor of shape"):
        mean_pool(torch.zeros(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"rows \[1\] are all padding"):
        mean_pool(hidden, torch.tensor([[1, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match="only 0"):
        mean_pool(hidden, torch.full((2, 3), 2))
    with pytest.raises(TypeError, match="0/1 integers or booleans"):
        mean_pool(hidden, torch.ones(2, 3))
    with pytest.raises(TypeError, match="torch tensors"):
        mean_pool(np.zeros((2, 3, 4)), torch.ones(2, 3))


# --- WordPiece on a small vocabulary, Eq. (11.2) ---------------------------------------------------------

VOCAB = {p: i for i, p in enumerate(
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "una", "##ff", "play", "##ing", "##s", "!", ",",
     "cafe", "好", "a", "##a"])}


def test_greedy_longest_match_first():
    # "una" is longer than "un", so greedy takes it and then needs "##ffable": "##ff" + "##able".
    assert wordpiece_word("unaffable", VOCAB) == ["una", "##ff", "##able"]
    assert wordpiece_word("playing", VOCAB) == ["play", "##ing"]
    assert wordpiece_word("plays", VOCAB) == ["play", "##s"]
    assert wordpiece_word("aaa", VOCAB) == ["a", "##a", "##a"]
    assert wordpiece_word("playx", VOCAB) == ["[UNK]"]  # no piece covers "x": the whole word is unknown
    assert wordpiece_word("a" * 101, VOCAB) == ["[UNK]"]  # longer than max_chars


def test_basic_tokenize_splits_punctuation_cjk_and_accents():
    assert basic_tokenize("Café, PLAYING!") == ["cafe", ",", "playing", "!"]
    assert basic_tokenize("好好a") == ["好", "好", "a"]
    assert basic_tokenize("a\u200bb\x00 c\ue139") == ["ab", "c"]  # format, control, private-use removed
    assert basic_tokenize("Café", lowercase=False) == ["Café"]
    assert wordpiece_tokenize("Playing, cafe! 好", VOCAB) == ["play", "##ing", ",", "cafe", "!", "好"]
    assert encode("plays!", VOCAB) == [2, 9, 11, 12, 3]


def test_wordpiece_bad_input():
    with pytest.raises(TypeError, match="text must be a str; got int"):
        wordpiece_tokenize(3, VOCAB)
    with pytest.raises(ValueError, match="non-empty"):
        wordpiece_word("", VOCAB)
    with pytest.raises(ValueError, match=r"special token \[CLS\]"):
        encode("a", {"a": 0, "[UNK]": 1})


# --- batching and input checks ------------------------------------------------------------------------


def test_length_sorted_batches_cover_every_text_once_and_save_padding():
    lengths = np.array([5, 30, 6, 29, 7, 31, 5, 28])
    batches = length_sorted_batches(lengths, 2)
    assert sorted(np.concatenate(batches).tolist()) == list(range(8))
    assert [lengths[b].tolist() for b in batches] == [[5, 5], [6, 7], [28, 29], [30, 31]]
    unsorted = [np.arange(i, min(i + 2, 8)) for i in range(0, 8, 2)]
    assert padded_tokens(lengths, batches) == 2 * (5 + 7 + 29 + 31)
    assert padded_tokens(lengths, unsorted) == 2 * (30 + 29 + 31 + 28)
    with pytest.raises(TypeError, match="1-d integer array"):
        length_sorted_batches(np.array([1.5, 2.0]), 2)
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        length_sorted_batches(lengths, 0)


def test_text_and_label_checks():
    with pytest.raises(ValueError, match="texts must hold at least one text; got none"):
        check_texts([])
    with pytest.raises(TypeError, match=r"must be an iterable of str \(a list of texts\); got str"):
        check_texts("one text")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str; got int"):
        check_texts(["a", 1])
    with pytest.raises(ValueError, match=r"labels must have one entry per text, shape \(2,\); got shape \(3,\)"):
        check_labelled_texts(["a", "b"], [0, 1, 1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        check_labelled_texts(["a", "b"], [0, 2], num_labels=2)
    with pytest.raises(TypeError, match="integer class ids"):
        check_labelled_texts(["a", "b"], [0.0, 1.0])
    texts, labels = check_labelled_texts(("a", "b"), [1, 0], num_labels=2)
    assert texts == ["a", "b"] and labels.dtype == np.int64


def test_max_len_checks():
    class Tok:
        model_max_length = 512

    assert check_max_len(32, Tok()) == 32
    with pytest.raises(ValueError, match="max_len must be a positive int; got 0"):
        check_max_len(0)
    with pytest.raises(ValueError, match="max_len must be a positive int; got -5"):
        check_max_len(-5)
    with pytest.raises(ValueError, match="at most the model's 512 positions; got 600"):
        check_max_len(600, Tok())
    with pytest.raises(TypeError, match="max_len must be a positive int"):
        check_max_len(32.0)


# --- the classification head ------------------------------------------------------------------------


def test_head_from_logistic_reproduces_the_logistic_probabilities():
    from companion.pretrained.classifier import head_from_logistic, set_head_from_logistic

    rng = np.random.default_rng(0)
    coef, intercept = rng.normal(size=(1, 5)), rng.normal(size=1)
    X = rng.normal(size=(7, 5))
    weight, bias = head_from_logistic(coef, intercept)
    logits = X @ weight.T + bias
    softmax_1 = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    sigmoid = 1 / (1 + np.exp(-(X @ coef[0] + intercept[0])))
    np.testing.assert_allclose(softmax_1, sigmoid, rtol=1e-12)

    holder = nn.Module()
    holder.classifier = nn.Linear(5, 2)
    set_head_from_logistic(holder, coef, intercept)
    torch_logits = holder.classifier(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    np.testing.assert_allclose(torch_logits, logits, atol=1e-5)
    with pytest.raises(ValueError, match=r"binary logistic regression, shapes \(1, D\) and \(1,\); got \(2, 5\)"):
        head_from_logistic(np.zeros((2, 5)), np.zeros(2))
    holder.classifier = nn.Linear(4, 2)
    with pytest.raises(ValueError, match=r"weight shape \(2, 4\)"):
        set_head_from_logistic(holder, coef, intercept)
    with pytest.raises(TypeError, match="linear .classifier"):
        set_head_from_logistic(nn.Linear(5, 2), coef, intercept)


def test_mean_pool_classifier_ignores_padding_and_computes_its_loss():
    from transformers import BertConfig, BertModel

    from companion.pretrained.classifier import build_mean_pool_classifier

    companion.set_seed(0)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    model = build_mean_pool_classifier(BertModel(config), num_labels=3).eval()
    ids = torch.tensor([[2, 7, 9, 3], [2, 5, 3, 0]])
    mask = (ids != 0).long()
    labels = torch.tensor([0, 2])
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (2, 3)
    assert torch.allclose(out.loss, torch.nn.functional.cross_entropy(out.logits, labels))
    longer = torch.cat([ids, torch.zeros(2, 3, dtype=torch.long)], dim=1)
    out_longer = model(input_ids=longer, attention_mask=(longer != 0).long())
    assert torch.allclose(out_longer.logits, out.logits, atol=1e-5)  # extra padding changes nothing
    assert model(input_ids=ids, attention_mask=mask).loss is None
    # one module-level class: isinstance works and a model survives pickling
    import pickle

    from companion.pretrained.mean_pool_classifier import MeanPoolClassifier

    assert isinstance(model, MeanPoolClassifier)
    assert type(build_mean_pool_classifier(BertModel(config))) is type(model)
    restored = pickle.loads(pickle.dumps(model))
    assert torch.equal(restored(input_ids=ids, attention_mask=mask).logits,
                       model(input_ids=ids, attention_mask=mask).logits)
    with pytest.raises(ValueError, match="num_labels must be at least 2"):
        build_mean_pool_classifier(BertModel(config), num_labels=1)
    with pytest.raises(TypeError, match="config.hidden_size"):
        build_mean_pool_classifier(nn.Linear(3, 3))
