"""Signing and verifying Mienskip webhooks. Standard library only: a kamer may copy this file.

Every webhook is a JSON ``POST`` with the header::

    Mienskip-Signature: t=1764582000,v1=5f2b...e9

where ``v1`` is the hex HMAC-SHA256, keyed with the kamer's webhook secret, of the
timestamp, a dot and the raw body: ``f"{t}.{body}"``. The timestamp is signed too, so
an old request cannot be replayed with a fresh ``t``; :func:`verify_webhook` refuses
one older (or newer) than ``tolerance_s``. The body's ``id`` stays the same when we
deliver again (after a timeout, say): store it and ignore an ``id`` you have already
handled.

How a kamer verifies, e.g. in Flask::

    from flask import Flask, abort, request
    from webhooks import WebhookVerificationError, verify_webhook

    app = Flask(__name__)
    SECRET = "the webhook secret Mienskip gave your kamer"

    @app.post("/mienskip")
    def mienskip_webhook():
        try:  # the raw bytes: a re-serialised JSON body would not match
            verify_webhook(SECRET, request.headers.get("Mienskip-Signature", ""), request.get_data())
        except WebhookVerificationError:
            abort(400)
        event = request.get_json()  # {"id", "type", "subject", "text", "data", ...}
        return "", 204  # any 2xx; anything else and Mienskip tries again later

Our side derives each kamer's secret from one master key
(:func:`kamer_secret`), so no per-kamer secret has to be stored. A care provider's
webhooks (referrals) are signed the same way with its own secret (:func:`provider_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Mienskip-Signature"
DEFAULT_TOLERANCE_S = 300


class WebhookVerificationError(ValueError):
    """The request is not a fresh webhook from Mienskip: refuse it (e.g. answer 400)."""


class MalformedSignature(WebhookVerificationError):
    """No ``t=`` and ``v1=`` in the signature header."""


class StaleTimestamp(WebhookVerificationError):
    """The timestamp is outside the tolerance: an old request replayed, or a wrong clock."""


class BadSignature(WebhookVerificationError):
    """No ``v1`` matches: another secret, or the body was changed on the way."""


def kamer_secret(master_key: str | bytes, kamer_id: str) -> str:
    """A kamer's webhook secret: hex HMAC-SHA256(master key, kamer id)."""
    key = master_key.encode("utf-8") if isinstance(master_key, str) else master_key
    return hmac.new(key, kamer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def provider_secret(master_key: str | bytes, provider_id: str) -> str:
    """A care provider's webhook secret: :func:`kamer_secret` of ``"provider:<id>"``, so it
    is never a kamer's."""
    return kamer_secret(master_key, f"provider:{provider_id}")


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def signature(secret: str | bytes, timestamp: int, body: str | bytes) -> str:
    """The ``v1`` value: hex HMAC-SHA256(secret, ``"{timestamp}.{body}"``)."""
    signed = str(int(timestamp)).encode("ascii") + b"." + _as_bytes(body)
    return hmac.new(_as_bytes(secret), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str | bytes, body: str | bytes, now: float | None = None) -> str:
    """The ``Mienskip-Signature`` value for ``body``, signed at ``now`` (default: the clock)."""
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify_webhook(secret: str | bytes, header: str, body: str | bytes, now: float | None = None,
                   tolerance_s: float = DEFAULT_TOLERANCE_S) -> int:
    """Check a webhook's ``Mienskip-Signature`` header against its raw body; returns ``t``.

    Raises :class:`MalformedSignature`, :class:`StaleTimestamp` or :class:`BadSignature`
    (all :class:`WebhookVerificationError`). Several ``v1=`` entries are allowed (one
    per secret while a secret is being replaced); one match is enough.
    """
    timestamp: int | None = None
    candidates: list[str] = []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value.strip())
    if timestamp is None or not candidates:
        raise MalformedSignature(f"{SIGNATURE_HEADER} needs t=<unix time> and v1=<hex>")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise StaleTimestamp(f"timestamp {timestamp} is {current - timestamp:.0f} s from now "
                             f"(tolerance {tolerance_s:g} s)")
    expected = signature(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise BadSignature("signature does not match the body")
    return timestamp
