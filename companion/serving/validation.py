"""What ``POST /v1/sentiment`` accepts, and the 4xx answer to everything else (book chapter 16).

The body is a JSON object with exactly one of two fields:

* ``{"text": "a review"}``: one text; the answer is one result;
* ``{"texts": ["a review", "another"]}``: a batch; the answer holds one result per text;

and optionally ``"language"``: ``"en"`` (the default) or another language the server holds a
model for (``"zh"`` with ``python -m companion serve --chinese``).

Every text is a string with at least one non-space character and at most
``Limits.max_text_chars`` characters; a batch holds 1 to ``Limits.max_texts`` texts; the body
is at most ``Limits.max_body_bytes`` bytes. :func:`parse_sentiment_body` turns a body into
the list of texts or raises :class:`RequestError` with the HTTP status and a message that
says what was expected and what was got.

``POST /v1/generate`` takes ``{"prompt": "...", "max_new_tokens": 64, "temperature": 0,
"top_k": null, "seed": 0, "stream": true}``; every field but ``prompt`` is optional (those are
the defaults). :func:`parse_generate_body` checks it against the model's context ``max_len``:
the prompt plus the new tokens must fit, since the model has no sliding window (chapter 12).
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass

from companion.checks import check_positive_int


class RequestError(ValueError):
    """A request the server refuses: ``status`` (4xx) and a message for the client."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Limits:
    """The documented limits of one request."""

    max_text_chars: int = 2000
    max_texts: int = 32
    max_body_bytes: int = 131_072

    def __post_init__(self):
        for name in ("max_text_chars", "max_texts", "max_body_bytes"):
            check_positive_int(getattr(self, name), name)


def _describe(value) -> str:
    """``int 5``, ``list of 2``, ``null``: what a client sent, short enough for an error message."""
    if value is None:
        return "null"
    if isinstance(value, (list, dict)):
        return f"{type(value).__name__} of {len(value)}"
    shown = repr(value)
    return f"{type(value).__name__} {shown[:40] + '...' if len(shown) > 40 else shown}"


def _check_text(value, where: str, limits: Limits) -> str:
    if not isinstance(value, str):
        raise RequestError(422, f"{where} must be a string; got {_describe(value)}")
    if not value.strip():
        raise RequestError(422, f"{where} must contain at least one non-space character; got {value!r}")
    if len(value) > limits.max_text_chars:
        raise RequestError(422, f"{where} must be at most {limits.max_text_chars} characters; got {len(value)}")
    return value


def parse_sentiment_body(body: bytes, limits: Limits = Limits(),
                         languages: tuple[str, ...] = ("en",)) -> tuple[list[str], bool, str]:
    """``(texts, is_batch, language)`` from a request body, or :class:`RequestError`.

    ``languages`` are those the server holds a model for; the first is the default.
    """
    payload = _json_object(body, limits, '{"text": "..."}')
    fields = set(payload) - {"language"}
    unknown = sorted(fields - {"text", "texts"})
    if unknown:
        raise RequestError(422, f'unknown field(s) {unknown}: the body has exactly one of "text" or "texts", '
                                f'and optionally "language"')
    language = payload.get("language", languages[0])
    if language not in languages:
        raise RequestError(422, f'"language" must be one of {list(languages)} (the models this server holds); '
                                f"got {_describe(language)}")
    if fields != {"text"} and fields != {"texts"}:
        got = "neither" if not fields else "both"
        raise RequestError(422, f'the body must have exactly one of "text" (a string) or "texts" '
                                f"(a list of strings); got {got}")
    if "text" in payload:
        return [_check_text(payload["text"], '"text"', limits)], False, language
    texts = payload["texts"]
    if not isinstance(texts, list):
        raise RequestError(422, f'"texts" must be a list of strings; got {_describe(texts)}')
    if not 1 <= len(texts) <= limits.max_texts:
        raise RequestError(422, f'"texts" must hold 1 to {limits.max_texts} strings; got {len(texts)}')
    return [_check_text(value, f'"texts"[{i}]', limits) for i, value in enumerate(texts)], True, language


@dataclass(frozen=True)
class GenerateRequest:
    """A checked ``POST /v1/generate`` body; ``temperature == 0`` means greedy decoding."""

    prompt: str
    max_new_tokens: int = 64
    temperature: float = 0.0
    top_k: int | None = None
    seed: int = 0
    stream: bool = True


GENERATE_FIELDS = ("prompt", "max_new_tokens", "temperature", "top_k", "seed", "stream")


def _json_object(body: bytes, limits: Limits, example: str) -> dict:
    if len(body) > limits.max_body_bytes:
        raise RequestError(413, f"the body must be at most {limits.max_body_bytes} bytes; got {len(body)}")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f"the body must be JSON such as {example}; it is not: {error}") from None
    if not isinstance(payload, dict):
        raise RequestError(422, f"the body must be a JSON object such as {example}; got {_describe(payload)}")
    return payload


def _integer(payload: dict, name: str, default, low: int, high: int | None):
    value = payload.get(name, default)
    if value is None and default is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low or \
            (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise RequestError(422, f'"{name}" must be an integer {bounds}; got {_describe(value)}')
    return int(value)


def parse_generate_body(body: bytes, max_len: int, limits: Limits = Limits()) -> GenerateRequest:
    """A :class:`GenerateRequest` from a body, for a model whose context holds ``max_len`` tokens."""
    payload = _json_object(body, limits, '{"prompt": "..."}')
    unknown = sorted(set(payload) - set(GENERATE_FIELDS))
    if unknown:
        raise RequestError(422, f"unknown field(s) {unknown}: the fields are {list(GENERATE_FIELDS)}")
    if "prompt" not in payload:
        raise RequestError(422, 'the body must have a "prompt" (a string)')
    prompt = payload["prompt"]
    if not isinstance(prompt, str) or not prompt:
        raise RequestError(422, f'"prompt" must be a non-empty string; got {_describe(prompt)}')
    if len(prompt) >= max_len:
        raise RequestError(422, f'"prompt" must be shorter than the model\'s context of {max_len} characters; '
                                f"got {len(prompt)}")
    room = max_len - len(prompt)
    max_new_tokens = _integer(payload, "max_new_tokens", min(64, room), 1, room)
    temperature = payload.get("temperature", 0.0)
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 5:
        raise RequestError(422, f'"temperature" must be a number from 0 (greedy) to 5; got {_describe(temperature)}')
    top_k = _integer(payload, "top_k", None, 1, None)
    seed = _integer(payload, "seed", 0, 0, 2**32 - 1)
    stream = payload.get("stream", True)
    if not isinstance(stream, bool):
        raise RequestError(422, f'"stream" must be true or false; got {_describe(stream)}')
    return GenerateRequest(prompt, max_new_tokens, float(temperature), top_k, seed, stream)
