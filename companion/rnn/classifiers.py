"""LSTM sentiment classifiers in PyTorch and Keras, with training and evaluation (book chapter 8).

Both models read a text as a right-padded row of token ids (index 0 is the
padding, as :class:`companion.text.Vocabulary` encodes it) and classify it from
the LSTM's last hidden state h_T, Eq. (8.6), taken after the text's last *real*
token:

- PyTorch: ``Embedding -> nn.LSTM`` over a ``PackedSequence`` built with the
  true lengths (``pack_padded_sequence``), so the padding is never read, and
  ``h_n`` is the state after the last real token;
- Keras: ``Embedding(mask_zero=True) -> LSTM``; the mask carries the state
  over the padded steps, Eq. (8.8), which gives the same h_T.

Sequence limit: a model is built for rows of at most ``max_len`` ids. Longer
texts must be truncated when they are encoded (``Vocabulary.encode_batch(...,
max_len)`` keeps the first ``max_len`` tokens); a wider id matrix is refused
with a ValueError rather than silently cut. A text with no tokens at all has
length 0. The masked Keras model then keeps the zero initial state; the PyTorch
model reads one step of the padding embedding (a zero vector; packing needs at
least one step), which gives a different, small state. The two models can
therefore disagree on empty texts; count them with ``(split.lengths == 0).sum()``
(the chapter's data have none after tokenisation).

On a GPU, PyTorch runs ``nn.LSTM`` through cuDNN's fused kernel, and Keras
does the same as long as the layer keeps its defaults (tanh, sigmoid,
``recurrent_dropout=0``, ``unroll=False``, biases) and the mask is right-padded;
:func:`choose_profile` then picks the larger profile.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import numpy as np

from companion.checks import check_positive_int
from companion.train.history import History


# --- profiles ----------------------------------------------------------------


@dataclass(frozen=True)
class TrainingProfile:
    """How much data and model a training run uses; the same code runs every profile."""

    name: str
    max_train: int | None  # training texts used (the first ones of the seeded split); None = all
    max_len: int  # ids per text after truncation
    embed_dim: int
    hidden_size: int
    epochs: int
    batch_size: int
    learning_rate: float


CPU_PROFILE = TrainingProfile("cpu", max_train=4000, max_len=40, embed_dim=32, hidden_size=32, epochs=4,
                              batch_size=64, learning_rate=5e-3)
GPU_PROFILE = TrainingProfile("gpu", max_train=None, max_len=128, embed_dim=128, hidden_size=128, epochs=8,
                              batch_size=256, learning_rate=2e-3)


def choose_profile(device) -> TrainingProfile:
    """:data:`GPU_PROFILE` on an accelerator (``device.type`` cuda or mps), else :data:`CPU_PROFILE`."""
    kind = getattr(device, "type", device)
    if not isinstance(kind, str):
        raise TypeError(f"device must be a torch.device or a device name; got {type(device).__name__}")
    return CPU_PROFILE if kind == "cpu" else GPU_PROFILE


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``n_samples`` in batches of ``batch_size``: ceil(n / B), Eq. (8.9).

    The last batch may be smaller; it is still one step.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    batch_size = check_positive_int(batch_size, "batch_size")
    return math.ceil(n_samples / batch_size)


# --- encoded data ---------------------------------------------------------------


@dataclass(frozen=True)
class EncodedSplit:
    """Token ids (n, max_len) right-padded with 0, true lengths (n,) and labels (n,)."""

    ids: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray

    def __post_init__(self):
        check_encoded(self.ids, self.lengths, self.labels)

    def __len__(self) -> int:
        return int(self.ids.shape[0])


def check_encoded(ids, lengths, labels=None) -> None:
    """Raise if ids, lengths and labels do not describe the same batch of right-padded texts."""
    ids, lengths = np.asarray(ids), np.asarray(lengths)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"ids must be a 2-d integer array (n, max_len); got dtype {ids.dtype}, shape {ids.shape}")
    if lengths.shape != (ids.shape[0],) or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(
            f"lengths must be integers of shape ({ids.shape[0]},), one per row of ids; got dtype {lengths.dtype}, "
            f"shape {lengths.shape}"
        )
    if lengths.size and (lengths.min() < 0 or lengths.max() > ids.shape[1]):
        raise ValueError(f"lengths must lie in [0, {ids.shape[1]}]; got min {lengths.min()}, max {lengths.max()}")
    if ids.size and ids.min() < 0:
        raise ValueError(f"ids must be non-negative; got {ids.min()}")
    if labels is not None:
        labels = np.asarray(labels)
        if labels.shape != (ids.shape[0],):
            raise ValueError(
                f"labels must have one entry per text, shape ({ids.shape[0]},); got shape {labels.shape}"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must be integer class ids; got dtype {labels.dtype}")
        if labels.size and labels.min() < 0:
            raise ValueError(f"labels must be class ids >= 0; got {labels.min()}")


def encode_split(texts, labels, tokenizer, vocab, max_len: int) -> EncodedSplit:
    """Tokenise ``texts``, encode them with ``vocab`` truncated to ``max_len`` ids, and pair them with ``labels``.

    Raises ValueError when ``labels`` does not have one entry per text.
    """
    texts = list(texts)
    labels = np.asarray(labels)
    if labels.shape != (len(texts),):
        raise ValueError(f"labels must have one entry per text, shape ({len(texts)},); got shape {labels.shape}")
    ids, lengths = vocab.encode_batch([tokenizer(text) for text in texts], max_len=max_len)
    return EncodedSplit(ids, lengths, labels.astype(np.int64))


# --- scores ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Test-set accuracy, and precision, recall and F1 of the positive class (Eqs. 5.2-5.4)."""

    accuracy: float
    precision: float
    recall: float
    f1: float

    def as_dict(self) -> dict:
        return {"accuracy": self.accuracy, "precision": self.precision, "recall": self.recall, "f1": self.f1}


