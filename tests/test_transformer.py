"""The PyTorch Transformer encoder and classifier (chapter 10): counts, masks, pre/post-LN, positions, training."""

import math

import numpy as np
import pytest
import torch
from toy_data import toy_split
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion.models.config import TransformerConfig, block_parameter_count, parameter_count
from companion.models.transformer import (FeedForward, TokenAndPositionEmbedding, TransformerBlock,
                                          TransformerClassifier, TransformerEncoder,
                                          lengths_to_padding_mask, masked_mean,
                                          set_attention_implementation, sinusoidal_positions)
from companion.train.sequence_classifier import (CPU_PROFILE, ENCODER_CPU_PROFILE, ENCODER_GPU_PROFILE,
                                                 TrainingProfile, build_encoder_classifier,
                                                 choose_encoder_profile, train_torch_classifier)


def n_params(model):
    return sum(p.numel() for p in model.parameters())  # shared (tied) tensors are listed once


class TinyLM(nn.Module):
    """Encoder stack + LM head, tied to the token embedding or not (what parameter_count(..., "lm") counts)."""

    def __init__(self, config):
        super().__init__()
        self.encoder = TransformerEncoder(config)
        self.lm_head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.lm_head.weight = self.encoder.embedding.token.weight


def padded_batch(B, T, vocab, lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (B, T), generator=g)
    lengths = torch.as_tensor(lengths)
    mask = lengths_to_padding_mask(lengths, T)
    return ids.masked_fill(~mask, 0), lengths, mask


# --- parameter count ---------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=25)
@given(
    d_head=st.integers(1, 8), heads=st.integers(1, 4), layers=st.integers(1, 3), d_ff=st.one_of(st.none(),
                                                                                                st.integers(1, 40)),
    positions=st.sampled_from(["sinusoidal", "learned"]), bias=st.booleans(), norm_first=st.booleans(),
    tie=st.booleans(), head=st.one_of(st.sampled_from(["none", "lm"]), st.integers(2, 5)),
)
def test_parameter_count_equals_the_real_count(d_head, heads, layers, d_ff, positions, bias, norm_first, tie, head):
    config = TransformerConfig(vocab_size=23, max_len=7, d_model=d_head * heads, num_heads=heads, num_layers=layers,
                               d_ff=d_ff, positions=positions, bias=bias, norm_first=norm_first, tie_embeddings=tie)
    if head == "none":
        model = TransformerEncoder(config)
    elif head == "lm":
        model = TinyLM(config)
    else:
        model = TransformerClassifier(config, head)
    assert n_params(model) == parameter_count(config, head)
    assert n_params(TransformerBlock(config)) == block_parameter_count(config)


def test_sinusoidal_table_is_not_a_parameter_and_learned_positions_are():
    sin = TokenAndPositionEmbedding(TransformerConfig(vocab_size=10, max_len=6, d_model=4, num_heads=2))
    learned = TokenAndPositionEmbedding(TransformerConfig(vocab_size=10, max_len=6, d_model=4, num_heads=2,
                                                          positions="learned"))
    assert n_params(sin) == 10 * 4 and n_params(learned) == 10 * 4 + 6 * 4
    assert "position_table" not in sin.state_dict()  # recomputed, not stored


def test_feed_forward_shapes():
    ffn = FeedForward(6, 20)
    # The book's W1 is (D, F) and W2 is (F, D); PyTorch stores their transposes.
    assert tuple(ffn.linear1.weight.T.shape) == (6, 20) and tuple(ffn.linear2.weight.T.shape) == (20, 6)
    x = torch.randn(2, 3, 6)
    expected = nn.functional.gelu(x @ ffn.linear1.weight.T + ffn.linear1.bias) @ ffn.linear2.weight.T + ffn.linear2.bias
    torch.testing.assert_close(ffn(x), expected)


# --- bad input -----------------------------------------------------------------------------------------------------


def test_bad_configuration_errors_name_expected_and_got():
    with pytest.raises(ValueError, match="divisible by num_heads.*d_model=10, num_heads=4"):
        build_encoder_classifier(50, ENCODER_CPU_PROFILE, d_model=10, num_heads=4)
    with pytest.raises(ValueError, match=r"positions must be one of \('sinusoidal', 'learned'\); got 'alibi'"):
        build_encoder_classifier(50, ENCODER_CPU_PROFILE, positions="alibi")
    with pytest.raises(ValueError, match=r"dropout must lie in \[0, 1\); got 1.5"):
        build_encoder_classifier(50, ENCODER_CPU_PROFILE, dropout=1.5)
    with pytest.raises(TypeError, match=r"got unknown \['n_layers'\]"):
        build_encoder_classifier(50, ENCODER_CPU_PROFILE, n_layers=3)
    with pytest.raises(TypeError, match="profile must be a TrainingProfile; got dict"):
        build_encoder_classifier(50, {"max_len": 8})
    with pytest.raises(ValueError, match="num_classes must be at least 2; got 1|at least 2 .*got 1"):
        TransformerClassifier(TransformerConfig(vocab_size=5, max_len=4, d_model=4, num_heads=2), 1)
    with pytest.raises(TypeError, match="config must be a TransformerConfig; got dict"):
        TransformerEncoder({"vocab_size": 5})


