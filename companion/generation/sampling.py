"""From one row of logits to the next token: greedy, temperature, top-k and top-p (book chapter 12).

A language model's last layer gives, for every position, a vector of logits
z in R^V; softmax(z) is the model's distribution of the next token. A decoding
strategy turns it into one token id:

- greedy, Eq. (12.6): the most probable token, ``argmax_v z_v``;
- temperature, Eq. (12.7): sample from softmax(z / tau); tau < 1 sharpens the
  distribution (lower entropy, Eq. (12.8)), tau > 1 flattens it, and tau -> 0
  tends to greedy;
- top-k, Eq. (12.9): sample only among the k tokens with the largest logits;
- top-p (nucleus), Eq. (12.10): sample only among the smallest set of most
  probable tokens whose total probability is at least p.

When several are combined they are applied in this order: temperature, then
top-k, then top-p (the nucleus is computed on the tempered, top-k-filtered
distribution). A filter removes a token by setting its logit to ``-inf``, so
softmax gives it probability exactly 0; it never removes the most probable
token, so greedy decoding is the same with or without filters.

Every function takes logits of shape (..., V) (one row per sequence) and works
on the last axis. Bad settings raise: ``temperature <= 0``, ``k < 1``,
``top_p`` outside (0, 1], NaN logits, an unknown strategy.
"""

from __future__ import annotations

import math
import numbers

import torch

from companion.checks import check_choice

STRATEGIES = ("greedy", "sample")


# --- checks -----------------------------------------------------------------------------


def check_temperature(temperature) -> float:
    """Return ``temperature`` as a float if it is a finite number > 0, else raise."""
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"temperature must be a float > 0; got {type(temperature).__name__} {temperature!r}")
    temperature = float(temperature)
    if not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite float > 0 (use strategy='greedy' for the limit "
                         f"temperature -> 0); got {temperature}")
    return temperature


def check_top_k(k) -> int:
    """Return ``k`` if it is an int >= 1, else raise."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"top_k must be an int >= 1; got {type(k).__name__} {k!r}")
    if k < 1:
        raise ValueError(f"top_k must be an int >= 1; got {k}")
    return int(k)


def check_top_p(p) -> float:
    """Return ``p`` as a float if 0 < p <= 1, else raise."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"top_p must be a float in (0, 1]; got {type(p).__name__} {p!r}")
    p = float(p)
    if not (0.0 < p <= 1.0):
        raise ValueError(f"top_p must lie in (0, 1]; got {p}")
    return p


def check_logits(logits) -> torch.Tensor:
    """Return ``logits`` if it is a floating tensor of shape (..., V), V >= 1, usable by softmax.

    ``-inf`` entries are allowed (a token that was filtered out), NaN and ``+inf`` are
    not, and every row needs at least one finite entry.
    """
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"logits must be a torch.Tensor of shape (..., vocab_size); got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be a floating-point tensor; got dtype {logits.dtype}")
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits must have shape (..., vocab_size) with vocab_size >= 1; got {tuple(logits.shape)}")
    if torch.isnan(logits).any() or (logits == float("inf")).any():
        raise ValueError("logits must not contain NaN or +inf")
    if not torch.isfinite(logits).any(dim=-1).all():
        raise ValueError("every row of logits needs at least one finite entry; got a row that is all -inf")
    return logits


# --- the strategies -----------------------------------------------------------------------


def greedy(logits) -> torch.Tensor:
    """The most probable next token, ``argmax_v z_v``, Eq. (12.6); shape ``logits.shape[:-1]``.

    Ties go to the smallest token id (``torch.argmax`` returns the first maximum).
    """
    return check_logits(logits).argmax(dim=-1)


def apply_temperature(logits, temperature: float) -> torch.Tensor:
    """Logits divided by the temperature, z / tau, Eq. (12.7); softmax of the result is p_tau."""
    return check_logits(logits) / check_temperature(temperature)


def top_k_filter(logits, k: int) -> torch.Tensor:
    """Keep the ``k`` largest logits of each row and set the others to ``-inf``, Eq. (12.9).

    A logit equal to the k-th largest is kept too, so ties at the threshold can
    keep more than ``k`` tokens. ``k >= V`` keeps every token.
    """
    logits = check_logits(logits)
    k = check_top_k(k)
    if k >= logits.shape[-1]:
        return logits.clone()
    kth_largest = torch.topk(logits, k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < kth_largest, float("-inf"))


