"""Every error is JSON in API.md's shape: ``{"code", "message", "errors"}``.

``code`` and the field-keyed ``errors`` are for programs and never change; ``message`` is
for people, in the caller's language (``Accept-Language``: nl, fy or en; nl by default),
from intake's catalogue (``api.error.<status>``).
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.exceptions import HTTPException

from ..catalogue import catalogue
from .wording import caller_language

CODES = {
    400: "malformed_json",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid_field",
    429: "rate_limited",
    431: "headers_too_large",
    503: "unavailable",
}


def message_for(status: int, key: str | None = None, **params: Any) -> str:
    """An error's words in the caller's language: ``key`` with ``params`` if given, else the status's own."""
    if key is None:
        key, params = (f"api.error.{status}", {}) if status in CODES else ("api.error.other", {"status": str(status)})
    return catalogue().text(caller_language(), key, **params)


def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """``{"json": {"window": {"end": ["..."]}}}`` -> ``{"window.end": ["..."]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if not prefix and key in ("json", "query", "headers", "view_args", "form"):
                out.update(flatten(value, ""))
                continue
            path = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_body"] = list(messages)
    elif isinstance(messages, list):
        for index, item in enumerate(messages):
            out.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "_body"] = [str(messages)]
    return out


MAX_ECHO = 100  # characters of a client's own field name said back in ``errors``


def _echoable(text: str, limit: int | None = None) -> str:
    """Text that may hold what a client sent (an unknown field's name), safe to say back:
    a lone surrogate, which UTF-8 cannot carry, written as its escape; cut at ``limit``."""
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_response(status: int, message: str | None = None, errors: dict | None = None,
                   headers: dict | None = None):
    """``message``: words in the caller's language (:func:`message_for`); the status's own by default."""
    body = {"code": CODES.get(status, "error"), "message": message or message_for(status)}
    if errors:
        body["errors"] = {_echoable(str(field), MAX_ECHO): [_echoable(str(problem)) for problem in problems]
                          for field, problems in errors.items()}
    response = jsonify(body)
    response.status_code = status
    response.headers["Content-Language"] = caller_language()
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten(data["messages"]) if "messages" in data else None
    if status == 400 and errors:
        errors = {"_body": ["is not valid JSON"]}
    headers = dict(data.get("headers") or {})
    if status == 429 and "Retry-After" not in headers:
        # flask-limiter's breach carries the limit: waiting one window is always enough.
        limit = getattr(getattr(error, "limit", None), "limit", None)
        headers["Retry-After"] = str(limit.get_expiry()) if limit is not None else "1"
    return error_response(status, None, errors, headers)