def test_sequences_over_max_len_are_refused():
    model = build_encoder_classifier(50, TrainingProfile("t", None, 8, 8, 16, 1, 4, 1e-3), num_heads=2)
    with pytest.raises(ValueError, match="sequence of 12 tokens exceeds max_len 8"):
        model(torch.ones(2, 12, dtype=torch.int64), torch.tensor([12, 3]))
    emb = model.encoder.embedding
    with pytest.raises(ValueError, match=r"sequence of 9 tokens \(start 5 \+ 4 new\) exceeds max_len 8"):
        emb(torch.ones(1, 4, dtype=torch.int64), start=5)
    assert emb(torch.ones(1, 3, dtype=torch.int64), start=5).shape == (1, 3, 8)  # exactly up to max_len is fine


def test_bad_ids_masks_and_lengths():
    model = build_encoder_classifier(50, TrainingProfile("t", None, 8, 8, 16, 1, 4, 1e-3), num_heads=2)
    ids = torch.ones(2, 5, dtype=torch.int64)
    with pytest.raises(ValueError, match=r"ids must lie in \[0, vocab_size=50\); got min 50, max 50"):
        model(ids * 50)
    with pytest.raises(TypeError, match="ids must be a 2-d integer tensor"):
        model(ids.float())
    with pytest.raises(ValueError, match=r"key_padding_mask must be boolean of shape \(batch, T\) = \(2, 5\)"):
        model(ids, torch.ones(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 5\].*max 7"):
        model(ids, torch.tensor([3, 7]))
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        model(ids, torch.tensor([3, 4, 5]))
    with pytest.raises(ValueError, match="implementation must be one of"):
        set_attention_implementation(model, "flash")


# --- masks and padding -----------------------------------------------------------------------------------------------


@settings(deadline=None, max_examples=15)
@given(lengths=st.lists(st.integers(1, 9), min_size=1, max_size=4), norm_first=st.booleans(),
       implementation=st.sampled_from(["sdpa", "written_out"]), seed=st.integers(0, 1000))
def test_tokens_under_the_padding_do_not_change_the_logits(lengths, norm_first, implementation, seed):
    torch.manual_seed(seed)
    config = TransformerConfig(vocab_size=30, max_len=9, d_model=8, num_heads=2, num_layers=2, norm_first=norm_first,
                               positions="learned")
    model = TransformerClassifier(config, 3).eval()
    set_attention_implementation(model, implementation)
    ids, lengths, mask = padded_batch(len(lengths), 9, 30, lengths, seed)
    garbage = torch.randint(1, 30, ids.shape, generator=torch.Generator().manual_seed(seed + 1))
    changed = torch.where(mask, ids, garbage)
    with torch.no_grad():
        reference = model(ids)  # mask derived from ids != 0
        by_lengths = model(changed, lengths)
        by_mask = model(changed, mask)
        unmasked = model(changed, torch.ones_like(mask))
    torch.testing.assert_close(by_lengths, reference, atol=1e-5, rtol=0)
    torch.testing.assert_close(by_mask, reference, atol=1e-5, rtol=0)
    if not bool(mask.all()):  # without the mask the garbage is read, and the logits change
        assert (unmasked - reference).abs().max() > 1e-4


def test_masked_mean_and_empty_rows():
    hidden = torch.arange(12.0).reshape(1, 4, 3).repeat(2, 1, 1)
    mask = torch.tensor([[True, True, False, False], [False, False, False, False]])
    pooled = masked_mean(hidden, mask)
    torch.testing.assert_close(pooled[0], torch.tensor([1.5, 2.5, 3.5]))
    torch.testing.assert_close(pooled[1], torch.zeros(3))
    # the NumPy masked mean of chapter 7, Eq. (7.6), is the same average, empty rows included
    from companion.text import masked_mean as numpy_masked_mean

    np.testing.assert_allclose(numpy_masked_mean(hidden.numpy(), mask.numpy()), pooled.numpy(), rtol=1e-6)
    model = build_encoder_classifier(20, TrainingProfile("t", None, 6, 8, 16, 1, 4, 1e-3), num_heads=2).eval()
    logits = model(torch.zeros(2, 6, dtype=torch.int64), torch.tensor([0, 0]))
    assert torch.isfinite(logits).all()


def test_sdpa_and_written_out_give_the_same_logits():
    torch.manual_seed(0)
    model = TransformerClassifier(TransformerConfig(vocab_size=40, max_len=10, d_model=16, num_heads=4), 2).eval()
    ids, lengths, _ = padded_batch(3, 10, 40, [10, 4, 7])
    assert set_attention_implementation(model, "written_out") == 2
    with torch.no_grad():
        written = model(ids, lengths)
        set_attention_implementation(model, "sdpa")
        fused = model(ids, lengths)
    torch.testing.assert_close(written, fused, atol=1e-5, rtol=0)


# --- pre-LN versus post-LN -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("norm_first", [True, False])
def test_block_computes_the_stated_equation(norm_first):
    torch.manual_seed(1)
    config = TransformerConfig(vocab_size=10, max_len=8, d_model=12, num_heads=3, norm_first=norm_first)
    block = TransformerBlock(config).eval()
    x = torch.randn(2, 5, 12)
    with torch.no_grad():
        out = block(x)
        if norm_first:  # Eq. (10.4)
            h = x + block.attn(block.norm1(x))
            expected = h + block.ffn(block.norm2(h))
        else:  # Eq. (10.3)
            h = block.norm1(x + block.attn(x))
            expected = block.norm2(h + block.ffn(h))
    torch.testing.assert_close(out, expected)
    # A post-LN block ends in a LayerNorm (gamma = 1, beta = 0 at init): every token is standardised.
    # A pre-LN block ends in a residual sum, which is not.
    std = out.std(dim=-1, unbiased=False)
    assert torch.allclose(std, torch.ones_like(std), atol=1e-3) == (not norm_first)


def test_final_norm_only_for_pre_ln():
    pre = TransformerEncoder(TransformerConfig(vocab_size=10, max_len=8, d_model=4, num_heads=2))
    post = TransformerEncoder(TransformerConfig(vocab_size=10, max_len=8, d_model=4, num_heads=2, norm_first=False))
    assert isinstance(pre.final_norm, nn.LayerNorm) and isinstance(post.final_norm, nn.Identity)
    assert all(block.norm_first for block in pre.blocks) and not any(block.norm_first for block in post.blocks)


# --- positions -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("d_model", [6, 7])
def test_sinusoidal_table_matches_the_formula(d_model):
    table = sinusoidal_positions(11, d_model).numpy()
    assert table.shape == (11, d_model) and table.dtype == np.float32
    for p in (0, 3, 10):
        for j in range(d_model):
            angle = p / 10000 ** ((j - j % 2) / d_model)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(table[p, j] - expected) < 1e-6
    with pytest.raises(ValueError, match="max_len must be a positive int; got 0"):
        sinusoidal_positions(0, 4)


def test_attention_without_positions_is_permutation_equivariant():
    torch.manual_seed(2)
    config = TransformerConfig(vocab_size=20, max_len=6, d_model=8, num_heads=2)
    block = TransformerBlock(config).eval()
    x = torch.randn(1, 6, 8)
    perm = torch.tensor([3, 0, 5, 1, 4, 2])
    with torch.no_grad():
        torch.testing.assert_close(block(x[:, perm]), block(x)[:, perm], atol=1e-5, rtol=0)
        encoder = TransformerEncoder(config).eval()  # sinusoidal positions break the symmetry
        ids = torch.tensor([[5, 6, 7, 8, 9, 10]])
        assert (encoder(ids[:, perm]) - encoder(ids)[:, perm]).abs().max() > 1e-2


# --- profiles and training ------------------------------------------------------------------------------------------


def test_profiles():
    for field in ("max_train", "max_len", "epochs", "batch_size"):
        assert getattr(ENCODER_CPU_PROFILE, field) == getattr(CPU_PROFILE, field), field
    assert choose_encoder_profile(torch.device("cpu")) is ENCODER_CPU_PROFILE
    assert choose_encoder_profile("cuda") is ENCODER_GPU_PROFILE
    with pytest.raises(TypeError, match="device"):
        choose_encoder_profile(0)
    model = build_encoder_classifier(100, ENCODER_CPU_PROFILE)
    assert model.config.d_model == ENCODER_CPU_PROFILE.embed_dim
    assert model.config.ffn_dim == ENCODER_CPU_PROFILE.hidden_size
    assert model.max_len == ENCODER_CPU_PROFILE.max_len and model.n_classes == 2


def test_build_encoder_classifier_trains_with_chapter8_loop():
    torch.manual_seed(0)
    profile = TrainingProfile("toy", max_train=None, max_len=8, embed_dim=16, hidden_size=32, epochs=4,
                              batch_size=32, learning_rate=3e-3)
    model = build_encoder_classifier(20, profile, num_heads=2, num_layers=1, dropout=0.0)
    history = train_torch_classifier(model, toy_split(256, 0, width=8), toy_split(128, 1, width=8), profile.epochs,
                                     profile.batch_size, profile.learning_rate, device=torch.device("cpu"))
    assert history.train_loss[-1] < 0.7 * history.train_loss[0]
    assert history.val_acc[-1] > 0.9
