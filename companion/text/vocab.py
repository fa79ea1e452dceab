"""A vocabulary: the table that turns tokens into integer ids and back.

Index 0 is the padding token ``<pad>`` and index 1 the unknown token ``<unk>``;
regular tokens follow, most frequent first (ties broken by the token string,
so the table is the same on every run and machine). A token not in the table
is encoded as ``<unk>``; the fraction of such tokens is the OOV rate,
Eq. (7.2). ``encode_batch`` pads on the right and returns the lengths from
which the padding mask of Eq. (7.3) is built.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from companion.checks import check_positive_int
from companion.text.padding import padding_mask

PAD_TOKEN = "<pad>"
UNK_TOKEN = "<unk>"
_RESERVED = (PAD_TOKEN, UNK_TOKEN)


def _check_tokens(tokens, name: str = "tokens") -> list[str]:
    """A list of non-empty str tokens (a bare str is refused: it is a text, not tokens)."""
    if isinstance(tokens, (str, bytes)):
        raise TypeError(f"{name} must be a list of str tokens; got a {type(tokens).__name__} "
                        f"(tokenise the text first)")
    if not isinstance(tokens, Iterable):
        raise TypeError(f"{name} must be a list of str tokens; got {type(tokens).__name__}")
    tokens = list(tokens)
    for position, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(f"{name} must contain only str; got {type(token).__name__} "
                            f"{token!r:.40} at position {position}")
        if token == "":
            raise ValueError(f"{name} must not contain empty strings; got one at position {position}")
    return tokens


def _check_token_lists(token_lists, name: str = "token_lists") -> list[list[str]]:
    if isinstance(token_lists, (str, bytes)) or not isinstance(token_lists, Iterable):
        raise TypeError(f"{name} must be a sequence of token lists; got {type(token_lists).__name__}")
    return [_check_tokens(tokens, f"{name}[{i}]") for i, tokens in enumerate(token_lists)]


class Vocabulary:
    """Token <-> id table with ``<pad>`` = 0 and ``<unk>`` = 1.

    Build it from tokenised training texts with :meth:`build`; construct it
    directly from an ordered list of regular tokens (without the two special
    tokens, which are always prepended) to restore a saved vocabulary.

    Attributes
    ----------
    itos : list[str]
        id -> token, ``itos[0] == "<pad>"``, ``itos[1] == "<unk>"``.
    stoi : dict[str, int]
        token -> id.
    counts : collections.Counter
        Training frequencies of every token seen by :meth:`build`, kept or not
        (empty when constructed directly). Used for coverage, Eq. (7.1).
    """

    pad_id = 0
    unk_id = 1
    pad_token = PAD_TOKEN
    unk_token = UNK_TOKEN

    def __init__(self, tokens: Sequence[str], counts: Counter | None = None):
        tokens = _check_tokens(tokens)
        duplicates = [t for t, c in Counter(tokens).items() if c > 1]
        if duplicates:
            raise ValueError(f"tokens must be distinct; got duplicates {duplicates[:5]}")
        reserved = [t for t in tokens if t in _RESERVED]
        if reserved:
            raise ValueError(f"tokens must not include the reserved tokens {_RESERVED}; got {reserved}")
        self.itos: list[str] = [PAD_TOKEN, UNK_TOKEN, *tokens]
        self.stoi: dict[str, int] = {token: i for i, token in enumerate(self.itos)}
        self.counts: Counter = Counter() if counts is None else Counter(counts)

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], max_size: int | None = None,
              min_freq: int = 1) -> "Vocabulary":
        """Count tokens and keep the most frequent ones.

        Parameters
        ----------
        token_lists : iterable of list[str]
            One list of tokens per training text (not the raw strings: a str
            where a token list is expected raises TypeError).
        max_size : int or None
            Largest total size, **including** ``<pad>`` and ``<unk>``, so
            ``len(vocab) <= max_size``; must be at least 3. None keeps every
            token that passes ``min_freq``.
        min_freq : int
            Keep only tokens seen at least this many times (>= 1).

        Order: frequency descending, then token string ascending, so the ids
        are deterministic. Raises ValueError for an empty corpus (no tokens
        at all), for ``max_size < 3`` (zero included), for ``min_freq < 1``, and
        if the corpus contains the literal strings ``<pad>`` or ``<unk>``.
        """
        if max_size is not None:
            max_size = check_positive_int(max_size, "max_size")
            if max_size < 3:
                raise ValueError(f"max_size must be >= 3 (<pad>, <unk> and at least one token); got {max_size}")
        min_freq = check_positive_int(min_freq, "min_freq")
        token_lists = _check_token_lists(token_lists)
        counts: Counter = Counter()
        for tokens in token_lists:
            counts.update(tokens)
        if not counts:
            raise ValueError(f"token_lists must contain at least one token; got {len(token_lists)} "
                             f"empty list(s)")
        reserved = [t for t in _RESERVED if t in counts]
        if reserved:
            raise ValueError(f"the corpus contains the reserved token(s) {reserved}; "
                             f"remove or rename them before building the vocabulary")
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(_RESERVED)]
        return cls(kept, counts=counts)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, pad_id={self.pad_id}, unk_id={self.unk_id})"

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Map tokens to ids; a token not in the vocabulary becomes ``unk_id`` (1).

        Raises TypeError for a bare str (tokenise it first) or non-str items.
        An empty token list gives an empty id list.
        """
        tokens = _check_tokens(tokens)
        return [self.stoi.get(token, self.unk_id) for token in tokens]

    def decode(self, ids, skip_pad: bool = False) -> list[str]:
        """Map ids back to tokens (``<unk>`` stays ``<unk>``: what it replaced is lost).

        ``ids`` is a 1-D sequence of ints in ``[0, len(vocab))``; with
        ``skip_pad=True`` padding ids are dropped. Raises ValueError for an id
        out of range and TypeError for non-integer ids.
        """
        array = np.asarray(ids)
        if array.size == 0:
            return []
        if array.dtype == object or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"ids must be integers; got dtype {array.dtype}")
        if array.ndim != 1:
            raise ValueError(f"ids must be 1-D; got shape {array.shape}")
        bad = (array < 0) | (array >= len(self))
        if bad.any():
            raise ValueError(f"ids must lie in [0, {len(self)}); got {int(array[bad][0])}")
        return [self.itos[i] for i in array.tolist() if not (skip_pad and i == self.pad_id)]

    def encode_batch(self, token_lists: Iterable[Sequence[str]], max_len: int | None = None,
                     truncate: str = "post") -> tuple[np.ndarray, np.ndarray]:
        """Encode a batch into a right-padded id matrix and the true lengths.

        Returns ``(ids, lengths)``: ``ids`` int64 of shape ``(n, max_len)``,
        padded on the right with ``pad_id`` (0); ``lengths`` int64 of shape
        ``(n,)`` with ``lengths[i] = min(len(token_lists[i]), max_len)``, so
        ``padding_mask(lengths, max_len)`` (Eq. 7.3) marks the real tokens.

        Truncation: a sequence longer than ``max_len`` is cut to ``max_len``
        tokens, keeping the first ones (``truncate="post"``, the default) or
        the last ones (``truncate="pre"``). ``max_len=None`` uses the longest
        sequence in the batch (at least 1). An empty token list gives a row of
        padding with length 0; callers that cannot handle empty sequences
        (packed RNNs, mean pooling) must filter them out. Raises ValueError for
        an empty batch, ``max_len < 1`` or an unknown ``truncate``.
        """
        if truncate not in ("post", "pre"):
            raise ValueError(f"truncate must be 'post' or 'pre'; got {truncate!r}")
        token_lists = _check_token_lists(token_lists)
        if not token_lists:
            raise ValueError("token_lists must hold at least one sequence; got an empty batch")
        if max_len is None:
            max_len = max(1, max(len(tokens) for tokens in token_lists))
        else:
            max_len = check_positive_int(max_len, "max_len")
        ids = np.full((len(token_lists), max_len), self.pad_id, dtype=np.int64)
        lengths = np.zeros(len(token_lists), dtype=np.int64)
        for row, tokens in enumerate(token_lists):
            kept = tokens[:max_len] if truncate == "post" else tokens[max(0, len(tokens) - max_len):]
            ids[row, : len(kept)] = [self.stoi.get(token, self.unk_id) for token in kept]
            lengths[row] = len(kept)
        return ids, lengths

    def padding_mask(self, lengths, max_len: int | None = None) -> np.ndarray:
        """Boolean ``(n, max_len)`` mask of real tokens, Eq. (7.3); see :func:`padding_mask`."""
        return padding_mask(lengths, max_len)

    def oov_rate(self, token_lists: Iterable[Sequence[str]]) -> float:
        """Fraction of tokens that encode to ``<unk>``, Eq. (7.2).

        Raises ValueError if ``token_lists`` holds no tokens at all (0/0).
        """
        token_lists = _check_token_lists(token_lists)
        total = sum(len(tokens) for tokens in token_lists)
        if total == 0:
            raise ValueError("token_lists must contain at least one token to measure an OOV rate")
        unknown = sum(token not in self.stoi for tokens in token_lists for token in tokens)
        return unknown / total

    def coverage(self, k: int) -> float:
        """Share of training token occurrences covered by the ``k`` most frequent tokens, Eq. (7.1).

        Computed from :attr:`counts` (all tokens seen at build time, kept or
        not). Raises ValueError if the vocabulary was not built from counts.
        """
        k = check_positive_int(k, "k")
        if not self.counts:
            raise ValueError("coverage needs the training counts; build the vocabulary with Vocabulary.build")
        frequencies = sorted(self.counts.values(), reverse=True)
        return sum(frequencies[:k]) / sum(frequencies)
