"""What the app checks of every call before a view sees it, and adds to every answer:
hostile input becomes a 4xx in API.md's shape, never a 500 (issue 18).

* :func:`refuse_unreadable_body`: a ``/v1`` body over 64 KiB (chunked too) is a 413; JSON
  that nests deeper than :data:`MAX_JSON_DEPTH`, holds an integer of more than 4,300 digits
  or is not UTF-8 is a 400. Checked after the token check (a stranger's body is never
  parsed) and before the schemas parse it, so neither Python's recursion limit nor its
  integer-string limit is ever reached in a view.
* :func:`refuse_unusable_ids`: an id in the path with a control character or a lone
  surrogate is a 404 (no record has one), never a database error.
* :func:`no_store`: every answer that is not a page (the pages set their own) carries
  ``Cache-Control: no-store``, ``X-Content-Type-Options: nosniff`` and a CSP that lets a
  JSON answer load and frame nothing; errors included.
* :class:`JsonErrorRequestHandler`: what the HTTP server itself refuses before the app
  runs (a header line over 64 KiB: 431) is JSON too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.serving import WSGIRequestHandler

from ..catalogue import catalogue
from .errors import CODES, error_response
from .fields import is_plain_text

MAX_JSON_DEPTH = 32  # the deepest body API.md describes nests 3 levels
BODY_METHODS = ("POST", "PUT", "PATCH")
JSON_ANSWER_HEADERS = {
    "Cache-Control": "no-store",  # personal data: in no shared or back-button cache
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep ``text``'s arrays and objects nest, counted without parsing it (brackets
    inside strings do not count); unbalanced text counts as deep as it opens."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def refuse_unreadable_body():
    if not request.path.startswith("/v1") or request.method not in BODY_METHODS:
        return None
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        return error_response(413)
    if request.content_length is None and len(raw) >= (request.max_content_length or len(raw) + 1):
        # A chunked body is cut off at MAX_CONTENT_LENGTH without a word (werkzeug's
        # LimitedStream); one that reaches the limit was longer, or as long: a 413, not
        # the 400 its truncated JSON would be.
        return error_response(413)
    if not raw or not request.is_json:
        return None  # no body, or not JSON: the token check's 415 answers that
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(400, errors={"_body": ["is not UTF-8"]})
    if json_depth(text) > MAX_JSON_DEPTH:
        return error_response(400, errors={"_body": [f"nests deeper than {MAX_JSON_DEPTH} levels"]})
    try:
        json.loads(text)  # an integer over 4,300 digits is a ValueError here, not in a view
    except (ValueError, RecursionError):
        return error_response(400, errors={"_body": ["is not valid JSON"]})
    return None


def refuse_unusable_ids(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    """A ``url_value_preprocessor``: no stored id holds a control character or a lone
    surrogate, and PostgreSQL refuses a NUL in a query, so such an id is not found."""
    for value in (values or {}).values():
        if isinstance(value, str) and not is_plain_text(value):
            raise NotFound()


def no_store(response):
    """An ``after_request`` hook: the pages' own headers are set first and kept."""
    for name, value in JSON_ANSWER_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


class JsonErrorRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, whose own refusals (Python's HTTP server answers a
    header line over 64 KiB or over 100 headers with 431, a malformed request line with
    400) are JSON in API.md's shape instead of an HTML page. The request was never read,
    so its language is unknown: the words are Dutch, the default."""

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        key = f"api.error.{code}" if code in CODES else "api.error.other"
        body = json.dumps({"code": CODES.get(code, "error"),
                           "message": catalogue().text("nl", key, status=str(code))}).encode()
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for name, value in JSON_ANSWER_HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            if getattr(self, "command", None) != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        finally:
            self.close_connection = True
