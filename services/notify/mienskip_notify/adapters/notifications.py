"""The messages notify owes, has sent or gave up on: one row per notification, its key UNIQUE."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from mienskip_shared.clock import utcnow
from mienskip_shared.db import one_of

from ..domain.notifications import Notification
from . import tables

MAX_ERROR_LENGTH = 500


class NotificationRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def planned_for_events(self, event_ids: Iterable[str]) -> dict[str, list[Row]]:
        """Every notification already planned for these events, per event."""
        t = tables.notifications
        ids = set(event_ids)
        found: dict[str, list[Row]] = {event_id: [] for event_id in ids}
        if ids:
            rows = self.conn.execute(select(t.c.key, t.c.source_event_id, t.c.status, t.c.recipient_kind,
                                            t.c.template, t.c.subject_kind, t.c.subject_id)
                                     .where(one_of(self.conn, t.c.source_event_id, ids))).all()
            for row in rows:
                found[row.source_event_id].append(row)
        return found

    def add_all(self, notifications: Sequence[Notification]) -> None:
        """Record new notifications as pending, in one statement."""
        if notifications:
            created = utcnow()
            self.conn.execute(insert(tables.notifications), [_row(n, created) for n in notifications])

    def add(self, notification: Notification) -> str:
        """Record ``notification`` as pending unless its key exists; return its status."""
        t = tables.notifications
        status = self.conn.execute(select(t.c.status).where(t.c.key == notification.key)).scalar_one_or_none()
        if status is not None:
            return status
        # Two consumers racing here: the UNIQUE key lets one commit; the other fails and is retried.
        self.conn.execute(insert(t).values(_row(notification, utcnow())))
        return "pending"

    def mark_all_sent(self, keys: Sequence[str]) -> set[str]:
        """Move these pending notifications to 'sent'; return the keys this call moved."""
        if not keys:
            return set()
        t = tables.notifications
        result = self.conn.execute(
            update(t)
            .where(one_of(self.conn, t.c.key, keys), t.c.status == "pending")
            .values(status="sent", attempts=t.c.attempts + 1, last_error=None, sent_at=utcnow())
            .returning(t.c.key)
        )
        return set(result.scalars().all())

    def record_failure(self, key: str, error: str) -> int:
        """Count a failed attempt; the row stays 'pending' (the consumer retries). Returns the attempts so far."""
        t = tables.notifications
        self.conn.execute(
            update(t)
            .where(t.c.key == key, t.c.status == "pending")
            .values(attempts=t.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH])
        )
        return self.conn.execute(select(t.c.attempts).where(t.c.key == key)).scalar_one()

    def fail_for_good(self, *, error: str, key: str | None = None, source_event_id: str | None = None) -> list[Row]:
        """Move pending notifications (one ``key``, or all of a ``source_event_id``) to 'failed'.

        Returns the rows this call moved, as they are now, so each is announced once even
        when two consumers give up on the same event. A row's own ``last_error`` (the
        reason of its last attempt) wins over ``error``.
        """
        t = tables.notifications
        which = t.c.key == key if key is not None else t.c.source_event_id == source_event_id
        moved = []
        pending = select(t.c.key, t.c.last_error).where(which, t.c.status == "pending").order_by(t.c.id)
        for row in self.conn.execute(pending).all():
            result = self.conn.execute(
                update(t)
                .where(t.c.key == row.key, t.c.status == "pending")
                .values(status="failed", last_error=(row.last_error or error)[:MAX_ERROR_LENGTH])
            )
            if result.rowcount == 1:
                moved.append(self.conn.execute(select(t).where(t.c.key == row.key)).one())
        return moved

    def blank_recipients(self, kind: str, subject_id: str) -> list[Row]:
        """Erasure: blank the addresses we wrote to this person (ids, status and times stay,
        for the history). Returns their notifications (kamer_id, key, channel)."""
        t = tables.notifications
        theirs = (t.c.subject_kind == kind, t.c.subject_id == subject_id, t.c.recipient_kind == kind)
        rows = self.conn.execute(select(t.c.kamer_id, t.c.key, t.c.channel).where(*theirs)).all()
        self.conn.execute(update(t).where(*theirs).values(recipient=""))
        return rows


def _row(notification: Notification, created_at: datetime) -> dict[str, Any]:
    return {
        "key": notification.key,
        "source_event_id": notification.source_event_id,
        "source_event_type": notification.source_event_type,
        "request_id": notification.request_id,
        "kamer_id": notification.kamer_id,
        "recipient_kind": notification.recipient_kind,
        "recipient": notification.recipient,
        "channel": notification.channel,
        "template": notification.template,
        "language": notification.language,
        "status": "pending",
        "attempts": 0,
        "created_at": created_at,
        "subject_kind": notification.subject_kind,
        "subject_id": notification.subject_id,
    }
