"""What notify knows of a request (no personal data): its category and time, whether it
was cancelled, and which volunteers were told of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import one_of, upsert

from ..domain.contacts import VOLUNTEER, Task
from ..domain.notifications import PLEASE_CALL, TOLD_OF_TASK
from . import tables


class TaskRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def remember(self, facts: Mapping[str, tuple[str | None, Mapping | None]], hold: Iterable[str] = ()) -> None:
        """Keep requests' category and time (request id -> (category, window)) from events that
        carry them, a missing part keeping what was known; and give the requests in ``hold``
        a row (no facts yet) if they have none. One statement, and every row it touches is
        held until the transaction ends: a cancellation and an approval or acceptance of one
        request that two notify processes handle at the same time are then planned one after
        the other, the later seeing what the earlier committed (the cancellation, or the offer
        it must follow). SQLite has one writer at a time anyway."""
        facts = {rid: (category, window) for rid, (category, window) in facts.items() if category or window}
        ids = sorted(set(hold) | set(facts))  # always in the same order: no deadlock between two batches
        if not ids:
            return
        t = tables.tasks
        rows = []
        for rid in ids:
            category, window = facts.get(rid, (None, None))
            rows.append({"request_id": rid, "category": category, "window_start": window["start"] if window else None,
                         "window_end": window["end"] if window else None})
        statement = upsert(self.conn, t)
        # a row another transaction is inserting or holds: waits for it, then updates (and holds) it
        self.conn.execute(statement.on_conflict_do_update(index_elements=[t.c.request_id], set_={
            name: func.coalesce(statement.excluded[name], t.c[name])
            for name in ("category", "window_start", "window_end")}), rows)

    def remember_cancelled(self, cancelled: Mapping[str, datetime]) -> None:
        """Keep that requests were cancelled (request id -> the cancellation's occurred_at);
        the earliest time wins, so a redelivery changes nothing."""
        if not cancelled:
            return
        t = tables.tasks
        cancelled = {rid: at.astimezone(UTC) for rid, at in cancelled.items()}
        known = dict(self.conn.execute(
            select(t.c.request_id, t.c.cancelled_at).where(one_of(self.conn, t.c.request_id, cancelled))).all())
        new = [{"request_id": rid, "cancelled_at": at} for rid, at in cancelled.items() if rid not in known]
        if new:
            self.conn.execute(insert(t), new)
        for rid, at in cancelled.items():
            if rid in known and (known[rid] is None or known[rid] > at):
                self.conn.execute(update(t).where(t.c.request_id == rid).values(cancelled_at=at))

    def get_all(self, request_ids: Iterable[str]) -> dict[str, Task]:
        t = tables.tasks
        ids = set(request_ids)
        if not ids:
            return {}
        rows = self.conn.execute(select(t).where(one_of(self.conn, t.c.request_id, ids))).all()
        return {r.request_id: Task(r.request_id, r.category, r.window_start, r.window_end,
                                   cancelled_at=r.cancelled_at) for r in rows}

    def told_volunteers(self, request_id: str) -> tuple[str, ...]:
        """Volunteers we offered or gave this request (directly or through the kamer's call)
        and who did not decline it since: the ones a cancellation must reach. The kamer's own
        message about a volunteer ("accepted") does not count: it told the kamer, not them."""
        t = tables.notifications
        rows = self.conn.execute(
            select(t.c.subject_id, t.c.source_event_type, t.c.recipient_kind, t.c.template)
            .where(t.c.request_id == request_id, t.c.subject_kind == VOLUNTEER)
            .order_by(t.c.id)
        ).all()
        told: dict[str, bool] = {}
        for row in rows:
            if row.source_event_type in TOLD_OF_TASK:
                if row.recipient_kind == VOLUNTEER or row.template == PLEASE_CALL:
                    told[row.subject_id] = True
            elif row.source_event_type == "assignment.declined":
                told[row.subject_id] = False
        return tuple(volunteer_id for volunteer_id, still in told.items() if still)
