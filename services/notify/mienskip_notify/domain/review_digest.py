"""A kamer's "proposal ready for review" e-mail, gathered (issue 14).

The first proposal after a quiet period is mailed at once, as always. Any further one
within ``every`` (``MIENSKIP_KAMER_DIGEST_MINUTES``, 15) of the last mail joins the
kamer's open digest, which goes as one e-mail ``every`` after that last mail: count,
categories, times and the review link. So a kamer's system that sends 500 requests at
once gets one mail and then one digest, not 500 mails. The kamer's webhook still gets one
call per proposal (systems want each event); a digest mails only the mailbox or e-mail.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_EVERY = timedelta(minutes=15)
_DIGEST_NAMESPACE = uuid.UUID("7d1e5b2a-3c4f-5a6b-9c8d-0e1f2a3b4c5d")


@dataclass(frozen=True)
class ReviewHold:
    """A review request whose kamer mail waits in the kamer's digest (kept by its event's id)."""

    event_id: str
    kamer_id: str
    digest_id: str
    request_id: str
    assignment_id: str | None
    proposed_at: datetime


def mail_now(last_mail_at: datetime | None, open_digest: bool, now: datetime, every: timedelta) -> bool:
    """True: mail this proposal on its own now (a quiet period before it); False: it
    joins the open digest, or a new one due ``every`` after the last mail."""
    if open_digest:
        return False
    return last_mail_at is None or now - last_mail_at >= every


def digest_due(last_mail_at: datetime | None, now: datetime, every: timedelta) -> datetime:
    """When a new digest goes: ``every`` after the last mail (never before now)."""
    return max(now, last_mail_at + every) if last_mail_at is not None else now


def digest_id(kamer_id: str, due_at: datetime) -> str:
    """A digest's id: one per kamer and due time, the same on every plan."""
    return str(uuid.uuid5(_DIGEST_NAMESPACE, f"{kamer_id}\n{due_at.isoformat()}"))
