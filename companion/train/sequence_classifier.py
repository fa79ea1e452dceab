"""Training the book's sequence classifiers: profiles, encoded splits, the loops (chapters 8, 10, 11).

Chapter 8's LSTMs, chapter 10's Transformer encoder and chapter 11's comparison
all train through this module, so that every model sees the same texts, the
same optimizer steps and the same scores:

- :class:`TrainingProfile`: how much data and model a run uses, one profile for
  two CPU cores and one for a GPU (:func:`choose_profile`,
  :func:`choose_encoder_profile`); :func:`steps_per_epoch` is Eq. (8.9).
- :class:`EncodedSplit` and :func:`encode_split`: right-padded token ids
  (index 0 is the padding, as :class:`companion.text.Vocabulary` encodes it),
  their true lengths and their labels.
- :func:`train_torch_classifier`, :func:`torch_evaluate`, :func:`torch_predict`:
  Adam on the cross-entropy, for any PyTorch module with ``forward(ids,
  lengths)`` and ``n_classes`` (``companion.rnn.classifiers.build_torch_classifier``,
  :func:`build_encoder_classifier`); :func:`train_keras_classifier` and
  :func:`keras_predict` do the same for a compiled Keras model
  (``companion.rnn.classifiers.build_keras_classifier``).
- :func:`score`: accuracy, precision, recall and F1 (Eqs. 5.2-5.4).

PyTorch, TensorFlow and tqdm are imported on use.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from companion.checks import check_labels, check_positive_int, check_texts
from companion.device import profile_for_device
from companion.models.config import TransformerConfig
from companion.train.history import History

if TYPE_CHECKING:
    from companion.models.transformer import TransformerClassifier

_CONFIG_FIELDS = {f.name for f in fields(TransformerConfig)}

# --- profiles -------------------------------------------------------------------


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
    return profile_for_device(device, CPU_PROFILE, GPU_PROFILE)


# The CPU profile uses the same training texts, max_len, epochs and batch size as chapter 8's CPU_PROFILE, so the
# encoder is compared with the LSTMs and the TF-IDF baseline on equal terms; embed_dim is d_model and hidden_size
# is the FFN width d_ff. Both use the TransformerConfig defaults of 4 heads and 2 blocks.
ENCODER_CPU_PROFILE = TrainingProfile("encoder-cpu", max_train=4000, max_len=40, embed_dim=32, hidden_size=64,
                                      epochs=4, batch_size=64, learning_rate=5e-3)
ENCODER_GPU_PROFILE = TrainingProfile("encoder-gpu", max_train=None, max_len=128, embed_dim=128, hidden_size=512,
                                      epochs=8, batch_size=256, learning_rate=1e-3)


def choose_encoder_profile(device) -> TrainingProfile:
    """:data:`ENCODER_GPU_PROFILE` on an accelerator (``device.type`` cuda or mps), else :data:`ENCODER_CPU_PROFILE`."""
    return profile_for_device(device, ENCODER_CPU_PROFILE, ENCODER_GPU_PROFILE)


def steps_per_epoch(n_samples: int, batch_size: int) -> int:
    """Optimizer steps in one pass over ``n_samples`` in batches of ``batch_size``: ceil(n / B), Eq. (8.9).

    The last batch may be smaller; it is still one step.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    batch_size = check_positive_int(batch_size, "batch_size")
    return math.ceil(n_samples / batch_size)


# --- encoded data and scores -------------------------------------------------


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
    texts = check_texts(texts)
    labels = check_labels(labels, len(texts))
    ids, lengths = vocab.encode_batch([tokenizer(text) for text in texts], max_len=max_len)
    return EncodedSplit(ids, lengths, labels)


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


def build_encoder_classifier(vocab_size: int, profile: TrainingProfile, num_classes: int = 2,
                             **config_overrides) -> TransformerClassifier:
    """A :class:`TransformerClassifier` sized by a training ``profile``.

    ``max_len`` comes from ``profile.max_len``, ``d_model`` from
    ``profile.embed_dim`` and ``d_ff`` from ``profile.hidden_size``; heads,
    blocks, dropout, positions and LN placement take the
    :class:`TransformerConfig` defaults unless given in ``config_overrides``.
    The model takes ``(ids, lengths)`` and has ``n_classes`` and ``max_len``, so
    :func:`train_torch_classifier` and :func:`torch_evaluate` train and score it.

    Raises:
        TypeError: ``profile`` is not a TrainingProfile, or an override is not a
            TransformerConfig field.
        ValueError: any resulting configuration value is invalid.
    """
    import torch

    from companion.models.transformer import TransformerClassifier

    if not isinstance(profile, TrainingProfile):
        raise TypeError(f"profile must be a TrainingProfile; got {type(profile).__name__}")
    unknown = sorted(set(config_overrides) - _CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"config_overrides must be TransformerConfig fields {sorted(_CONFIG_FIELDS)}; "
                        f"got unknown {unknown}")
    settings = dict(vocab_size=vocab_size, max_len=profile.max_len, d_model=profile.embed_dim,
                    d_ff=profile.hidden_size)
    settings.update(config_overrides)
    config = TransformerConfig(**settings)
    return TransformerClassifier(config, num_classes).to(torch.float32)


# --- Keras ----------------------------------------------------------------------


def _keras_inputs(model, split: EncodedSplit):
    width = model.inputs[0].shape[1]
    if split.ids.shape[1] != width:
        raise ValueError(
            f"ids must have width max_len = {width} to match the model (truncate or pad when encoding); "
            f"got shape {split.ids.shape}"
        )
    return split.ids


def train_keras_classifier(model, train: EncodedSplit, val: EncodedSplit, epochs: int, batch_size: int,
                           progress: bool = False) -> History:
    """``model.fit`` (verbose=0, shuffled by Keras's seeded generator) and the same :class:`History` as PyTorch."""
    from companion.train.keras_progress import ProgressBarCallback

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
            epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True, callbacks=[ProgressBarCallback(bar)],
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