def top_p_filter(logits, p: float) -> torch.Tensor:
    """Keep the smallest set of most probable tokens whose probability sums to at least ``p``, Eq. (12.10).

    Tokens are ranked by probability (ties by smaller id); token number i of the
    ranking is kept when the tokens ranked before it hold less than ``p`` of the
    mass, so the most probable token is always kept and ``p = 1`` keeps every
    token of non-zero probability. The others get ``-inf``.
    """
    logits = check_logits(logits)
    p = check_top_p(p)
    probs = torch.softmax(logits.double(), dim=-1)
    sorted_probs, order = torch.sort(probs, dim=-1, descending=True, stable=True)
    mass_before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
    keep_sorted = mass_before < p
    keep_sorted[..., 0] = True
    keep = keep_sorted.gather(-1, torch.argsort(order, dim=-1))  # back to vocabulary order
    return logits.masked_fill(~keep, float("-inf"))


def filter_logits(logits, *, temperature: float = 1.0, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Temperature, then top-k, then top-p: Eqs. (12.7), (12.9), (12.10) in that order.

    ``top_k=None`` and ``top_p=None`` skip that filter.
    """
    out = apply_temperature(logits, temperature)
    if top_k is not None:
        out = top_k_filter(out, top_k)
    if top_p is not None:
        out = top_p_filter(out, top_p)
    return out


def next_token_distribution(logits, *, temperature: float = 1.0, top_k: int | None = None,
                            top_p: float | None = None) -> torch.Tensor:
    """The distribution a sampler draws from: softmax of :func:`filter_logits` (rows sum to 1)."""
    return torch.softmax(filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p), dim=-1)


def entropy(probs) -> torch.Tensor:
    """Entropy in nats, H(p) = -sum_v p_v log p_v with 0 log 0 = 0, Eq. (12.8); over the last axis."""
    if not isinstance(probs, torch.Tensor) or not probs.is_floating_point():
        raise TypeError(f"probs must be a floating-point torch.Tensor; got {type(probs).__name__}")
    if (probs < 0).any() or not torch.isfinite(probs).all():
        raise ValueError("probs must be finite and non-negative")
    terms = torch.where(probs > 0, probs * torch.log(probs.clamp_min(torch.finfo(probs.dtype).tiny)),
                        torch.zeros_like(probs))
    return -terms.sum(dim=-1)


def sample_next_token(logits, *, strategy: str = "sample", temperature: float = 1.0, top_k: int | None = None,
                      top_p: float | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Choose the next token of each row of ``logits`` (shape (B, V)); returns int64 ids of shape (B,).

    ``strategy="greedy"``: Eq. (12.6). The settings are still validated; they
    cannot change the result, since every filter keeps the most probable token
    and dividing by tau > 0 keeps the order.
    ``strategy="sample"``: one draw from :func:`next_token_distribution`, using
    ``generator`` (a ``torch.Generator``; None uses PyTorch's global generator).
    The draw happens on the generator's device, so a CPU generator gives the same
    tokens whatever device the model runs on (up to float differences in the
    logits). Seed the generator (``torch.Generator().manual_seed(s)``) for
    reproducible samples.
    """
    check_choice(strategy, "strategy", STRATEGIES)
    logits = check_logits(logits)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, vocab_size); got {tuple(logits.shape)}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None; got {type(generator).__name__}")
    filtered = filter_logits(logits, temperature=temperature, top_k=top_k, top_p=top_p)
    if strategy == "greedy":
        return logits.argmax(dim=-1)
    probs = torch.softmax(filtered.float(), dim=-1)
    if generator is not None and probs.device != generator.device:
        probs = probs.to(generator.device)
    draw = torch.multinomial(probs, 1, generator=generator).squeeze(-1)
    return draw.to(logits.device)


__all__ = [
    "STRATEGIES",
    "apply_temperature",
    "check_logits",
    "check_temperature",
    "check_top_k",
    "check_top_p",
    "entropy",
    "filter_logits",
    "greedy",
    "next_token_distribution",
    "sample_next_token",
    "top_k_filter",
    "top_p_filter",
]