def score(y_true, y_pred, pos_label: int = 1) -> Scores:
    """Accuracy, precision, recall and F1 from :mod:`companion.metrics` (binary, positive class ``pos_label``)."""
    from companion.metrics import accuracy, precision_recall_f1

    prf = precision_recall_f1(y_true, y_pred, average="binary", pos_label=pos_label)
    return Scores(accuracy(y_true, y_pred), prf.precision, prf.recall, prf.f1)


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, file=sys.stdout, leave=True, mininterval=2.0)


# --- PyTorch --------------------------------------------------------------------


def build_torch_classifier(vocab_size: int, max_len: int, embed_dim: int = 32, hidden_size: int = 32,
                           n_classes: int = 2):
    """``TorchLSTMClassifier``: Embedding (row 0 = padding) -> packed nn.LSTM -> h_T -> Linear to ``n_classes`` logits."""
    import torch
    from torch import nn

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    max_len = check_positive_int(max_len, "max_len")
    embed_dim = check_positive_int(embed_dim, "embed_dim")
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one logit per class); got {n_classes}")

    class TorchLSTMClassifier(nn.Module):
        """Logits (n, n_classes) from right-padded ids (n, T <= max_len) and their lengths (n,)."""

        def __init__(self):
            super().__init__()
            self.max_len = max_len
            self.n_classes = n_classes
            self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
            self.head = nn.Linear(hidden_size, n_classes)

        def forward(self, ids, lengths):
            if ids.ndim != 2 or ids.shape[1] > self.max_len:
                raise ValueError(
                    f"ids must have shape (n, T) with T <= max_len = {self.max_len} (truncate when encoding); "
                    f"got {tuple(ids.shape)}"
                )
            if lengths.shape != (ids.shape[0],):
                raise ValueError(f"lengths must have shape ({ids.shape[0]},); got {tuple(lengths.shape)}")
            x = self.embedding(ids)
            packed = nn.utils.rnn.pack_padded_sequence(
                x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False
            )
            _, (h_n, _) = self.lstm(packed)  # h_n: (1, n, hidden), state after each last real token
            return self.head(h_n[-1])

    model = TorchLSTMClassifier()
    return model.to(torch.float32)


