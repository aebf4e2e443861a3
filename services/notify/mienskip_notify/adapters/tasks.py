"""What notify knows of a request (no personal data): its category and time, whether it
was cancelled, and which volunteers were told of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import upsert

from ..domain.contacts import VOLUNTEER, Task
from ..domain.notifications import PLEASE_CALL, TOLD_OF_TASK
from . import tables


class TaskRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def remember(self, facts: Mapping[str, tuple[str | None, Mapping | None]]) -> None:
        """Keep requests' category and time (request id -> (category, window)) from events that
        carry them; a missing part keeps what was known."""
        facts = {rid: (category, window) for rid, (category, window) in facts.items() if category or window}
        if not facts:
            return
        t = tables.tasks
        rows = [{"rid": rid, "category": category, "start": window["start"] if window else None,
                 "end": window["end"] if window else None} for rid, (category, window) in facts.items()]
        known = set(self.conn.execute(select(t.c.request_id).where(t.c.request_id.in_(facts))).scalars())
        if known:
            self.conn.execute(
                update(t).where(t.c.request_id == bindparam("rid")).values(
                    category=func.coalesce(bindparam("category", type_=t.c.category.type), t.c.category),
                    window_start=func.coalesce(bindparam("start", type_=t.c.window_start.type), t.c.window_start),
                    window_end=func.coalesce(bindparam("end", type_=t.c.window_end.type), t.c.window_end)),
                [r for r in rows if r["rid"] in known])
        new = [{"request_id": r["rid"], "category": r["category"], "window_start": r["start"],
                "window_end": r["end"]} for r in rows if r["rid"] not in known]
        if new:
            self.conn.execute(insert(t), new)

    def lock(self, request_ids: Iterable[str]) -> None:
        """Give these requests a row (no facts yet) if they have none, and hold the rows until
        the transaction ends: a cancellation and an approval or acceptance of one request that
        two notify processes handle at the same time are then planned one after the other, the
        later seeing what the earlier committed (the cancellation, or the offer it must follow).
        SQLite has one writer at a time anyway."""
        ids = sorted(set(request_ids))  # always in the same order: no deadlock between two batches
        if not ids:
            return
        t = tables.tasks
        # a row another transaction is inserting: waits for it, then does nothing
        self.conn.execute(upsert(self.conn, t).on_conflict_do_nothing(index_elements=[t.c.request_id]),
                          [{"request_id": rid} for rid in ids])
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(select(t.c.request_id).where(t.c.request_id.in_(ids)).order_by(t.c.request_id)
                              .with_for_update())

    def remember_cancelled(self, cancelled: Mapping[str, datetime]) -> None:
        """Keep that requests were cancelled (request id -> the cancellation's occurred_at);
        the earliest time wins, so a redelivery changes nothing."""
        if not cancelled:
            return
        t = tables.tasks
        cancelled = {rid: at.astimezone(UTC) for rid, at in cancelled.items()}
        known = dict(self.conn.execute(
            select(t.c.request_id, t.c.cancelled_at).where(t.c.request_id.in_(cancelled))).all())
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
        rows = self.conn.execute(select(t).where(t.c.request_id.in_(ids))).all()
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
