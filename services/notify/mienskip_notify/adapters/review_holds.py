""""Proposal ready for review" messages held back for an auto-approval (see
``service_layer/review_hold.py``, which goes when intake announces approvals itself)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection, Row

from mienskip_shared.contracts import Envelope

from . import tables
from .notifications import MAX_ERROR_LENGTH


class ReviewHoldRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def hold(self, envelope: Envelope, due_at: datetime) -> None:
        data = envelope.data
        self.conn.execute(insert(tables.held_reviews).values(
            event_id=envelope.event_id, assignment_id=data["assignment_id"], request_id=data["request_id"],
            kamer_id=data["kamer_id"], body=envelope.to_json(), due_at=due_at, status="held", attempts=0))

    def withdraw(self, *, assignment_ids: Iterable[str] = (), request_ids: Iterable[str] = ()) -> int:
        """Held review messages of these assignments or requests are not sent after all."""
        h = tables.held_reviews
        withdrawn = 0
        for column, ids in ((h.c.assignment_id, set(assignment_ids)), (h.c.request_id, set(request_ids))):
            if ids:
                withdrawn += self.conn.execute(
                    update(h).where(column.in_(ids), h.c.status == "held").values(status="withdrawn")).rowcount
        return withdrawn

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
        """Held reviews that are due, each leased to this caller until ``lease_until`` (a
        crashed releaser's lease runs out and another takes over)."""
        h = tables.held_reviews
        due = select(h.c.event_id, h.c.due_at, h.c.body, h.c.attempts).where(
            h.c.status == "held", h.c.due_at <= now).order_by(h.c.due_at).limit(limit)
        if self.conn.dialect.name == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = self.conn.execute(due).all()
        if rows:
            self.conn.execute(update(h).where(h.c.event_id.in_([r.event_id for r in rows]), h.c.status == "held")
                              .values(due_at=lease_until))
        return rows

    def released(self, event_id: str) -> None:
        h = tables.held_reviews
        self.conn.execute(update(h).where(h.c.event_id == event_id, h.c.status == "held").values(status="released"))

    def retry_at(self, event_id: str, due_at: datetime, error: str) -> None:
        h = tables.held_reviews
        self.conn.execute(update(h).where(h.c.event_id == event_id, h.c.status == "held")
                          .values(due_at=due_at, attempts=h.c.attempts + 1, last_error=error[:MAX_ERROR_LENGTH]))
