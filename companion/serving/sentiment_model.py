"""The English sentiment model a server loads: one folder of ONNX, tokenizer and JSON (book chapter 16).

A served model must load without running arbitrary code, so nothing here is a pickle:

* ``model.onnx``: chapter 15's exported MiniLM classifier (frozen MiniLM, mean pooling,
  logistic-regression head, Eq. (11.4)-(11.5)), dynamically quantised to int8 unless
  ``quantize=False``;
* ``tokenizer.json``: the WordPiece tokenizer in the ``tokenizers`` library's own format;
* ``manifest.json``: the labels, the maximum length, what the model was trained on and
  its accuracy on the held-out test texts, measured when it was built.

:func:`build_sentiment_model` writes the folder (about 20 s on 2 cores); :class:`SentimentModel`
loads it with ONNX Runtime and the ``tokenizers`` library only (neither PyTorch nor
transformers is imported), so a server starts in about a second.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from companion.checks import check_positive_int, check_texts
from companion.serving.model_folder import read_manifest

MANIFEST = "manifest.json"
EXPORT_CHECK_TEXTS = 64
#: Largest |ONNX Runtime fp32 logit - PyTorch logit| accepted: float32 sums in another order
#: differ by a few ulp per operation; 1e-4 on logits of size ~1 leaves a 100x margin.
EXPORT_TOLERANCE = 1e-4
LABELS = ("negative", "positive")
FORMAT_VERSION = 1


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)


def build_sentiment_model(directory, *, n_train: int = 1024, quantize: bool = True, seed: int = 0) -> Path:
    """Write the served model to ``directory`` (created) and return it.

    Chapter 11's recipe on the first ``n_train`` training texts of the movie-review
    snippets (split ``seed``): frozen MiniLM features, ``LogisticRegression(C=0.1)``.
    The manifest records the test accuracy of the file actually written.
    """
    from tqdm import TqdmWarning

    from companion.compression import onnx_runtime
    from companion.data import load_english_sentiment
    from companion.pretrained.minilm import load_minilm

    n_train = check_positive_int(n_train, "n_train")
    if n_train < 2:
        raise ValueError(f"n_train must be at least 2 (one text of each label); got {n_train}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        tokenizer, encoder = load_minilm(device="cpu")
    corpus = load_english_sentiment("movie_reviews", seed=seed)
    classifier, _ = onnx_runtime.probe_classifier(tokenizer, encoder, corpus.train.texts[:n_train],
                                                  corpus.train.labels[:n_train])
    example = tokenizer(corpus.test.texts[:2], padding=True, return_tensors="pt")
    float_path = onnx_runtime.export_onnx(classifier, directory / "model.fp32.onnx", example["input_ids"],
                                          example["attention_mask"])
    onnx_check = _onnx_check(classifier, tokenizer, onnx_runtime.onnx_session(float_path, threads=2),
                             corpus.test.texts[:EXPORT_CHECK_TEXTS])
    target = directory / "model.onnx"
    if quantize:
        # 7-bit weight codes: the integer sums are exact on every x86 CPU, with or without VNNI, so the
        # served answers do not depend on the machine (chapter 15, "Why 7-bit codes")
        onnx_runtime.quantize_dynamic_int8(float_path, target, per_channel=True, reduce_range=True)
        for path in (float_path, float_path.with_name(float_path.name + ".data")):
            path.unlink(missing_ok=True)
    else:
        float_path.replace(target)
        data = float_path.with_name(float_path.name + ".data")
        if data.is_file():
            raise RuntimeError(f"the exporter wrote external data {data.name}; the float32 model cannot be renamed")
    tokenizer.backend_tokenizer.save(str(directory / "tokenizer.json"))
    del classifier, encoder

    weights = "int8 (ONNX Runtime dynamic quantisation, per channel, 7-bit codes)" if quantize else "float32"
    manifest = {"format_version": FORMAT_VERSION, "labels": list(LABELS), "max_len": 128,
                "weights": weights,
                "trained_on": f"first {n_train} training texts of movie_reviews, split seed {seed}",
                "encoder": "all-MiniLM-L6-v2, frozen; mean pooling; LogisticRegression(C=0.1)"}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    model = SentimentModel(directory)
    texts = corpus.test.texts
    predictions = np.concatenate([model.logits(texts[start : start + 64]).argmax(axis=1)
                                  for start in range(0, len(texts), 64)])
    manifest["onnx_check"] = onnx_check
    manifest["test_texts"] = len(corpus.test.texts)
    manifest["test_accuracy"] = round(float(np.mean(predictions == corpus.test.labels)), 4)
    manifest["build_seconds"] = round(time.perf_counter() - started, 1)
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return directory


def _onnx_check(classifier, tokenizer, session, texts) -> dict:
    """The exported float32 graph against the PyTorch module on ``texts``: max |logit difference|."""
    import torch

    batch = tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.inference_mode():
        expected = classifier(batch["input_ids"], batch["attention_mask"]).numpy()
    (got,) = session.run(["logits"], {"input_ids": batch["input_ids"].numpy().astype(np.int64),
                                      "attention_mask": batch["attention_mask"].numpy().astype(np.int64)})
    difference = float(np.abs(got - expected).max())
    if not difference <= EXPORT_TOLERANCE:
        raise RuntimeError(f"the ONNX export differs from PyTorch by {difference:.3g} > {EXPORT_TOLERANCE} "
                           f"on {len(texts)} texts: the exported graph is wrong")
    return {"texts": len(texts), "max_abs_logit_difference": difference, "tolerance": EXPORT_TOLERANCE}


class SentimentModel:
    """``predict(texts)`` -> one ``{"label", "positive_probability"}`` per text, from a built folder.

    ``threads`` is ONNX Runtime's intra-op thread count. Texts run in the order given, padded
    to the longest text of the call (at most ``max_len`` tokens from the manifest).
    """

    def __init__(self, directory, *, threads: int = 1):
        from tokenizers import Tokenizer

        from companion.compression.onnx_runtime import onnx_session

        directory = Path(directory)
        files = {name: directory / name for name in ("model.onnx", "tokenizer.json", MANIFEST)}
        self.manifest = read_manifest(directory, files, format_version=FORMAT_VERSION, what="sentiment model",
                                      build_hint="python -m companion serve --build")
        self.labels = tuple(self.manifest["labels"])
        self.max_len = int(self.manifest["max_len"])
        self.tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
        self.tokenizer.enable_truncation(self.max_len)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.session = onnx_session(files["model.onnx"], threads=threads)

    def logits(self, texts) -> np.ndarray:
        """Logits (n, 2) of ``texts``: one ONNX Runtime call on one padded batch."""
        texts = check_texts(texts, allow_blank=False)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([encoding.ids for encoding in encodings], dtype=np.int64)
        mask = np.array([encoding.attention_mask for encoding in encodings], dtype=np.int64)
        (logits,) = self.session.run(["logits"], {"input_ids": ids, "attention_mask": mask})
        return logits

    def predict(self, texts) -> list[dict]:
        probabilities = _softmax(self.logits(texts))
        return [{"label": self.labels[int(row.argmax())], "positive_probability": round(float(row[1]), 6)}
                for row in probabilities]
