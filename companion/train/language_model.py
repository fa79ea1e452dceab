"""Training and evaluating a language model such as the chapter 12 GPT (book chapter 12).

- data: a character vocabulary and stream (:func:`build_char_vocabulary`,
  :func:`encode_stream`), random training windows (:func:`random_windows`);
- the next-token cross-entropy, Eq. (12.3) (:func:`lm_loss`), perplexity,
  Eq. (12.4) (:func:`evaluate_nll`), and the unigram baseline, Eq. (12.5)
  (:func:`unigram_nll`);
- training profiles for CPU and GPU and the training loop (:func:`train_gpt`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from companion.checks import check_positive_int, check_rng, check_texts
from companion.device import profile_for_device
from companion.models.config import TransformerConfig
from companion.models.gpt import GPT


# --- data: characters, streams and windows ------------------------------------------------------------------------

#: The character that ends every text in a stream (and that generation can stop at).
SEPARATOR = "\n"


def _check_texts(texts, name: str) -> list[str]:
    texts = check_texts(texts, name)
    for index, text in enumerate(texts):
        if SEPARATOR in text:
            raise ValueError(f"{name}[{index}] contains the separator {SEPARATOR!r}; split it into several texts")
    return texts


def build_char_vocabulary(train_texts):
    """A :class:`companion.text.Vocabulary` of the characters of ``train_texts`` plus :data:`SEPARATOR`.

    Build it on the training split only: a character that occurs only in held-out
    text then becomes ``<unk>`` (id 1), exactly as it would for new text.
    Ids 0 and 1 are ``<pad>`` and ``<unk>``; the rest follow frequency order.
    """
    from companion.text import Vocabulary

    texts = _check_texts(train_texts, "train_texts")  # raises ValueError for no texts
    return Vocabulary.build([list(text) + [SEPARATOR] for text in texts])


def encode_stream(texts, vocab) -> np.ndarray:
    """One int64 array of the characters of ``texts``, each text followed by :data:`SEPARATOR`.

    Characters missing from ``vocab`` become ``<unk>``. Raises ValueError when
    ``vocab`` has no separator token or ``texts`` is empty.
    """
    texts = _check_texts(texts, "texts")
    if not texts:
        raise ValueError("texts must hold at least one text; got none")
    if SEPARATOR not in vocab:
        raise ValueError(f"vocab must contain the separator {SEPARATOR!r} (build it with build_char_vocabulary)")
    chars = [ch for text in texts for ch in (*text, SEPARATOR)]
    return np.asarray(vocab.encode(chars), dtype=np.int64)


def _check_stream(stream, name: str = "stream", min_length: int = 2) -> np.ndarray:
    stream = np.asarray(stream)
    if stream.ndim != 1 or not np.issubdtype(stream.dtype, np.integer):
        raise TypeError(f"{name} must be a 1-D integer array of token ids; got dtype {stream.dtype}, "
                        f"shape {stream.shape}")
    if stream.size < min_length:
        raise ValueError(f"{name} must hold at least {min_length} tokens; got {stream.size}")
    if stream.min() < 0:
        raise ValueError(f"{name} must hold non-negative token ids; got {int(stream.min())}")
    return stream.astype(np.int64, copy=False)


def random_windows(stream, batch_size: int, context: int, rng: np.random.Generator):
    """A training batch: ``batch_size`` random windows of ``context`` ids and the same windows shifted by one.

    Returns int64 arrays ``(inputs, targets)`` of shape (batch_size, context) with
    ``targets[b, t] = inputs[b, t + 1]`` inside the stream: position t is trained
    to predict the token that follows it, Eq. (12.3).
    """
    batch_size = check_positive_int(batch_size, "batch_size")
    context = check_positive_int(context, "context")
    stream = _check_stream(stream, min_length=context + 1)
    rng = check_rng(rng)
    starts = rng.integers(0, stream.size - context, size=batch_size)
    offsets = np.arange(context + 1)
    windows = stream[starts[:, None] + offsets[None, :]]
    return windows[:, :-1], windows[:, 1:]


# --- loss and evaluation ---------------------------------------------------------------------------------------


def lm_loss(logits, targets):
    """Mean next-token cross-entropy in nats, Eq. (12.3): -(1/N) sum_t log softmax(z_t)[x_{t+1}].

    ``logits`` (B, T, V), ``targets`` (B, T) int64. Targets equal to the padding
    id 0 are left out of the mean.
    """
    if logits.ndim != 3 or targets.shape != logits.shape[:2]:
        raise ValueError(f"logits must be (B, T, V) and targets (B, T); got {tuple(logits.shape)} and "
                         f"{tuple(targets.shape)}")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=0)


@torch.no_grad()
def evaluate_nll(model: GPT, stream, *, context: int | None = None, batch_size: int = 32, device=None) -> float:
    """Mean negative log-likelihood per token (nats) of a held-out stream, Eq. (12.3); exp() is Eq. (12.4).

    The stream is cut into consecutive, non-overlapping windows of ``context``
    ids (default ``model.config.max_len``); in each, position t predicts the next
    id from the ids before it in the same window. Every id except the stream's
    first is thus predicted exactly once, but the first targets of a window see
    little context (a sliding window would give each a full context and a
    slightly lower NLL, at ``context`` times the cost). The targets are ``stream[1:]``, the same
    tokens :func:`unigram_nll` scores.
    """
    stream = _check_stream(stream)
    context = model.config.max_len if context is None else check_positive_int(context, "context")
    if context > model.config.max_len:
        raise ValueError(f"context {context} exceeds the model's max_len {model.config.max_len}")
    batch_size = check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device if device is None else device
    was_training = model.training
    model.eval()
    total_nll, total_tokens = 0.0, 0
    try:
        n_predicted = stream.size - 1
        starts = list(range(0, n_predicted, context))
        full = [s for s in starts if s + context <= n_predicted]
        tail = [s for s in starts if s + context > n_predicted]
        for first in range(0, len(full), batch_size):
            chunk = full[first:first + batch_size]
            windows = np.stack([stream[s:s + context + 1] for s in chunk])
            total_nll, total_tokens = _add_nll(model, windows, device, total_nll, total_tokens)
        for s in tail:
            total_nll, total_tokens = _add_nll(model, stream[None, s:], device, total_nll, total_tokens)
    finally:
        model.train(was_training)
    return total_nll / total_tokens


def _add_nll(model, windows, device, total_nll, total_tokens):
    windows = torch.as_tensor(windows, device=device)
    logits = model(windows[:, :-1])
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), windows[:, 1:].reshape(-1),
                          reduction="sum")
    return total_nll + float(nll), total_tokens + windows[:, 1:].numel()


def unigram_nll(train_stream, eval_stream, vocab_size: int, alpha: float = 1.0) -> float:
    """Mean NLL per token (nats) of ``eval_stream[1:]`` under add-alpha character frequencies, Eq. (12.5).

    p(v) = (n_v + alpha) / (N + alpha V), with n_v the count of id v in
    ``train_stream`` (N ids) and V = ``vocab_size``. The model ignores the
    context entirely; it is the best such model up to the smoothing. The first id
    of ``eval_stream`` is skipped so the targets are those of :func:`evaluate_nll`.
    """
    train_stream = _check_stream(train_stream, "train_stream", min_length=1)
    eval_stream = _check_stream(eval_stream, "eval_stream")
    vocab_size = check_positive_int(vocab_size, "vocab_size")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0 or not math.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number > 0; got {alpha!r}")
    top = max(int(train_stream.max()), int(eval_stream.max()))
    if top >= vocab_size:
        raise ValueError(f"token ids must lie in [0, vocab_size={vocab_size}); got {top}")
    counts = np.bincount(train_stream, minlength=vocab_size).astype(np.float64)
    log_p = np.log(counts + alpha) - np.log(counts.sum() + alpha * vocab_size)
    return float(-log_p[eval_stream[1:]].mean())


# --- profiles and training -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GPTProfile:
    """Model size and training budget of the chapter's GPT; the same code runs every profile."""

    name: str
    d_model: int
    num_heads: int
    num_layers: int
    max_len: int  # context length: training windows and the longest generation
    dropout: float
    batch_size: int
    steps: int
    learning_rate: float
    warmup_steps: int


