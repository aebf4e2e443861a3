"""Signed links for volunteers: accept or decline a task without an account.

notify issues them in offers; intake verifies them. A link names one assignment and
one volunteer, expires, and is an HMAC-SHA256 over both with a secret the two
services share (``MIENSKIP_SECRET_KEY``). Nothing personal is inside.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .files import private_directory

PREFIX = "vl1"


class InvalidLink(Exception):
    """Tampered, malformed or expired: the volunteer should ask the kamer."""


@dataclass(frozen=True)
class VolunteerLink:
    assignment_id: str
    volunteer_id: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def sign_volunteer_link(secret: str, assignment_id: str, volunteer_id: str, expires_at: datetime) -> str:
    payload = f"{PREFIX}.{_b64(assignment_id.encode())}.{_b64(volunteer_id.encode())}.{int(expires_at.timestamp())}"
    return f"{payload}.{_mac(secret, payload)}"


def verify_volunteer_link(secret: str, token: str, now: datetime | None = None) -> VolunteerLink:
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != PREFIX:
        raise InvalidLink("not a volunteer link")
    payload, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_mac(secret, payload), mac):
        raise InvalidLink("signature does not match")
    try:
        link = VolunteerLink(_unb64(parts[1]).decode(), _unb64(parts[2]).decode(),
                             datetime.fromtimestamp(int(parts[3]), UTC))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidLink("malformed link") from exc
    if (now or datetime.now(UTC)) >= link.expires_at:
        raise InvalidLink("link expired")
    return link


def is_volunteer_link(token: str) -> bool:
    return token.startswith(PREFIX + ".")


def secret_key(configured: str, data_dir: Path) -> str:
    """The configured secret, or for the embedded system one kept under ``data_dir``.

    Never a built-in default: a guessable key would let anyone accept tasks.
    """
    if configured:
        return configured
    path = Path(data_dir) / "secret_key"
    if not path.exists():
        private_directory(path.parent)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()
