"""Signed links: a volunteer, a care provider or a resident answers without an account.

notify issues them in messages; intake verifies them. A link names one thing (an
assignment, a referral, a request) and who holds it, expires, and is an HMAC-SHA256 over
both with a secret the two services share (``MIENSKIP_SECRET_KEY``). Nothing personal is
inside. Each kind has its own prefix, so one kind's link never passes for another's:
``vl1`` a volunteer's assignment, ``rl1`` a provider's referral, ``fl1`` a resident's
follow-up question about their request. intake serves them at ``/v/<token>``,
``/p/<token>`` and ``/f/<token>`` of its public address.
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

PREFIX = "vl1"  # a volunteer's link to one assignment
REFERRAL_PREFIX = "rl1"  # a care provider's link to one referral
FOLLOW_UP_PREFIX = "fl1"  # a resident's link to answer "did the help come?" about one request


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


def _sign(prefix: str, subject: str, holder: str, secret: str, expires_at: datetime) -> str:
    payload = f"{prefix}.{_b64(subject.encode())}.{_b64(holder.encode())}.{int(expires_at.timestamp())}"
    return f"{payload}.{_mac(secret, payload)}"


def _verify(prefix: str, secret: str, token: str, now: datetime | None) -> VolunteerLink:
    parts = token.split(".")
    if len(parts) != 5 or parts[0] != prefix:
        raise InvalidLink("not a link of this kind")
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


def sign_volunteer_link(secret: str, assignment_id: str, volunteer_id: str, expires_at: datetime) -> str:
    return _sign(PREFIX, assignment_id, volunteer_id, secret, expires_at)


def verify_volunteer_link(secret: str, token: str, now: datetime | None = None) -> VolunteerLink:
    return _verify(PREFIX, secret, token, now)


@dataclass(frozen=True)
class ReferralLink:
    referral_id: str
    provider_id: str
    expires_at: datetime


def sign_referral_link(secret: str, referral_id: str, provider_id: str, expires_at: datetime) -> str:
    return _sign(REFERRAL_PREFIX, referral_id, provider_id, secret, expires_at)


def verify_referral_link(secret: str, token: str, now: datetime | None = None) -> ReferralLink:
    link = _verify(REFERRAL_PREFIX, secret, token, now)
    return ReferralLink(link.assignment_id, link.volunteer_id, link.expires_at)


@dataclass(frozen=True)
class FollowUpLink:
    request_id: str
    assignment_id: str
    expires_at: datetime


def sign_follow_up_link(secret: str, request_id: str, assignment_id: str, expires_at: datetime) -> str:
    return _sign(FOLLOW_UP_PREFIX, request_id, assignment_id, secret, expires_at)


def verify_follow_up_link(secret: str, token: str, now: datetime | None = None) -> FollowUpLink:
    link = _verify(FOLLOW_UP_PREFIX, secret, token, now)
    return FollowUpLink(link.assignment_id, link.volunteer_id, link.expires_at)


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