GPT_CPU_PROFILE = GPTProfile("cpu", d_model=128, num_heads=4, num_layers=2, max_len=128, dropout=0.0,
                             batch_size=8, steps=600, learning_rate=3e-3, warmup_steps=50)
GPT_GPU_PROFILE = GPTProfile("gpu", d_model=384, num_heads=6, num_layers=6, max_len=256, dropout=0.1,
                             batch_size=64, steps=3000, learning_rate=1e-3, warmup_steps=200)


def choose_gpt_profile(device) -> GPTProfile:
    """:data:`GPT_GPU_PROFILE` on an accelerator (``device.type`` cuda or mps), else :data:`GPT_CPU_PROFILE`."""
    return profile_for_device(device, GPT_CPU_PROFILE, GPT_GPU_PROFILE)


def gpt_config(vocab_size: int, profile: GPTProfile, **overrides) -> TransformerConfig:
    """The :class:`TransformerConfig` of a profile: causal, pre-LN, learned positions, tied embeddings."""
    if not isinstance(profile, GPTProfile):
        raise TypeError(f"profile must be a GPTProfile; got {type(profile).__name__}")
    settings = dict(vocab_size=vocab_size, max_len=profile.max_len, d_model=profile.d_model,
                    num_heads=profile.num_heads, num_layers=profile.num_layers, dropout=profile.dropout,
                    norm_first=True, positions="learned", causal=True, tie_embeddings=True)
    settings.update(overrides)
    return TransformerConfig(**settings)


