"""After the task: visit records, approved mileage claims and calendar feed versions."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection

from ..domain.visits import ClaimLine, Visit
from . import tables as t

_VISIT_COLUMNS = [f.name for f in fields(Visit)]
_CLAIM_COLUMNS = ("volunteer_id", "month", "km", "visits", "amount_cents", "rate_cents", "approved_by",
                  "approved_at", "paid_by", "paid_at")


def claim_from_row(row) -> ClaimLine:
    return ClaimLine(claim_id=row.id, **{name: getattr(row, name) for name in _CLAIM_COLUMNS})


def done_km_query(kamer_id: str, start: datetime, end: datetime):
    """Per volunteer: km and number of the kamer's done visits with km, whose task was in [start, end)."""
    v = t.visits
    return (select(v.c.volunteer_id, func.sum(v.c.km).label("km"), func.count().label("visits"))
            .where(v.c.kamer_id == kamer_id, v.c.done.is_(True), v.c.km.is_not(None), v.c.km > 0,
                   v.c.window_start >= start, v.c.window_start < end)
            .group_by(v.c.volunteer_id).order_by(v.c.volunteer_id))


class VisitRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add(self, visit: Visit) -> None:
        self.conn.execute(insert(t.visits).values({name: getattr(visit, name) for name in _VISIT_COLUMNS}))

    def get(self, assignment_id: str) -> Visit | None:
        row = self.conn.execute(select(t.visits).where(t.visits.c.assignment_id == assignment_id)).first()
        return None if row is None else Visit(**{name: row._mapping[name] for name in _VISIT_COLUMNS})

    def erase_texts(self, *, request_id: str | None = None, volunteer_id: str | None = None) -> None:
        """What a person wrote in visit records of an erased resident's request or an erased
        volunteer goes; done, hours and km stay (they are counts)."""
        v = t.visits
        where = v.c.request_id == request_id if request_id is not None else v.c.volunteer_id == volunteer_id
        self.conn.execute(update(v).where(where).values(note=None, reason=None))

    # -- mileage claims -----------------------------------------------------------------
    def done_km(self, kamer_id: str, start: datetime, end: datetime) -> list[tuple[str, float, int]]:
        return [(row.volunteer_id, float(row.km), int(row.visits))
                for row in self.conn.execute(done_km_query(kamer_id, start, end))]

    def claims(self, kamer_id: str, month: str, *, lock: bool = False) -> list[ClaimLine]:
        c = t.mileage_claims
        query = select(c).where(c.c.kamer_id == kamer_id, c.c.month == month).order_by(c.c.approved_at, c.c.id)
        return [claim_from_row(row) for row in self.conn.execute(query.with_for_update() if lock else query)]

    def add_claim(self, claim_id: str, kamer_id: str, line: ClaimLine) -> None:
        self.conn.execute(insert(t.mileage_claims).values(
            id=claim_id, kamer_id=kamer_id, **{name: getattr(line, name) for name in _CLAIM_COLUMNS}))

    def claim(self, claim_id: str) -> tuple[str, ClaimLine] | None:
        """(kamer id, the claim)."""
        row = self.conn.execute(select(t.mileage_claims).where(t.mileage_claims.c.id == claim_id)).first()
        return None if row is None else (row.kamer_id, claim_from_row(row))

    def mark_paid(self, claim_id: str, by: str, at: datetime) -> bool:
        """False if it was paid already (or is no claim)."""
        c = t.mileage_claims
        done = self.conn.execute(update(c).where(c.c.id == claim_id, c.c.paid_at.is_(None))
                                 .values(paid_by=by, paid_at=at))
        return done.rowcount == 1

    # -- calendar feeds -----------------------------------------------------------------
    def feed_version(self, volunteer_id: str) -> int:
        f = t.calendar_feeds
        return self.conn.execute(select(f.c.version).where(f.c.volunteer_id == volunteer_id)).scalar() or 0

    def new_feed_version(self, volunteer_id: str, at: datetime) -> int:
        """The next version: every URL signed with an earlier one stops working."""
        f = t.calendar_feeds
        version = self.feed_version(volunteer_id) + 1
        if version == 1:
            self.conn.execute(insert(f).values(volunteer_id=volunteer_id, version=version, changed_at=at))
        else:
            self.conn.execute(update(f).where(f.c.volunteer_id == volunteer_id).values(version=version, changed_at=at))
        return version
