"""Text as tensors (chapter 7): tokenisers, vocabularies, padding, BPE, embeddings, a first classifier.

Importing this package is cheap: jieba, ``tokenizers``, PyTorch and Keras are
imported inside the functions that need them.
"""

from companion.text.bag_classifier import build_mean_embedding_classifier
from companion.text.bpe import bpe_tokenize, train_bpe
from companion.text.byte_level import bytes_to_unicode, token_to_bytes, tokens_to_text
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
    "build_mean_embedding_classifier",
    "bytes_to_unicode",
    "embedding_lookup",
    "embedding_via_one_hot",
    "keras_embedding_lookup",
    "masked_mean",
    "one_hot",
    "padding_mask",
    "token_to_bytes",
    "tokenize_chinese_chars",
    "tokenize_chinese_words",
    "tokenize_english",
    "tokenize_whitespace",
    "tokens_to_text",
    "torch_embedding_lookup",
    "train_bpe",
]