def _torch_batches(split: EncodedSplit, batch_size: int, device, order=None):
    import torch

    order = np.arange(len(split)) if order is None else order
    for start in range(0, len(split), batch_size):
        rows = order[start : start + batch_size]
        yield (
            torch.as_tensor(split.ids[rows], device=device),
            torch.as_tensor(split.lengths[rows]),
            torch.as_tensor(split.labels[rows], device=device),
        )


def _check_labels_fit(split: EncodedSplit, n_classes: int, name: str):
    if len(split) and split.labels.max() >= n_classes:
        raise ValueError(
            f"{name} labels must lie in [0, {n_classes}) for a model with {n_classes} output units; "
            f"got label {split.labels.max()}"
        )


def torch_evaluate(model, split: EncodedSplit, batch_size: int = 256, device=None):
    """(mean cross-entropy, accuracy, predicted labels) of ``model`` on ``split``, without gradients."""
    import torch

    device = next(model.parameters()).device if device is None else device
    model.eval()
    total, preds = 0.0, []
    with torch.no_grad():
        for ids, lengths, y in _torch_batches(split, batch_size, device):
            logits = model(ids, lengths)
            total += torch.nn.functional.cross_entropy(logits, y, reduction="sum").item()
            preds.append(logits.argmax(dim=1).cpu().numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)
    return total / max(len(split), 1), float(np.mean(pred == split.labels)), pred


