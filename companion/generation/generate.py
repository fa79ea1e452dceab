"""The autoregressive decoding loop, with and without a key/value cache (book chapter 12).

Generation follows the factorisation of Eq. (12.1): feed the prompt, pick the
next token from the last position's logits (:mod:`companion.generation.sampling`),
append it, and repeat.

- ``use_cache=False`` recomputes the model on the whole sequence at every step:
  step t processes t tokens, so n new tokens after a prompt of T_0 cost the sum
  of Eq. (12.11), which grows with the square of the length.
- ``use_cache=True`` runs the prompt once ("prefill"), keeping every layer's
  keys and values in a :class:`~companion.attention.torch_attention.KVCache`;
  each later step feeds only the newest token at its absolute position and
  attends over the cached keys and values, so it processes one token. The cache
  holds 2 x layers x d_model numbers per token, Eq. (12.12).

Both give the same tokens (the cached forward pass computes the same numbers,
up to float rounding; the tests assert identical tokens).

Length rule: the model has a fixed context ``model.config.max_len``. A prompt
longer than that, or a request whose prompt plus new tokens would exceed it,
raises ValueError before anything is computed; there is no silent sliding
window. Chapter 12 discusses why a sliding window would not be free with a cache.

The model must follow the interface of :class:`companion.models.gpt.GPT`:
``model(ids, caches=None, start=0) -> logits (B, T, V)``, ``model.make_caches()``
and ``model.config.max_len``.
"""

from __future__ import annotations

import numbers

import torch

from companion.checks import check_choice
from companion.generation.sampling import (STRATEGIES, check_temperature, check_top_k, check_top_p,
                                           sample_next_token)


def check_prompt(prompt_ids, max_len: int, device=None) -> torch.Tensor:
    """Return the prompt as an int64 tensor of shape (B, T) with 1 <= T <= max_len, else raise.

    Accepts a 1-D sequence of ints (one prompt, B = 1) or a 2-D (B, T) array or
    tensor (B prompts of equal length). An empty prompt raises: the first token
    needs something to condition on (start a prompt with a separator token to
    generate "from nothing").
    """
    if isinstance(prompt_ids, (str, bytes)):
        raise TypeError("prompt_ids must be token ids (encode the text with the vocabulary first); got a str")
    if isinstance(prompt_ids, torch.Tensor):
        ids = prompt_ids
    else:
        try:
            ids = torch.as_tensor(prompt_ids)
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(f"prompt_ids must be a sequence of ints or a (B, T) array of ints; "
                            f"got {type(prompt_ids).__name__}") from error
    if ids.numel() == 0:
        raise ValueError(f"prompt_ids must hold at least one token; got an empty prompt of shape {tuple(ids.shape)}")
    if ids.dtype == torch.bool or ids.is_floating_point() or ids.is_complex():
        raise TypeError(f"prompt_ids must be integers; got dtype {ids.dtype}")
    if ids.ndim == 1:
        ids = ids.unsqueeze(0)
    if ids.ndim != 2:
        raise ValueError(f"prompt_ids must be 1-D (T,) or 2-D (B, T); got shape {tuple(ids.shape)}")
    if ids.shape[1] > max_len:
        raise ValueError(f"prompt of {ids.shape[1]} tokens exceeds the model's max_len {max_len}")
    if ids.min() < 0:
        raise ValueError(f"prompt_ids must be non-negative token ids; got {int(ids.min())}")
    return ids.to(device=device, dtype=torch.long)


def _check_model(model):
    config = getattr(model, "config", None)
    if not isinstance(model, torch.nn.Module) or config is None or not hasattr(model, "make_caches"):
        raise TypeError(f"model must be a language model like companion.models.gpt.GPT (a torch.nn.Module with "
                        f".config and .make_caches()); got {type(model).__name__}")
    return config


def _check_settings(model, prompt_ids, max_new_tokens, strategy, temperature, top_k, top_p, use_cache, stop_id):
    """The prompt as a (B, T) tensor on the model's device, once every setting has been checked."""
    config = _check_model(model)
    check_choice(strategy, "strategy", STRATEGIES)
    check_temperature(temperature)
    if top_k is not None:
        check_top_k(top_k)
    if top_p is not None:
        check_top_p(top_p)
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, numbers.Integral):
        raise TypeError(f"max_new_tokens must be an int >= 0; got {type(max_new_tokens).__name__} "
                        f"{max_new_tokens!r}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0; got {max_new_tokens}")
    if not isinstance(use_cache, bool):
        raise TypeError(f"use_cache must be a bool; got {type(use_cache).__name__}")
    device = next(model.parameters()).device
    ids = check_prompt(prompt_ids, config.max_len, device=device)
    if int(ids.max()) >= config.vocab_size:
        raise ValueError(f"prompt_ids must lie in [0, {config.vocab_size}); got {int(ids.max())}")
    total = ids.shape[1] + int(max_new_tokens)
    if total > config.max_len:
        raise ValueError(f"prompt of {ids.shape[1]} tokens + {max_new_tokens} new tokens = {total} exceeds the "
                         f"model's max_len {config.max_len} (no sliding window: shorten the prompt or generate less)")
    if stop_id is not None and not (isinstance(stop_id, numbers.Integral) and 0 <= stop_id < config.vocab_size):
        raise ValueError(f"stop_id must be None or a token id in [0, {config.vocab_size}); got {stop_id!r}")
    return ids


