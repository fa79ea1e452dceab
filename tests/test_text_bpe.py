"""Byte-pair encoding trained locally with `tokenizers` (chapter 7, companion.text.bpe)."""

import pytest

from companion.text import bpe_tokenize, train_bpe

TEXTS = ["the movie was good", "the movie was bad", "a good film", "a bad film",
         "这个手机很好用", "电池很好", "手机不好"] * 5


def test_bpe_char_trains_deterministically_and_respects_size():
    first = train_bpe(TEXTS, vocab_size=60)
    second = train_bpe(list(TEXTS), vocab_size=60)
    assert first.get_vocab() == second.get_vocab()
    assert first.get_vocab_size() <= 60
    assert first.token_to_id("<pad>") == 0 and first.token_to_id("<unk>") == 1
    tokens = bpe_tokenize(first, "the movie 很好")
    assert "movie" in tokens  # frequent word merged into one token
    assert bpe_tokenize(first, "zebra").count("<unk>") >= 1  # z is not in the training alphabet
    assert bpe_tokenize(first, "") == []


def test_bpe_byte_level_has_no_unknowns_and_round_trips():
    tokenizer = train_bpe(TEXTS, vocab_size=300, kind="byte")
    text = "zebra 手机 ☃"
    encoding = tokenizer.encode(text)
    assert "<unk>" not in encoding.tokens
    assert tokenizer.decode(encoding.ids) == text


def test_bpe_lowercase_option():
    tokenizer = train_bpe(TEXTS, vocab_size=60, lowercase=True)
    assert bpe_tokenize(tokenizer, "THE MOVIE") == bpe_tokenize(tokenizer, "the movie")


def test_bpe_bad_input():
    with pytest.raises(ValueError, match="vocab_size must be a positive int"):
        train_bpe(TEXTS, vocab_size=0)
    with pytest.raises(ValueError, match="vocab_size must be >= 3"):
        train_bpe(TEXTS, vocab_size=2)
    with pytest.raises(ValueError, match="kind must be one of"):
        train_bpe(TEXTS, vocab_size=50, kind="word")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a str; got int 3"):
        train_bpe(["ok", 3], vocab_size=50)
    with pytest.raises(TypeError, match=r"texts must be an iterable of str \(a list of texts\); got str"):
        train_bpe("one text", vocab_size=50)
    with pytest.raises(ValueError, match="non-empty text"):
        train_bpe(["", "  "], vocab_size=50)
    with pytest.raises(TypeError, match="must be a str"):
        bpe_tokenize(train_bpe(TEXTS, vocab_size=40), None)