def learning_rate_at(step: int, profile: GPTProfile) -> float:
    """Linear warm-up to ``profile.learning_rate`` over ``warmup_steps``, then cosine decay to a tenth of it."""
    from companion.optim.schedules import warmup_cosine

    peak = profile.learning_rate
    return warmup_cosine(step, peak, profile.warmup_steps, profile.steps, min_lr=0.1 * peak)  # Eq. (6.8)


def train_gpt(model: GPT, stream, profile: GPTProfile, rng: np.random.Generator, *, log_every: int = 50,
              device=None) -> dict:
    """Train ``model`` on random windows of ``stream`` with AdamW, minimising Eq. (12.3).

    ``profile.steps`` steps of ``profile.batch_size`` windows of ``profile.max_len``
    ids; learning rate from :func:`learning_rate_at`; weight decay 0.1 on the blocks'
    weight matrices only (not on biases, LayerNorms or the embeddings, which
    include the tied output matrix); gradient norm clipped at 1. Returns
    ``{"step": [...], "loss": [...], "seconds": float}``
    with the training loss (mean of the last ``log_every`` steps) every
    ``log_every`` steps.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT; got {type(model).__name__}")
    if not isinstance(profile, GPTProfile):
        raise TypeError(f"profile must be a GPTProfile; got {type(profile).__name__}")
    log_every = check_positive_int(log_every, "log_every")
    stream = _check_stream(stream, min_length=profile.max_len + 1)
    device = next(model.parameters()).device if device is None else device
    decay = [p for name, p in model.named_parameters() if p.ndim == 2 and "embedding" not in name]
    no_decay = [p for name, p in model.named_parameters() if not (p.ndim == 2 and "embedding" not in name)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=profile.learning_rate,
                                  betas=(0.9, 0.99))
    history = {"step": [], "loss": []}
    running = []
    model.train()
    began = time.perf_counter()
    for step in range(profile.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate_at(step, profile)
        inputs, targets = random_windows(stream, profile.batch_size, profile.max_len, rng)
        inputs = torch.as_tensor(inputs, device=device)
        targets = torch.as_tensor(targets, device=device)
        loss = lm_loss(model(inputs), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running.append(loss.item())
        if (step + 1) % log_every == 0 or step + 1 == profile.steps:
            history["step"].append(step + 1)
            history["loss"].append(float(np.mean(running)))
            running = []
    history["seconds"] = time.perf_counter() - began
    model.eval()
    return history


__all__ = [
    "GPTProfile",
    "GPT_CPU_PROFILE",
    "GPT_GPU_PROFILE",
    "SEPARATOR",
    "build_char_vocabulary",
    "choose_gpt_profile",
    "encode_stream",
    "evaluate_nll",
    "gpt_config",
    "learning_rate_at",
    "lm_loss",
    "random_windows",
    "train_gpt",
    "unigram_nll",
]
