"""How byte-level BPE tokens are displayed: GPT-2's byte-to-character table (book chapter 7).

A byte-level tokenizer works on the 256 byte values of UTF-8, but its
vocabulary and its merges are stored as strings, and many bytes are not
printable characters (the space, control bytes, the continuation bytes of
UTF-8). GPT-2 therefore shows every byte ``b`` as one printable character
``table[b]``:

- the 188 bytes that are printable in Latin-1 (``!`` to ``~``, ``¡`` to ``¬``,
  ``®`` to ``ÿ``) are shown as themselves;
- the other 68 (0 to 32, 127 to 160, and 173), in increasing order, are shown
  as the characters from U+0100 upwards: byte ``n``-th of them becomes
  ``chr(256 + n)``. The space, byte 32, is the 33rd, hence ``'Ġ'`` (U+0120).

A token string such as ``'Ġfilm'`` or ``'å'`` is therefore not text: mapped
back through the inverse table it gives bytes, and only a complete UTF-8
sequence of bytes decodes to text (the three bytes E5 BE 88 of 很 are shown
as ``'å¾Ī'``). Chapter 7, section "Subwords: byte-pair encoding", shows the
table at work.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], dict[str, int]]:
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table, shifted = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return table, {char: byte for byte, char in table.items()}


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's display table: byte value (0-255) -> one printable character.

    The table is a bijection between the 256 bytes and 256 distinct characters;
    a copy is returned, so changing it changes nothing here.
    """
    return dict(_tables()[0])


def token_to_bytes(token: str) -> bytes:
    """The bytes a byte-level token stands for: every character mapped back through the table.

    ``token_to_bytes('Ġfilm') == b' film'``; ``token_to_bytes('å') == b'\\xe5'``.
    Raises TypeError if ``token`` is not a str, and ValueError for a character
    that is not in the table (the token does not come from a byte-level vocabulary;
    special tokens such as ``<pad>`` are ASCII and do map).
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be a str; got {type(token).__name__}")
    inverse = _tables()[1]
    try:
        return bytes(inverse[char] for char in token)
    except KeyError as error:
        char = error.args[0]
        raise ValueError(f"{char!r} (U+{ord(char):04X}) in token {token!r} is not a byte-level display "
                         "character; was the token produced by a byte-level tokenizer?") from None


def tokens_to_text(tokens, errors: str = "strict") -> str:
    """Concatenate the bytes of byte-level ``tokens`` and decode them as UTF-8.

    A single token may hold only part of a character (one of the three bytes of
    a Chinese character); ``errors="strict"`` then raises UnicodeDecodeError,
    ``errors="replace"`` shows the incomplete bytes as U+FFFD.
    Raises TypeError for a bare str (pass a list of tokens).
    """
    if isinstance(tokens, str):
        raise TypeError("tokens must be a sequence of token strings, not one str")
    return b"".join(token_to_bytes(token) for token in tokens).decode("utf-8", errors=errors)