def generate_stream(model, prompt_ids, max_new_tokens: int, *, strategy: str = "greedy", temperature: float = 1.0,
                    top_k: int | None = None, top_p: float | None = None, use_cache: bool = True,
                    generator: torch.Generator | None = None, stop_id: int | None = None):
    """The tokens of :func:`generate`, one step at a time: an iterator of (B,) id tensors.

    Every setting is checked when this is called, before anything is computed. The first
    ``next()`` runs the prefill and picks the first new token; each later ``next()`` is one
    decoding step. A server streams each token to its caller as soon as it exists, so the
    caller waits one prefill for its first token instead of the whole generation. With
    ``stop_id``, the iterator ends once every row has produced it (rows that finished early
    repeat it). Closing the iterator early (a caller that went away) stops the computation.
    """
    ids = _check_settings(model, prompt_ids, max_new_tokens, strategy, temperature, top_k, top_p, use_cache,
                          stop_id)
    return _decode(model, ids, int(max_new_tokens), strategy, temperature, top_k, top_p, use_cache, generator,
                   stop_id)


def _decode(model, ids, max_new_tokens, strategy, temperature, top_k, top_p, use_cache, generator, stop_id):
    if max_new_tokens == 0:
        return
    total = ids.shape[1] + max_new_tokens
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            caches = model.make_caches() if use_cache else None
            logits = model(ids, caches=caches, start=0)[:, -1, :]
        finished = torch.zeros(ids.shape[0], dtype=torch.bool, device=ids.device)
        for _ in range(max_new_tokens):
            with torch.no_grad():
                token = sample_next_token(logits, strategy=strategy, temperature=temperature, top_k=top_k,
                                          top_p=top_p, generator=generator)
            if stop_id is not None:
                token = torch.where(finished, torch.full_like(token, stop_id), token)
                finished |= token == stop_id
            ids = torch.cat([ids, token[:, None]], dim=1)
            yield token
            if stop_id is not None and bool(finished.all()):
                return
            if ids.shape[1] == total:
                return  # the last token needs no logits after it
            with torch.no_grad():  # grad mode is thread-local: set it around each step, not once
                if use_cache:
                    logits = model(ids[:, -1:], caches=caches, start=ids.shape[1] - 1)[:, -1, :]
                else:
                    logits = model(ids, caches=None, start=0)[:, -1, :]
    finally:
        model.train(was_training)


def generate(model, prompt_ids, max_new_tokens: int, *, strategy: str = "greedy", temperature: float = 1.0,
             top_k: int | None = None, top_p: float | None = None, use_cache: bool = True,
             generator: torch.Generator | None = None, stop_id: int | None = None) -> torch.Tensor:
    """Continue ``prompt_ids`` by ``max_new_tokens`` tokens; returns (B, T_prompt + max_new_tokens) ids.

    Args:
        model: a :class:`companion.models.gpt.GPT` (or a model with the same interface).
            It is put in eval mode for the call (dropout off) and restored afterwards.
        prompt_ids: (T,) or (B, T) token ids, 1 <= T <= ``model.config.max_len``.
        max_new_tokens: int >= 0; T + max_new_tokens must not exceed ``max_len``.
        strategy: ``"greedy"`` (Eq. (12.6)) or ``"sample"``; with sampling,
            ``temperature``, ``top_k`` and ``top_p`` shape the distribution,
            Eqs. (12.7), (12.9), (12.10).
        use_cache: keep keys and values between steps (True) or recompute the
            whole prefix at every step (False); the tokens are the same.
        generator: a seeded ``torch.Generator`` for reproducible sampling.
        stop_id: if given, a row that has produced this id keeps producing it
            (the output stays rectangular); generation ends early once every
            row has, and the result is then shorter.

    Raises:
        TypeError, ValueError: bad prompt, settings, or a length past ``max_len``.
    """
    ids = _check_settings(model, prompt_ids, max_new_tokens, strategy, temperature, top_k, top_p, use_cache,
                          stop_id)
    tokens = list(_decode(model, ids, int(max_new_tokens), strategy, temperature, top_k, top_p, use_cache,
                          generator, stop_id))
    return torch.cat([ids, torch.stack(tokens, dim=1)], dim=1) if tokens else ids.clone()


__all__ = ["check_prompt", "generate", "generate_stream"]
