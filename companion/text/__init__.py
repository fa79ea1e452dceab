"""Text as tensors (chapter 7): tokenisers, vocabularies, padding, BPE, embeddings.

Importing this package is cheap: jieba, ``tokenizers``, PyTorch and Keras are
imported inside the functions that need them.
"""

from companion.text.bpe import bpe_tokenize, train_bpe
from companion.text.embedding import (
    embedding_lookup,
    embedding_via_one_hot,
    keras_embedding_lookup,
    one_hot,
    torch_embedding_lookup,
)
from companion.text.padding import masked_mean, padding_mask
from companion.text.tokenize import (
    tokenize_chinese_chars,
    tokenize_chinese_words,
    tokenize_english,
    tokenize_whitespace,
)
from companion.text.vocab import PAD_TOKEN, UNK_TOKEN, Vocabulary

__all__ = [
    "PAD_TOKEN",
    "UNK_TOKEN",
    "Vocabulary",
    "bpe_tokenize",
    "embedding_lookup",
    "embedding_via_one_hot",
    "keras_embedding_lookup",
    "masked_mean",
    "one_hot",
    "padding_mask",
    "tokenize_chinese_chars",
    "tokenize_chinese_words",
    "tokenize_english",
    "tokenize_whitespace",
    "torch_embedding_lookup",
    "train_bpe",
]
