"""Chapter 10's Transformer encoder on the Chinese reviews, as a servable folder (book chapter 16).

The English model of this chapter is MiniLM in ONNX (:mod:`companion.serving.sentiment_model`);
the Chinese one is chapter 10's small encoder, trained with chapter 10's CPU recipe on the
characters of the Chinese product and hotel reviews (``load_chinese_reviews``), and served
with PyTorch from:

* ``model.safetensors``: the weights (safetensors, never a pickle);
* ``config.json``: the :class:`companion.models.config.TransformerConfig` fields and the
  number of classes;
* ``vocab.json``: the characters, in id order (ids 0 and 1 are ``<pad>`` and ``<unk>``);
* ``manifest.json``: the labels, the tokenizer, the training run and the test accuracy of
  the weights actually written.

Texts are cut to the profile's ``max_len`` of 40 characters, as in chapter 10, which cuts
more than half of the reviews: the model sees their beginning only.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np

from companion.checks import check_texts
from companion.serving.model_folder import read_json, read_manifest

FORMAT_VERSION = 1
LABELS = ("negative", "positive")
FILES = ("model.safetensors", "config.json", "vocab.json", "manifest.json")


def build_chinese_sentiment_model(directory, *, seed: int = 0) -> Path:
    """Train chapter 10's CPU encoder on the Chinese reviews (split ``seed``) and save it to ``directory``."""
    from safetensors.torch import save_model

    from companion.data import load_chinese_reviews
    from companion.seed import set_seed
    from companion.text import Vocabulary, tokenize_chinese_chars
    from companion.train.sequence_classifier import (ENCODER_CPU_PROFILE, build_encoder_classifier, encode_split,
                                                     torch_predict, train_torch_classifier)

    profile = ENCODER_CPU_PROFILE
    corpus = load_chinese_reviews(seed=seed)
    n_train = min(profile.max_train, len(corpus.train))
    train_texts, train_labels = corpus.train.texts[:n_train], corpus.train.labels[:n_train]
    vocab = Vocabulary.build([tokenize_chinese_chars(text) for text in train_texts], max_size=20000, min_freq=2)
    train = encode_split(train_texts, train_labels, tokenize_chinese_chars, vocab, profile.max_len)
    val = encode_split(corpus.val.texts, corpus.val.labels, tokenize_chinese_chars, vocab, profile.max_len)
    test = encode_split(corpus.test.texts, corpus.test.labels, tokenize_chinese_chars, vocab, profile.max_len)
    set_seed(seed)
    started = time.perf_counter()
    model = build_encoder_classifier(len(vocab), profile)
    train_torch_classifier(model, train, val, profile.epochs, profile.batch_size, profile.learning_rate,
                           progress=False)
    seconds = time.perf_counter() - started

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    save_model(model.cpu(), str(directory / "model.safetensors"))
    config = {**dataclasses.asdict(model.config), "num_classes": len(LABELS)}
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (directory / "vocab.json").write_text(json.dumps(vocab.itos[2:], ensure_ascii=False) + "\n", encoding="utf-8")
    manifest = {"format_version": FORMAT_VERSION, "language": "zh", "labels": list(LABELS),
                "max_len": profile.max_len, "tokenizer": "characters (companion.text.tokenize_chinese_chars)",
                "weights": "float32 (PyTorch, safetensors)",
                "model": f"chapter 10's Transformer encoder, profile {profile.name}",
                "trained_on": f"first {n_train} training texts of the Chinese reviews, split seed {seed}",
                "train_seconds": round(seconds, 1), "test_texts": len(test),
                "test_accuracy": round(float(np.mean(torch_predict(model, test) == test.labels)), 4)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    return directory


class EncoderSentimentModel:
    """``predict(texts)`` -> one ``{"label", "positive_probability"}`` per text, from a built folder.

    Every text is padded to ``max_len`` and the padding is masked, so, unlike the int8 English
    model, a text's answer does not depend on the other texts of its batch (beyond float rounding).
    """

    def __init__(self, directory):
        from safetensors.torch import load_model

        from companion.models.config import TransformerConfig
        from companion.models.transformer import TransformerClassifier
        from companion.text import Vocabulary, tokenize_chinese_chars

        self.manifest = read_manifest(directory, FILES, format_version=FORMAT_VERSION,
                                      what="Chinese sentiment model", build_hint="python -m companion serve --chinese")
        settings = read_json(directory, "config.json")
        num_classes = settings.pop("num_classes")
        self.vocab = Vocabulary(read_json(directory, "vocab.json"))
        self.model = TransformerClassifier(TransformerConfig(**settings), num_classes)
        load_model(self.model, str(Path(directory) / "model.safetensors"))
        self.model.eval()
        self.labels = tuple(self.manifest["labels"])
        self.max_len = int(self.manifest["max_len"])
        self.tokenize = tokenize_chinese_chars

    def logits(self, texts) -> np.ndarray:
        """Logits (n, 2) of ``texts``, each cut to ``max_len`` characters: one forward pass."""
        import torch

        texts = check_texts(texts, allow_blank=False)
        ids, lengths = self.vocab.encode_batch([self.tokenize(text) for text in texts], max_len=self.max_len)
        with torch.inference_mode():
            return self.model(torch.as_tensor(ids), torch.as_tensor(lengths)).numpy()

    def predict(self, texts) -> list[dict]:
        logits = self.logits(texts)
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = weights / weights.sum(axis=1, keepdims=True)
        return [{"label": self.labels[int(row.argmax())], "positive_probability": round(float(row[1]), 6)}
                for row in probabilities]
