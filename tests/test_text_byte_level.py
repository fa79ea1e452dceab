"""GPT-2's byte-to-character display table (chapter 7, companion.text.byte_level)."""

import pytest

from companion.text import train_bpe
from companion.text.byte_level import bytes_to_unicode, token_to_bytes, tokens_to_text


def test_table_is_a_bijection_that_keeps_printable_bytes():
    table = bytes_to_unicode()
    assert sorted(table) == list(range(256))
    assert len(set(table.values())) == 256
    for byte in list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100)):
        assert table[byte] == chr(byte)
    shifted = [b for b in range(256) if ord(table[b]) >= 256]
    assert len(shifted) == 68
    assert [ord(table[b]) for b in shifted] == list(range(256, 256 + 68))  # in increasing byte order


def test_known_characters():
    table = bytes_to_unicode()
    assert table[ord(" ")] == "Ġ" == "\u0120"
    assert table[ord("\n")] == "Ċ"
    assert table[0xAD] == "\u0143"  # the soft hyphen is the last shifted byte
    assert [table[b] for b in "很".encode("utf-8")] == ["å", "¾", "Ī"]


def test_table_matches_the_tokenizers_library():
    from tokenizers import pre_tokenizers

    assert set(bytes_to_unicode().values()) == set(pre_tokenizers.ByteLevel.alphabet())


def test_copy_is_returned():
    table = bytes_to_unicode()
    table[32] = "x"
    assert bytes_to_unicode()[32] == "Ġ"


def test_tokens_decode_like_the_tokenizer():
    tokenizer = train_bpe(["the film was good", "a bad film", "很好的电影"] * 5, vocab_size=280, kind="byte")
    for text in ("a 很好 film", "zebra ☃\n", "the film"):
        tokens = tokenizer.encode(text).tokens
        assert tokens_to_text(tokens) == tokenizer.decode(tokenizer.encode(text).ids) == text
    assert token_to_bytes("Ġfilm") == b" film"


def test_partial_character_needs_errors_replace():
    with pytest.raises(UnicodeDecodeError):
        tokens_to_text(["å"])
    assert tokens_to_text(["å"], errors="replace") == "\ufffd"
    assert tokens_to_text(["å", "¾", "Ī"]) == "很"


def test_bad_input():
    with pytest.raises(TypeError, match="token must be a str"):
        token_to_bytes(5)
    with pytest.raises(ValueError, match="not a byte-level display character"):
        token_to_bytes("很")  # a character, not a byte's display form
    with pytest.raises(ValueError, match="U\\+0020"):
        token_to_bytes("a b")  # a raw space is never in a byte-level token
    with pytest.raises(TypeError, match="sequence of token strings"):
        tokens_to_text("Ġfilm")
