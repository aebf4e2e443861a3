"""Every error is JSON in API.md's shape: ``{"code", "message", "errors"}``."""

from __future__ import annotations

from flask import jsonify
from werkzeug.exceptions import HTTPException

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
    503: "unavailable",
}

MESSAGES = {
    400: "Body is not valid JSON / Body is geen geldige JSON",
    401: "Missing, unknown or revoked token / Ontbrekend, onbekend of ingetrokken token",
    403: "Your role may not do this / Uw rol mag dit niet",
    404: "Not found / Niet gevonden",
    405: "Method not allowed / Methode niet toegestaan",
    409: "Conflicts with the current state / Botst met de huidige status",
    413: "Body larger than 64 KiB / Body groter dan 64 KiB",
    415: "Send JSON (Content-Type: application/json) / Stuur JSON",
    422: "Some fields are invalid / Sommige velden zijn ongeldig",
    429: "Too many requests, slow down / Te veel verzoeken",
    503: "A dependency is unavailable, retry later / Tijdelijk niet beschikbaar",
}


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


def error_response(status: int, message: str | None = None, errors: dict | None = None,
                   headers: dict | None = None):
    body = {"code": CODES.get(status, "error"), "message": message or MESSAGES.get(status, "Error")}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def from_http_exception(error: HTTPException):
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = flatten(data["messages"]) if "messages" in data else None
    if status == 400 and errors:
        errors = {"_body": ["is not valid JSON"]}
    message = MESSAGES.get(status) or error.description
    headers = dict(data.get("headers") or {})
    if status == 429 and "Retry-After" not in headers:
        # flask-limiter's breach carries the limit: waiting one window is always enough.
        limit = getattr(getattr(error, "limit", None), "limit", None)
        headers["Retry-After"] = str(limit.get_expiry()) if limit is not None else "1"
    return error_response(status, message, errors, headers)
