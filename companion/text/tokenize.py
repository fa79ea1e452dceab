"""Tokenisers: English words by regular expression, Chinese characters and jieba words.

A tokeniser turns one string into a list of string tokens. All functions here
share the same contract:

- the input must be a ``str`` (anything else raises TypeError, so that a list
  of texts or a NaN read from a file is not silently turned into tokens);
- an empty or all-whitespace string gives an empty list (a text with no tokens
  is legitimate input; what to do with it is the caller's decision);
- tokens are never empty strings and never contain whitespace.
"""

from __future__ import annotations

import logging
import re

from companion.checks import check_text

# A word is a run of letters/digits, optionally followed by apostrophe parts
# ("don't", "it's", "o'clock"); every other non-space character (punctuation,
# symbols) is a token of its own. [^\W_] is "a word character except _".
_ENGLISH_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[^\w\s]|_")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def tokenize_english(text: str) -> list[str]:
    """Split English text into lower-cased word and punctuation tokens.

    Words keep their internal apostrophes, so contractions stay whole
    (``"Don't stop!" -> ["don't", "stop", "!"]``); typographic apostrophes
    (U+2019, U+2018) and backticks are normalised to ``'`` first. Each
    punctuation mark or symbol is a token on its own. Letters outside ASCII
    (``"café"``) are kept as letters. See section "Tokenising English" of
    chapter 7.

    Raises TypeError if ``text`` is not a str; returns ``[]`` for an empty
    or all-whitespace string.
    """
    text = check_text(text).translate(_APOSTROPHES).lower()
    return _ENGLISH_TOKEN.findall(text)


def tokenize_whitespace(text: str) -> list[str]:
    """Split ``text`` on runs of whitespace, as ``str.split()`` does.

    This is the tokeniser the chapter uses to show what goes wrong on Chinese,
    which puts no spaces between words: a whole sentence comes back as one
    token. Raises TypeError if ``text`` is not a str.
    """
    return check_text(text).split()


def tokenize_chinese_chars(text: str) -> list[str]:
    """Split text into characters, one token per non-whitespace character.

    ``"很好用" -> ["很", "好", "用"]``. Every character is its own token,
    including Latin letters, digits and punctuation inside Chinese text
    (``"iPad"`` becomes four tokens); whitespace is dropped. Raises TypeError
    if ``text`` is not a str.
    """
    return [ch for ch in check_text(text) if not ch.isspace()]


_JIEBA_READY = False


def _jieba():
    """Import jieba once with its start-up log (written to stderr) silenced."""
    global _JIEBA_READY
    import jieba

    if not _JIEBA_READY:
        jieba.setLogLevel(logging.WARNING)
        logging.getLogger("jieba").setLevel(logging.WARNING)
        jieba.initialize()
        _JIEBA_READY = True
    return jieba


def tokenize_chinese_words(text: str) -> list[str]:
    """Segment Chinese text into words with jieba (its default dictionary and HMM).

    ``jieba.lcut`` in accurate mode; whitespace-only pieces are dropped and
    surrounding whitespace is stripped from each piece, so tokens never
    contain spaces. jieba is imported on first use, with its
    "Building prefix dict" log silenced. Segmentation is deterministic for a
    given jieba version and dictionary. Raises TypeError if ``text`` is not a
    str.
    """
    text = check_text(text)
    if not text.strip():
        return []
    pieces = (piece.strip() for piece in _jieba().lcut(text))
    return [piece for piece in pieces if piece]
