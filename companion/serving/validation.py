"""What ``POST /v1/sentiment`` accepts, and the 4xx answer to everything else (book chapter 16).

The body is a JSON object with exactly one of two fields:

* ``{"text": "a review"}``: one text; the answer is one result;
* ``{"texts": ["a review", "another"]}``: a batch; the answer holds one result per text.

Every text is a string with at least one non-space character and at most
``Limits.max_text_chars`` characters; a batch holds 1 to ``Limits.max_texts`` texts; the body
is at most ``Limits.max_body_bytes`` bytes. :func:`parse_sentiment_body` turns a body into
the list of texts or raises :class:`RequestError` with the HTTP status and a message that
says what was expected and what was got.
"""

from __future__ import annotations

import json
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


def parse_sentiment_body(body: bytes, limits: Limits = Limits()) -> tuple[list[str], bool]:
    """``(texts, is_batch)`` from a request body, or :class:`RequestError`."""
    if len(body) > limits.max_body_bytes:
        raise RequestError(413, f"the body must be at most {limits.max_body_bytes} bytes; got {len(body)}")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f'the body must be JSON such as {{"text": "..."}}; it is not: {error}') from None
    if not isinstance(payload, dict):
        raise RequestError(422, f'the body must be a JSON object such as {{"text": "..."}}; got {_describe(payload)}')
    fields = set(payload)
    unknown = sorted(fields - {"text", "texts"})
    if unknown:
        raise RequestError(422, f'unknown field(s) {unknown}: the body has exactly one of "text" or "texts"')
    if fields != {"text"} and fields != {"texts"}:
        got = "neither" if not fields else "both"
        raise RequestError(422, f'the body must have exactly one of "text" (a string) or "texts" '
                                f"(a list of strings); got {got}")
    if "text" in payload:
        return [_check_text(payload["text"], '"text"', limits)], False
    texts = payload["texts"]
    if not isinstance(texts, list):
        raise RequestError(422, f'"texts" must be a list of strings; got {_describe(texts)}')
    if not 1 <= len(texts) <= limits.max_texts:
        raise RequestError(422, f'"texts" must hold 1 to {limits.max_texts} strings; got {len(texts)}')
    return [_check_text(value, f'"texts"[{i}]', limits) for i, value in enumerate(texts)], True
