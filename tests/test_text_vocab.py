"""Tokenisers, the Vocabulary and padding masks of chapter 7 (companion.text)."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.text import (
    Vocabulary,
    masked_mean,
    padding_mask,
    tokenize_chinese_chars,
    tokenize_chinese_words,
    tokenize_english,
    tokenize_whitespace,
)

# ---------------------------------------------------------------- tokenisers


def test_english_keeps_contractions_and_punctuation():
    assert tokenize_english("Don't stop!") == ["don't", "stop", "!"]
    assert tokenize_english("It\u2019s 3.5 stars, OK?") == ["it's", "3", ".", "5", "stars", ",", "ok", "?"]
    assert tokenize_english("Café au lait") == ["café", "au", "lait"]
    assert tokenize_english("a--b") == ["a", "-", "-", "b"]


def test_english_empty_and_whitespace_give_no_tokens():
    assert tokenize_english("") == []
    assert tokenize_english("  \n\t ") == []


@pytest.mark.parametrize("tokenize", [tokenize_english, tokenize_chinese_chars,
                                      tokenize_chinese_words, tokenize_whitespace])
@pytest.mark.parametrize("bad", [None, 3, ["a b"], b"bytes", float("nan")])
def test_tokenisers_refuse_non_strings(tokenize, bad):
    with pytest.raises(TypeError, match="must be a str"):
        tokenize(bad)


@settings(deadline=None, max_examples=60)
@given(st.text(max_size=40))
def test_tokens_are_non_empty_and_space_free(text):
    for tokenize in (tokenize_english, tokenize_chinese_chars, tokenize_whitespace):
        for token in tokenize(text):
            assert token and not any(ch.isspace() for ch in token)
    # every non-space character of the text survives character tokenisation
    assert "".join(tokenize_chinese_chars(text)) == "".join(text.split())


def test_chinese_chars_and_words():
    assert tokenize_chinese_chars("很好 用") == ["很", "好", "用"]
    words = tokenize_chinese_words("这个手机很好用，电池也耐用")
    assert "".join(words) == "这个手机很好用，电池也耐用"
    assert "手机" in words and "电池" in words
    assert len(words) < len("这个手机很好用，电池也耐用")
    assert tokenize_chinese_words("   ") == []


def test_jieba_is_quiet_on_first_use():
    # a fresh interpreter, so that this is jieba's first use (its dictionary log goes to stderr)
    pytest.importorskip("jieba")
    code = "from companion.text import tokenize_chinese_words; print(tokenize_chinese_words('质量不错'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    assert "质量" in result.stdout


def test_whitespace_split_leaves_a_chinese_sentence_whole():
    assert tokenize_whitespace("这个手机很好用，电池也耐用") == ["这个手机很好用，电池也耐用"]


# ---------------------------------------------------------------- Vocabulary

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat"], ["the"]]


def test_build_orders_by_frequency_then_token():
    vocab = Vocabulary.build(CORPUS)
    assert vocab.itos == ["<pad>", "<unk>", "the", "cat", "sat", "a", "dog"]
    assert vocab.pad_id == 0 and vocab.unk_id == 1 and len(vocab) == 7
    assert vocab.stoi["cat"] == 3 and "dog" in vocab and "cow" not in vocab


def test_build_is_independent_of_corpus_order():
    assert Vocabulary.build(CORPUS).itos == Vocabulary.build(CORPUS[::-1]).itos


def test_max_size_counts_the_special_tokens_and_min_freq_filters():
    assert Vocabulary.build(CORPUS, max_size=4).itos == ["<pad>", "<unk>", "the", "cat"]
    assert Vocabulary.build(CORPUS, min_freq=2).itos == ["<pad>", "<unk>", "the", "cat", "sat"]
    assert len(Vocabulary.build(CORPUS, max_size=20000, min_freq=3)) == 3


def test_encode_decode_and_unknown_tokens():
    vocab = Vocabulary.build(CORPUS, min_freq=2)
    ids = vocab.encode(["the", "dog", "sat"])
    assert ids == [2, 1, 4]
    assert vocab.decode(ids) == ["the", "<unk>", "sat"]
    assert vocab.decode([2, 0, 0], skip_pad=True) == ["the"]
    assert vocab.encode([]) == [] and vocab.decode([]) == []
    assert vocab.oov_rate([["the", "dog"], ["cow", "cat"]]) == pytest.approx(0.5)


def test_coverage_from_training_counts():
    vocab = Vocabulary.build(CORPUS)  # counts: the 3, cat 2, sat 2, a 1, dog 1 (total 9)
    assert vocab.coverage(1) == pytest.approx(3 / 9)
    assert vocab.coverage(3) == pytest.approx(7 / 9)
    assert vocab.coverage(100) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="training counts"):
        Vocabulary(["x"]).coverage(1)


def test_encode_batch_pads_right_and_truncates():
    vocab = Vocabulary.build(CORPUS)
    ids, lengths = vocab.encode_batch([["the", "cat", "sat", "a"], ["dog"], []], max_len=3)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(ids, [[2, 3, 4], [6, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    ids_pre, lengths_pre = vocab.encode_batch([["the", "cat", "sat", "a"]], max_len=3, truncate="pre")
    np.testing.assert_array_equal(ids_pre, [[3, 4, 5]])
    ids_auto, lengths_auto = vocab.encode_batch([["the", "cat"], ["a"]])
    assert ids_auto.shape == (2, 2)
    np.testing.assert_array_equal(lengths_auto, [2, 1])


@settings(deadline=None, max_examples=50)
@given(st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=12), min_size=1, max_size=8),
       st.integers(1, 10))
def test_encode_batch_matches_encode(token_lists, max_len):
    vocab = Vocabulary.build([["a", "b", "c"], ["a"]])  # "d", "e" are unknown
    ids, lengths = vocab.encode_batch(token_lists, max_len=max_len)
    mask = padding_mask(lengths, max_len)
    assert ids.shape == (len(token_lists), max_len)
    for row, tokens in enumerate(token_lists):
        expected = vocab.encode(tokens)[:max_len]
        assert lengths[row] == len(expected)
        assert ids[row, : lengths[row]].tolist() == expected
        assert (ids[row, lengths[row]:] == vocab.pad_id).all()
    np.testing.assert_array_equal(mask, np.arange(max_len)[None, :] < lengths[:, None])
    assert mask.sum() == lengths.sum()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"max_size": 0}, ValueError, "max_size must be a positive int"),
    ({"max_size": 2}, ValueError, "max_size must be >= 3"),
    ({"max_size": 2.5}, TypeError, "max_size must be a positive int"),
    ({"min_freq": 0}, ValueError, "min_freq must be a positive int"),
])
def test_build_rejects_bad_sizes(kwargs, error, match):
    with pytest.raises(error, match=match):
        Vocabulary.build(CORPUS, **kwargs)


def test_build_rejects_bad_corpora():
    with pytest.raises(TypeError, match="tokenise the text first"):
        Vocabulary.build(["the cat sat", "a dog"])  # texts, not token lists
    with pytest.raises(TypeError, match="sequence of token lists"):
        Vocabulary.build("the cat")
    with pytest.raises(TypeError, match="must contain only str"):
        Vocabulary.build([["the", 3]])
    with pytest.raises(ValueError, match="empty strings"):
        Vocabulary.build([["the", ""]])
    with pytest.raises(ValueError, match="at least one token"):
        Vocabulary.build([[], []])
    with pytest.raises(ValueError, match="at least one token"):
        Vocabulary.build([])
    with pytest.raises(ValueError, match="reserved"):
        Vocabulary.build([["<unk>", "a"]])
    with pytest.raises(ValueError, match="distinct"):
        Vocabulary(["a", "a"])


def test_encode_and_decode_reject_bad_input():
    vocab = Vocabulary.build(CORPUS)
    with pytest.raises(TypeError, match="tokenise the text first"):
        vocab.encode("the cat")
    with pytest.raises(TypeError, match="only str"):
        vocab.encode(["the", None])
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 7\)"):
        vocab.decode([2, 7])
    with pytest.raises(ValueError, match=r"ids must lie"):
        vocab.decode([-1])
    with pytest.raises(TypeError, match="integers"):
        vocab.decode([1.0, 2.0])
    with pytest.raises(ValueError, match="max_len must be a positive int"):
        vocab.encode_batch(CORPUS, max_len=0)
    with pytest.raises(ValueError, match="empty batch"):
        vocab.encode_batch([], max_len=3)
    with pytest.raises(ValueError, match="truncate must be"):
        vocab.encode_batch(CORPUS, max_len=3, truncate="middle")
    with pytest.raises(ValueError, match="at least one token"):
        vocab.oov_rate([[]])


# ---------------------------------------------------------------- masks


def test_padding_mask_and_its_errors():
    np.testing.assert_array_equal(padding_mask([2, 0, 3]), [[1, 1, 0], [0, 0, 0], [1, 1, 1]])
    assert padding_mask(np.array([1]), 4).shape == (1, 4)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 2\] \(the padded length T\); got min 3, max 3"):
        padding_mask([3], 2)
    with pytest.raises(ValueError, match=">= 0"):
        padding_mask([-1, 2])
    with pytest.raises(TypeError, match="integer array"):
        padding_mask([1.5])
    with pytest.raises(ValueError, match="1-D"):
        padding_mask([[1, 2]])


def test_masked_mean_ignores_padding():
    x = np.arange(2 * 3 * 2, dtype=float).reshape(2, 3, 2)
    mask = padding_mask([1, 3], 3)
    out = masked_mean(x, mask)
    np.testing.assert_allclose(out, [x[0, 0], x[1].mean(axis=0)])
    x_changed = x.copy()
    x_changed[0, 1:] = 1e6  # padding positions must not matter
    np.testing.assert_allclose(masked_mean(x_changed, mask), out)
    # a row with no real token averages nothing: a zero vector, as in the PyTorch pooling
    np.testing.assert_array_equal(masked_mean(x, padding_mask([0, 3], 3))[0], [0.0, 0.0])
    with pytest.raises(ValueError, match="mask must have shape"):
        masked_mean(x, np.ones((2, 2), dtype=bool))
    with pytest.raises(TypeError, match="boolean or 0/1"):
        masked_mean(x, np.full((2, 3), 0.5))
