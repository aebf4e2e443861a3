"""The schedule of messages due later, the kamers' times, and the kamers' review digests.

Claiming is safe with several notify processes: on PostgreSQL the due rows are locked
(``FOR UPDATE SKIP LOCKED``) and every claim is a conditional update that only one
transaction can make; SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.clock import utcnow
from mienskip_shared.db import upsert

from ..domain.after_match import HeldReview, ScheduledItem
from ..domain.review_digest import ReviewHold
from ..domain.schedule import KamerTimes
from .schedule_tables import digest_reviews, kamer_times, review_digests, schedule

OPEN = ("pending", "planned")


@dataclass(frozen=True)
class DigestState:
    last_mail_at: datetime | None
    open_digest_id: str | None


def _item(row) -> ScheduledItem:
    return ScheduledItem(kind=row.kind, subject_id=row.subject_id, kamer_id=row.kamer_id, due_at=row.due_at,
                         request_id=row.request_id, assignment_id=row.assignment_id, volunteer_id=row.volunteer_id,
                         category=row.category, start=row.window_start, end=row.window_end,
                         correlation_id=row.correlation_id or "", attempts=row.attempts)


class ScheduleRepository:
    def __init__(self, conn: Connection):
        self.conn = conn
        self._postgres = conn.dialect.name == "postgresql"

    # -- the kamers' times ---------------------------------------------------------------
    def save_kamer_times(self, kamer_id: str, times: KamerTimes, as_of: datetime) -> None:
        values = {"reminder_time": times.reminder_time.strftime("%H:%M"), "follow_up_days": times.follow_up_days,
                  "as_of": as_of.astimezone(UTC)}
        self.conn.execute(upsert(self.conn, kamer_times).values(kamer_id=kamer_id, **values)
                          .on_conflict_do_update(index_elements=[kamer_times.c.kamer_id], set_=values,
                                                 where=kamer_times.c.as_of <= values["as_of"]))

    def kamer_times(self, kamer_id: str) -> KamerTimes:
        row = self.conn.execute(select(kamer_times).where(kamer_times.c.kamer_id == kamer_id)).one_or_none()
        return KamerTimes.parse(row.reminder_time, row.follow_up_days) if row else KamerTimes()

    # -- the schedule ---------------------------------------------------------------------
    def add(self, items: Sequence[ScheduledItem]) -> None:
        """Schedule these items; one already known by (kind, subject) stays as it is, so a
        redelivered event never brings back what was sent or cancelled."""
        if not items:
            return
        now = utcnow()
        self.conn.execute(upsert(self.conn, schedule).on_conflict_do_nothing(index_elements=["kind", "subject_id"]), [{
            "kind": i.kind, "subject_id": i.subject_id, "kamer_id": i.kamer_id, "request_id": i.request_id,
            "assignment_id": i.assignment_id, "volunteer_id": i.volunteer_id, "category": i.category,
            "window_start": i.start, "window_end": i.end, "correlation_id": i.correlation_id or None,
            "due_at": i.due_at.astimezone(UTC), "status": "pending", "attempts": 0, "created_at": now,
        } for i in items])

    def cancel(self, *, request_id: str | None = None, assignment_id: str | None = None,
               volunteer_id: str | None = None) -> int:
        """Cancel what is still pending for a request, an assignment or a volunteer."""
        which = (schedule.c.request_id == request_id if request_id is not None else
                 schedule.c.assignment_id == assignment_id if assignment_id is not None else
                 schedule.c.volunteer_id == volunteer_id)
        return self.conn.execute(update(schedule).where(which, schedule.c.status == "pending")
                                 .values(status="cancelled", finished_at=utcnow())).rowcount

    def call_off(self, kinds: Sequence[str], assignment_id: str, kamer_id: str, at: datetime) -> None:
        """No more of these kinds for this assignment: what is pending is cancelled, and what
        is not scheduled yet (its acceptance is still on its way, on another queue) is kept
        as cancelled, so the acceptance finds it known and schedules nothing."""
        now = utcnow()
        self.conn.execute(update(schedule).where(
            schedule.c.kind.in_(kinds), schedule.c.subject_id == assignment_id, schedule.c.status == "pending")
            .values(status="cancelled", finished_at=now))
        self.conn.execute(upsert(self.conn, schedule).on_conflict_do_nothing(index_elements=["kind", "subject_id"]), [{
            "kind": kind, "subject_id": assignment_id, "kamer_id": kamer_id, "assignment_id": assignment_id,
            "due_at": at.astimezone(UTC), "status": "cancelled", "attempts": 0, "created_at": now,
            "finished_at": now} for kind in kinds])

    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[ScheduledItem]:
        """Items due at ``now``, taken for this transaction: each moves to 'planned' with
        ``due_at = until`` (when to look again if the outcome is never recorded). Another
        process's claim of the same row either waits and then finds it moved, or skips it."""
        due = (select(schedule).where(schedule.c.status.in_(OPEN), schedule.c.due_at <= now)
               .order_by(schedule.c.due_at, schedule.c.id).limit(limit))
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        claimed = []
        for row in self.conn.execute(due).all():
            moved = self.conn.execute(update(schedule).where(
                schedule.c.id == row.id, schedule.c.status == row.status, schedule.c.due_at == row.due_at)
                .values(status="planned", due_at=until)).rowcount
            if moved == 1:
                claimed.append(_item(row))
        return claimed

    def finish(self, item: ScheduledItem, status: str) -> None:
        self.conn.execute(update(schedule).where(
            schedule.c.kind == item.kind, schedule.c.subject_id == item.subject_id, schedule.c.status == "planned")
            .values(status=status, finished_at=utcnow()))

    def try_again(self, item: ScheduledItem, at: datetime, attempts: int) -> None:
        self.conn.execute(update(schedule).where(
            schedule.c.kind == item.kind, schedule.c.subject_id == item.subject_id, schedule.c.status == "planned")
            .values(due_at=at.astimezone(UTC), attempts=attempts))

    def items(self, *, request_id: str | None = None) -> list[tuple[ScheduledItem, str]]:
        """Every item (of a request), with its status: for tests and operators."""
        query = select(schedule).order_by(schedule.c.due_at, schedule.c.id)
        if request_id is not None:
            query = query.where(schedule.c.request_id == request_id)
        return [(_item(row), row.status) for row in self.conn.execute(query).all()]

    # -- the kamers' review digests -----------------------------------------------------------
    def lock_digest(self, kamer_id: str) -> DigestState:
        """The kamer's digest state, held until the transaction ends (a row made if none)."""
        self.conn.execute(upsert(self.conn, review_digests).on_conflict_do_nothing(index_elements=["kamer_id"]),
                          [{"kamer_id": kamer_id}])
        query = select(review_digests).where(review_digests.c.kamer_id == kamer_id)
        row = self.conn.execute(query.with_for_update() if self._postgres else query).one()
        return DigestState(row.last_mail_at, row.open_digest_id)

    def mailed(self, kamer_id: str, at: datetime, *, closing: str | None = None) -> None:
        """A "ready for review" mail (or the digest ``closing``) goes now."""
        values = {"last_mail_at": at.astimezone(UTC)}
        where = [review_digests.c.kamer_id == kamer_id]
        if closing is not None:
            where.append(review_digests.c.open_digest_id == closing)
            values["open_digest_id"] = None
        self.conn.execute(update(review_digests).where(*where).values(**values))

    def open_digest(self, kamer_id: str, digest_id: str) -> None:
        self.conn.execute(update(review_digests).where(review_digests.c.kamer_id == kamer_id)
                          .values(open_digest_id=digest_id))

    def held_of(self, event_ids: Sequence[str]) -> set[str]:
        """Of these review requests (event ids), those whose kamer mail is held in a digest."""
        if not event_ids:
            return set()
        return set(self.conn.execute(select(digest_reviews.c.event_id).where(
            digest_reviews.c.event_id.in_(set(event_ids)))).scalars())

    def hold_reviews(self, holds: Sequence[ReviewHold]) -> None:
        if holds:
            self.conn.execute(insert(digest_reviews), [{
                "event_id": h.event_id, "kamer_id": h.kamer_id, "digest_id": h.digest_id, "request_id": h.request_id,
                "assignment_id": h.assignment_id, "proposed_at": h.proposed_at.astimezone(UTC)} for h in holds])

    def held_reviews(self, digest_id: str) -> list[HeldReview]:
        rows = self.conn.execute(select(digest_reviews).where(digest_reviews.c.digest_id == digest_id)
                                 .order_by(digest_reviews.c.proposed_at, digest_reviews.c.event_id)).all()
        return [HeldReview(row.request_id, None, row.proposed_at) for row in rows]