def train_torch_classifier(model, train: EncodedSplit, val: EncodedSplit, epochs: int, batch_size: int,
                           learning_rate: float, device=None, progress: bool = False,
                           desc: str = "PyTorch LSTM") -> History:
    """Train with Adam on cross-entropy, shuffling each epoch with PyTorch's (seeded) generator.

    Args:
        model: from :func:`build_torch_classifier`, or any module with the same interface
            (``forward(ids, lengths)``, ``n_classes``), e.g. chapter 10's encoder classifier.
        train, val: :class:`EncodedSplit`.
        device: where to train; default ``companion.get_device()``.
        progress: show a tqdm bar over the optimizer steps (written to stdout).
        desc: the bar's label (the chapter 10 encoder trains through this loop too).

    Returns:
        :class:`History` with one entry per epoch.
    """
    import torch

    from companion.device import get_device

    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    for split, name in ((train, "train"), (val, "val")):
        if not isinstance(split, EncodedSplit):
            raise TypeError(f"{name} must be an EncodedSplit; got {type(split).__name__}")
        _check_labels_fit(split, model.n_classes, name)
    device = get_device() if device is None else device
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    history = History(steps_per_epoch=steps_per_epoch(len(train), batch_size))
    with _progress(epochs * history.steps_per_epoch, desc, progress) as bar:
        for _ in range(epochs):
            model.train()
            order = torch.randperm(len(train)).numpy()
            loss_sum, correct = 0.0, 0
            for ids, lengths, y in _torch_batches(train, batch_size, device, order):
                logits = model(ids, lengths)
                loss = torch.nn.functional.cross_entropy(logits, y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                loss_sum += loss.item() * len(y)
                correct += int((logits.argmax(dim=1) == y).sum())
                bar.update(1)
            history.train_loss.append(loss_sum / len(train))
            history.train_acc.append(correct / len(train))
            val_loss, val_acc, _ = torch_evaluate(model, val, device=device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
    return history


def torch_predict(model, split: EncodedSplit, batch_size: int = 256) -> np.ndarray:
    """Predicted class ids of ``model`` on ``split``."""
    return torch_evaluate(model, split, batch_size)[2]


# --- Keras ----------------------------------------------------------------------


def build_keras_classifier(vocab_size: int, max_len: int, embed_dim: int = 32, hidden_size: int = 32,
                           n_classes: int = 2, learning_rate: float = 1e-3, recurrent_dropout: float = 0.0,
                           vectorizer=None):
    """Compiled Keras model: [TextVectorization ->] Embedding(mask_zero=True) -> LSTM -> Dense(n_classes) logits.

    Without ``vectorizer`` the model takes int id rows of width ``max_len``;
    with a ``keras.layers.TextVectorization`` (see :func:`keras_vectorizer`)
    it takes raw strings. The LSTM keeps Keras's defaults, so on a GPU it runs
    on cuDNN; ``recurrent_dropout > 0`` forces the slower generic loop.
    Loss: sparse categorical cross-entropy on logits; metric: accuracy.
    """
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    vocab_size = check_positive_int(vocab_size, "vocab_size")
    max_len = check_positive_int(max_len, "max_len")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (one logit per class); got {n_classes}")
    if not 0.0 <= recurrent_dropout < 1.0:
        raise ValueError(f"recurrent_dropout must lie in [0, 1); got {recurrent_dropout}")
    if vectorizer is None:
        inputs = keras.Input(shape=(max_len,), dtype="int64", name="ids")
        x = inputs
    else:
        inputs = keras.Input(shape=(), dtype="string", name="text")
        x = vectorizer(inputs)
    x = keras.layers.Embedding(vocab_size, check_positive_int(embed_dim, "embed_dim"), mask_zero=True)(x)
    x = keras.layers.LSTM(check_positive_int(hidden_size, "hidden_size"), recurrent_dropout=recurrent_dropout)(x)
    outputs = keras.layers.Dense(n_classes)(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def keras_vectorizer(texts, language: str, max_tokens: int, max_len: int):
    """An adapted ``TextVectorization``: words (lower-cased, punctuation stripped) for ``"en"``,
    characters for ``"zh"``; ids right-padded/truncated to ``max_len``, 0 = padding, 1 = unknown.

    Keras's default ``split="whitespace"`` is right for English and wrong for
    Chinese, which is written without spaces: every review would be one token.
    """
    from companion.frameworks import import_tensorflow

    import_tensorflow()
    import keras

    splits = {"en": "whitespace", "zh": "character"}
    if language not in splits:
        raise ValueError(f"language must be one of {sorted(splits)}; got {language!r}")
    layer = keras.layers.TextVectorization(
        max_tokens=check_positive_int(max_tokens, "max_tokens"),
        split=splits[language],
        output_sequence_length=check_positive_int(max_len, "max_len"),
        standardize="lower_and_strip_punctuation" if language == "en" else None,
    )
    layer.adapt(list(texts))
    return layer


def _keras_inputs(model, split: EncodedSplit):
    width = model.inputs[0].shape[1]
    if split.ids.shape[1] != width:
        raise ValueError(
            f"ids must have width max_len = {width} to match the model (truncate or pad when encoding); "
            f"got shape {split.ids.shape}"
        )
    return split.ids


class _TqdmCallback:
    """A Keras callback that advances a tqdm bar once per batch."""

    def __new__(cls, bar):
        import keras

        class Callback(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                bar.update(1)

        return Callback()


def train_keras_classifier(model, train: EncodedSplit, val: EncodedSplit, epochs: int, batch_size: int,
                           progress: bool = False) -> History:
    """``model.fit`` (verbose=0, shuffled by Keras's seeded generator) and the same :class:`History` as PyTorch."""
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_classes = int(model.outputs[0].shape[-1])
    for split, name in ((train, "train"), (val, "val")):
        if not isinstance(split, EncodedSplit):
            raise TypeError(f"{name} must be an EncodedSplit; got {type(split).__name__}")
        _check_labels_fit(split, n_classes, name)
    history = History(steps_per_epoch=steps_per_epoch(len(train), batch_size))
    with _progress(epochs * history.steps_per_epoch, "Keras LSTM", progress) as bar:
        fit = model.fit(
            _keras_inputs(model, train), train.labels, validation_data=(_keras_inputs(model, val), val.labels),
            epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True, callbacks=[_TqdmCallback(bar)],
        )
    history.train_loss = [float(v) for v in fit.history["loss"]]
    history.train_acc = [float(v) for v in fit.history["accuracy"]]
    history.val_loss = [float(v) for v in fit.history["val_loss"]]
    history.val_acc = [float(v) for v in fit.history["val_accuracy"]]
    return history


def keras_predict(model, split: EncodedSplit, batch_size: int = 256) -> np.ndarray:
    """Predicted class ids of a Keras classifier on ``split``."""
    logits = model.predict(_keras_inputs(model, split), batch_size=batch_size, verbose=0)
    return np.asarray(logits).argmax(axis=1)
