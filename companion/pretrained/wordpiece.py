"""WordPiece tokenisation written out: BERT's text clean-up and greedy longest-match-first (book chapter 11).

A BERT-family tokenizer works in two stages.

1. **Basic split** (:func:`basic_tokenize`): remove control, format, private-use and
   unassigned characters (Unicode categories C*), turn
   every whitespace character into a space; put spaces around each CJK
   ideograph, so that every Chinese character becomes a word of its own; lower-case
   and strip accents (NFD decomposition, combining marks dropped) for an uncased
   vocabulary; split on whitespace, and split every punctuation character off as a
   word of its own.
2. **WordPiece** (:func:`wordpiece_word`): each word is cut greedily from the left.
   At position ``s`` the longest piece ``w[s:e]`` found in the vocabulary is taken
   (written ``##w[s:e]`` when ``s > 0``, marking a continuation), Eq. (11.3), and the
   search restarts at ``e``. If at some position no piece of any length is in the
   vocabulary, the *whole word* becomes ``[UNK]``; so does a word longer than
   ``max_chars`` characters.

This mirrors what the ``tokenizers`` library does for ``BertTokenizer`` (its
``BertNormalizer``, ``BertPreTokenizer`` and ``WordPiece`` model); the chapter checks
that both give the same pieces on real sentences.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from companion.checks import check_text

UNK = "[UNK]"
CONTINUATION = "##"


def load_vocab(path) -> dict[str, int]:
    """Read a WordPiece ``vocab.txt`` (one piece per line) into piece -> id (the line number, from 0)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"vocabulary file not found: expected a vocab.txt at {path}")
    vocab = {}
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            piece = line.rstrip("\n")
            vocab.setdefault(piece, index)
    if not vocab:
        raise ValueError(f"{path} holds no vocabulary entries")
    return vocab


def _is_cjk(code: int) -> bool:
    """CJK Unified Ideographs and their extensions and compatibility blocks (as BERT defines them)."""
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    # Every "other" category: controls, format characters, private use, unassigned code points.
    if char in "\t\n\r":
        return False
    return unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    # All non-letter, non-digit ASCII symbols count as punctuation ("$", "^", "`" too).
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def basic_tokenize(text: str, lowercase: bool = True) -> list[str]:
    """Stage 1: clean, isolate CJK characters, lower-case and strip accents, split on spaces and punctuation."""
    text = check_text(text)
    cleaned = []
    for char in text:
        code = ord(char)
        if code == 0 or code == 0xFFFD or _is_control(char):
            continue
        if _is_whitespace(char):
            cleaned.append(" ")
        elif _is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    text = "".join(cleaned)
    if lowercase:
        text = "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")
    words = []
    for chunk in text.split():
        current = ""
        for char in chunk:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                    current = ""
                words.append(char)
            else:
                current += char
        if current:
            words.append(current)
    return words


def wordpiece_word(word: str, vocab, max_chars: int = 100) -> list[str]:
    """Stage 2 for one word: greedy longest-match-first pieces, Eq. (11.3); ``[UNK]`` if it cannot be covered."""
    word = check_text(word)
    if not word:
        raise ValueError("word must be a non-empty string; got ''")
    if len(word) > max_chars:
        return [UNK]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while end > start:
            candidate = word[start:end] if start == 0 else CONTINUATION + word[start:end]
            if candidate in vocab:
                found = candidate
                break
            end -= 1
        if found is None:
            return [UNK]
        pieces.append(found)
        start = end
    return pieces


def wordpiece_tokenize(text: str, vocab, lowercase: bool = True) -> list[str]:
    """Both stages: the WordPiece pieces of ``text`` (without [CLS]/[SEP])."""
    return [piece for word in basic_tokenize(text, lowercase) for piece in wordpiece_word(word, vocab)]


def encode(text: str, vocab, lowercase: bool = True) -> list[int]:
    """Ids of ``[CLS] pieces [SEP]``, as the model reads one text."""
    for special in ("[CLS]", "[SEP]", UNK):
        if special not in vocab:
            raise ValueError(f"vocab must contain the special token {special}; it does not")
    pieces = ["[CLS]", *wordpiece_tokenize(text, vocab, lowercase), "[SEP]"]
    return [vocab[piece] for piece in pieces]
