"""Subword tokenisation: byte-pair encoding (BPE) trained locally with ``tokenizers``.

BPE starts from single symbols (characters, or bytes) and repeatedly merges
the most frequent adjacent pair into a new symbol until the vocabulary reaches
``vocab_size``. Frequent words end up as one token and rare words split into
known pieces, so far fewer tokens are out of vocabulary than with whole words.
Nothing is downloaded: training reads only the texts passed in.
"""

from __future__ import annotations

from collections.abc import Iterable

from companion.checks import check_choice, check_positive_int, check_texts
from companion.text.vocab import PAD_TOKEN, UNK_TOKEN

_KINDS = ("char", "byte")


def train_bpe(texts: Iterable[str], vocab_size: int, kind: str = "char", min_frequency: int = 2,
              lowercase: bool = False):
    """Train a BPE tokenizer on ``texts`` and return a ``tokenizers.Tokenizer``.

    Parameters
    ----------
    texts : sequence of str
        Training texts (the training split only, or the OOV rate measured on
        the other splits is optimistic).
    vocab_size : int
        Target size of the vocabulary, including ``<pad>`` (id 0) and
        ``<unk>`` (id 1). The trainer stops earlier if no pair occurs
        ``min_frequency`` times.
    kind : "char" or "byte"
        ``"char"``: symbols start as Unicode characters, text is first split
        on whitespace and punctuation, and a character never seen in training
        becomes ``<unk>``. ``"byte"``: symbols start as the 256 bytes of
        UTF-8 (GPT-2 style), so no input is ever unknown; a Chinese
        character is 3 bytes and needs merges to become one token.
    min_frequency : int
        A pair must occur this often to be merged.
    lowercase : bool
        Lower-case text before training and encoding (for English).

    Training is deterministic: the same texts and settings give the same
    vocabulary and merges. Raises ValueError for a ``vocab_size`` below 3
    (zero included) or an unknown ``kind``, TypeError for non-str texts.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    if vocab_size < 3:
        raise ValueError(f"vocab_size must be >= 3 (<pad>, <unk> and at least one symbol); got {vocab_size}")
    min_frequency = check_positive_int(min_frequency, "min_frequency")
    check_choice(kind, "kind", _KINDS)
    texts = check_texts(texts)
    if not any(text.strip() for text in texts):
        raise ValueError(f"texts must contain at least one non-empty text; got {len(texts)} empty text(s)")

    specials = [PAD_TOKEN, UNK_TOKEN]
    if kind == "char":
        tokenizer = Tokenizer(models.BPE(unk_token=UNK_TOKEN))
        tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=specials, show_progress=False)
    else:
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=specials, show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    if lowercase:
        tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.train_from_iterator(texts, trainer=trainer, length=len(texts))
    return tokenizer


def bpe_tokenize(tokenizer, text: str) -> list[str]:
    """The subword tokens of one text under a trained BPE ``tokenizer`` (strings, not ids).

    Raises TypeError if ``text`` is not a str; an empty text gives ``[]``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return tokenizer.encode(text).tokens
