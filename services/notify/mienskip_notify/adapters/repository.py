"""Reads and writes of notify's tables, inside a transaction the caller owns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..domain.notifications import KamerContact, Notification
from . import tables

MAX_ERROR_LENGTH = 500


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; we only ever store UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def save_kamer(conn: Connection, kamer: KamerContact, as_of: datetime) -> bool:
    """Insert or update a kamer's contact; False if a newer version is already stored."""
    t = tables.kamers
    values = {
        "name": kamer.name,
        "email": kamer.email,
        "webhook_url": kamer.webhook_url,
        "language": kamer.language,
        "as_of": as_of.astimezone(UTC),
    }
    stored = conn.execute(select(t.c.as_of).where(t.c.kamer_id == kamer.kamer_id)).scalar_one_or_none()
    if stored is None:
        conn.execute(insert(t).values(kamer_id=kamer.kamer_id, **values))
        return True
    if _aware(stored) > as_of:
        return False  # events from one source may overtake each other
    conn.execute(update(t).where(t.c.kamer_id == kamer.kamer_id).values(**values))
    return True


def kamer_contact(conn: Connection, kamer_id: str) -> KamerContact | None:
    t = tables.kamers
    row = conn.execute(select(t).where(t.c.kamer_id == kamer_id)).one_or_none()
    if row is None:
        return None
    return KamerContact(
        kamer_id=row.kamer_id, name=row.name, email=row.email, webhook_url=row.webhook_url, language=row.language
    )


def plan_notification(conn: Connection, notification: Notification) -> str:
    """Record ``notification`` as pending unless its key exists; return its status."""
    t = tables.notifications
    status = conn.execute(select(t.c.status).where(t.c.key == notification.key)).scalar_one_or_none()
    if status is not None:
        return status
    # Two consumers racing here: the UNIQUE key lets one commit; the other fails and is retried.
    conn.execute(
        insert(t).values(
            key=notification.key,
            source_event_id=notification.source_event_id,
            source_event_type=notification.source_event_type,
            request_id=notification.request_id,
            kamer_id=notification.kamer_id,
            recipient_kind=notification.recipient_kind,
            recipient=notification.recipient,
            channel=notification.channel,
            template=notification.template,
            language=notification.language,
            status="pending",
            attempts=0,
            created_at=utcnow(),
        )
    )
    return "pending"


def record_failure(conn: Connection, key: str, error: str) -> int:
    """Count a failed attempt; returns the attempts so far."""
    t = tables.notifications
    conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status != "sent")
        .values(status="failed", attempts=t.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
    )
    return conn.execute(select(t.c.attempts).where(t.c.key == key)).scalar_one()


def mark_sent(conn: Connection, key: str) -> bool:
    """True if this call moved the notification to 'sent' (so it announces it once)."""
    t = tables.notifications
    result = conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status != "sent")
        .values(status="sent", attempts=t.c.attempts + 1, last_error=None, sent_at=utcnow())
    )
    return result.rowcount == 1
