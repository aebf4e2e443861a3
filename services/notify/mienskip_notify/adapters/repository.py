"""Reads and writes of notify's tables, inside a transaction the caller owns."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

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
    """Count a failed attempt; the row stays 'pending' (the consumer retries). Returns the attempts so far."""
    t = tables.notifications
    conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status == "pending")
        .values(attempts=t.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
    )
    return conn.execute(select(t.c.attempts).where(t.c.key == key)).scalar_one()


def mark_sent(conn: Connection, key: str) -> bool:
    """True if this call moved the notification to 'sent' (so it announces it once)."""
    t = tables.notifications
    result = conn.execute(
        update(t)
        .where(t.c.key == key, t.c.status == "pending")
        .values(status="sent", attempts=t.c.attempts + 1, last_error=None, sent_at=utcnow())
    )
    return result.rowcount == 1


def fail_for_good(conn: Connection, *, error: str, key: str | None = None,
                  source_event_id: str | None = None) -> list[Row]:
    """Move pending notifications (one ``key``, or all of a ``source_event_id``) to 'failed'.

    Returns the rows this call moved, as they are now, so each is announced once even
    when two consumers give up on the same event. A row's own ``last_error`` (the
    reason of its last attempt) wins over ``error``.
    """
    t = tables.notifications
    which = t.c.key == key if key is not None else t.c.source_event_id == source_event_id
    moved = []
    pending = select(t.c.key, t.c.last_error).where(which, t.c.status == "pending").order_by(t.c.id)
    for row in conn.execute(pending).all():
        result = conn.execute(
            update(t)
            .where(t.c.key == row.key, t.c.status == "pending")
            .values(status="failed", last_error=(row.last_error or error)[:MAX_ERROR_LENGTH])
        )
        if result.rowcount == 1:
            moved.append(conn.execute(select(t).where(t.c.key == row.key)).one())
    return moved


def reserve_sms(conn: Connection, key: str, kamer_id: str, month: str, limit: int) -> bool:
    """Take one place in the kamer's SMS budget for ``month`` for notification ``key``.

    True if the notification holds a place (now, or from an earlier attempt: a retry
    does not count twice); False when the budget is spent. The conditional increment
    is one statement, so concurrent consumers cannot both take the last place.
    """
    t, usage = tables.notifications, tables.sms_usage
    if conn.execute(select(t.c.sms_month).where(t.c.key == key)).scalar_one() is not None:
        return True
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(usage).values(kamer_id=kamer_id, month=month, used=0).on_conflict_do_nothing())
    taken = conn.execute(
        update(usage)
        .where(usage.c.kamer_id == kamer_id, usage.c.month == month, usage.c.used < limit)
        .values(used=usage.c.used + 1)
    ).rowcount == 1
    if taken:
        conn.execute(update(t).where(t.c.key == key).values(sms_month=month))
    return taken


def sms_used(conn: Connection, kamer_id: str, month: str) -> int:
    usage = tables.sms_usage
    used = conn.execute(
        select(usage.c.used).where(usage.c.kamer_id == kamer_id, usage.c.month == month)
    ).scalar_one_or_none()
    return used or 0
