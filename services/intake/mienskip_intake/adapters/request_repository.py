"""Requests with their assignments and history: reading and writing them as domain records."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import append, one_of

from ..domain.model import OPEN_STATUSES, Assignment, HelpRequest, HistoryEntry, Status
from . import tables as t
from .referral_repository import referral_from_row

_STORED = {f.name for f in fields(HelpRequest)} - {"assignments", "history", "referral"}


def _columns_of(table: Table, mapping: Mapping) -> dict[str, Any]:
    """One table's columns out of a (possibly joined) row: both tables have ``id`` and friends."""
    return {c.name: mapping[c] for c in table.c}


def request_from_row(mapping: Mapping) -> HelpRequest:
    return HelpRequest(**_columns_of(t.requests, mapping))


def assignment_from_row(mapping: Mapping) -> Assignment:
    return Assignment(**_columns_of(t.assignments, mapping))


def _history_from_row(row) -> HistoryEntry:
    return HistoryEntry(id=row.id, request_id=row.request_id, at=row.at, status=row.status, actor=row.actor,
                        note=row.note, note_code=row.note_code, note_params=row.note_params)


class RequestRepository:
    def __init__(self, conn: Connection):
        self.conn = conn

    # -- the request ----------------------------------------------------------------------
    def add(self, request: HelpRequest) -> None:
        # the values as parameters, not in the statement: one cached statement for every request
        self.conn.execute(insert(t.requests), {name: getattr(request, name) for name in _STORED})

    def get(self, request_id: str, *, lock: bool = False) -> HelpRequest | None:
        """``lock``: hold the row until the transaction ends (two people acting at once)."""
        query = select(t.requests).where(t.requests.c.id == request_id)
        row = self.conn.execute(query.with_for_update() if lock else query).first()
        return None if row is None else request_from_row(row._mapping)

    def get_all(self, request_ids: Iterable[str], *, lock: bool = False) -> dict[str, HelpRequest]:
        """Requests by id (the unknown ones left out); ``lock`` holds their rows, taken in id
        order so two transactions locking overlapping sets cannot deadlock."""
        ids = sorted(set(request_ids))
        if not ids:
            return {}
        query = select(t.requests).where(t.requests.c.id.in_(ids)).order_by(t.requests.c.id)
        rows = self.conn.execute(query.with_for_update() if lock else query)
        return {row.id: request_from_row(row._mapping) for row in rows}

    def with_story(self, request: HelpRequest) -> HelpRequest:
        """The request with its assignments (oldest first) and its history."""
        a, h = t.assignments, t.history
        assignments = self.conn.execute(select(a).where(a.c.request_id == request.id)
                                        .order_by(a.c.created_at, a.c.id)).all()
        history = self.conn.execute(select(h).where(h.c.request_id == request.id).order_by(h.c.id)).all()
        referral = self.conn.execute(select(t.referrals).where(t.referrals.c.request_id == request.id)
                                     .order_by(t.referrals.c.sent_at.desc(), t.referrals.c.id.desc()).limit(1)).first()
        return replace(request, assignments=tuple(assignment_from_row(r._mapping) for r in assignments),
                       history=tuple(_history_from_row(r) for r in history),
                       referral=None if referral is None else referral_from_row(referral._mapping))

    def existing(self, request_ids: Iterable[str]) -> set[str]:
        """Which of these requests intake has (an erased one it has not)."""
        ids = set(request_ids)
        if not ids:
            return set()
        return set(self.conn.execute(select(t.requests.c.id).where(one_of(self.conn, t.requests.c.id, ids))).scalars())

    def status_of(self, request_id: str) -> str | None:
        return self.conn.execute(select(t.requests.c.status).where(t.requests.c.id == request_id)).scalar()

    def recurrence_of(self, request_id: str, kamer_id: str | None) -> str | None | bool:
        """How a kamer's request recurs (None: it does not); False if the kamer has no such request."""
        row = self.conn.execute(select(t.requests.c.recurrence).where(
            t.requests.c.id == request_id, t.requests.c.kamer_id == kamer_id)).first()
        return False if row is None else row.recurrence

    def settle(self, request: HelpRequest, status: Status, at: datetime, **values: Any) -> bool:
        """Write the new status only if the request still has the status that was read:
        of two people acting at once, one wins. False for the one who lost."""
        r = t.requests
        moved = self.conn.execute(update(r).where(r.c.id == request.id, r.c.status == request.status)
                                  .values(status=status.value, updated_at=at, **values))
        return moved.rowcount == 1

    def set_status(self, request_id: str, status: Status, at: datetime, **values: Any) -> None:
        self.conn.execute(update(t.requests).where(t.requests.c.id == request_id)
                          .values(status=status.value, updated_at=at, **values))

    def move_all(self, request_ids: Sequence[str], from_status: Status, to_status: Status, at: datetime) -> None:
        """Those of the requests that are still ``from_status`` become ``to_status``."""
        if request_ids:
            r = t.requests
            self.conn.execute(update(r).where(r.c.id.in_(request_ids), r.c.status == from_status.value)
                              .values(status=to_status.value, updated_at=at))

    def claim_decision(self, request_id: str, decision: int) -> bool:
        """Record matching's decision number; False if a newer one was applied already."""
        r = t.requests
        newer = self.conn.execute(update(r).where(r.c.id == request_id, r.c.last_decision < decision)
                                  .values(last_decision=decision))
        return newer.rowcount == 1

    def apply_decisions(self, status: Status, decisions: Mapping[str, int], at: datetime) -> None:
        """Requests (id -> matching's decision number) take a decision of matching's: its
        status and number. The caller checked each against the row it holds locked."""
        if decisions:
            r = t.requests
            self.conn.execute(update(r).where(r.c.id == bindparam("b_id")).values(
                status=status.value, updated_at=at, last_decision=bindparam("b_decision")),
                [{"b_id": request_id, "b_decision": decision} for request_id, decision in decisions.items()])

    def open_of_kamer(self, kamer_id: str) -> list[HelpRequest]:
        """The kamer's open requests (not erased): what an import of requests is checked against."""
        r = t.requests
        rows = self.conn.execute(select(r).where(r.c.kamer_id == kamer_id, r.c.erased_at.is_(None),
                                                 r.c.status.in_([s.value for s in OPEN_STATUSES]))
                                 .order_by(r.c.window_start, r.c.id))
        return [request_from_row(row._mapping) for row in rows]

    def save_erasure(self, request: HelpRequest) -> None:
        """Store an erased request (:meth:`HelpRequest.erased`); staff notes in its history
        may name the person, so they go too (the steps, and intake's own coded notes, stay)."""
        self.conn.execute(update(t.requests).where(t.requests.c.id == request.id).values(
            resident_name=request.resident_name, resident_phone=request.resident_phone,
            resident_address=request.resident_address, notes=request.notes, lat=request.lat, lon=request.lon,
            resident_email=None, exact_lookup=None, erased_at=request.erased_at, updated_at=request.updated_at))
        self.conn.execute(update(t.history).where(t.history.c.request_id == request.id).values(note=None))
        # the resident's own words in the follow-up answer go too; the answer itself stays (a count)
        self.conn.execute(update(t.follow_ups).where(t.follow_ups.c.request_id == request.id).values(text=None))

    def due_for_retention(self, cutoff: datetime, closed: Iterable[Status], batch: int) -> list[HelpRequest]:
        """Not yet erased, and closed before ``cutoff`` or with a task that ended before it.
        Rows another replica holds are skipped, not waited for."""
        r = t.requests
        due = (select(r).where(r.c.erased_at.is_(None),
                               or_(r.c.status.in_([s.value for s in closed]) & (r.c.updated_at < cutoff),
                                   r.c.window_end < cutoff))
               .order_by(r.c.updated_at).limit(batch).with_for_update(skip_locked=True))
        return [request_from_row(row._mapping) for row in self.conn.execute(due)]

    def awaiting_exact_lookup(self, batch: int) -> list[HelpRequest]:
        """Requests placed on their postcode area while the address service was away, oldest first."""
        r = t.requests
        rows = self.conn.execute(select(r).where(r.c.exact_lookup.is_not(None), r.c.erased_at.is_(None))
                                 .order_by(r.c.created_at, r.c.id).limit(batch))
        return [request_from_row(row._mapping) for row in rows]

    def series_to_continue(self, starting_before: datetime, batch: int) -> list[HelpRequest]:
        """Weekly requests, neither cancelled nor erased, starting before ``starting_before``,
        that no request follows yet: the ends of series whose next week is due."""
        r, later = t.requests, t.requests.alias("later")
        followed = select(later.c.id).where(later.c.follows == r.c.id).exists()
        rows = self.conn.execute(
            select(r).where(r.c.recurrence == "weekly", r.c.status != Status.CANCELLED.value, r.c.erased_at.is_(None),
                            r.c.window_start < starting_before, ~followed)
            .order_by(r.c.window_start, r.c.id).limit(batch))
        return [request_from_row(row._mapping) for row in rows]

    def is_followed(self, request_id: str) -> bool:
        return self.conn.execute(select(t.requests.c.id).where(t.requests.c.follows == request_id)
                                 .limit(1)).first() is not None

    def set_location(self, request_id: str, *, lat: float, lon: float, precision: str, at: datetime,
                     resident_address: str | None = None) -> None:
        """A new location (the exact lookup is done); the address text too, when given."""
        values: dict[str, Any] = {"lat": lat, "lon": lon, "location_precision": precision, "exact_lookup": None,
                                  "updated_at": at}
        if resident_address is not None:
            values["resident_address"] = resident_address
        self.conn.execute(update(t.requests).where(t.requests.c.id == request_id).values(**values))

    # -- its assignments ---------------------------------------------------------------------
    def add_assignment(self, assignment: Assignment) -> None:
        self.add_assignments([assignment])

    def add_assignments(self, assignments: Sequence[Assignment]) -> None:
        if assignments:
            self.conn.execute(insert(t.assignments), [{
                "id": a.id, "request_id": a.request_id, "volunteer_id": a.volunteer_id, "kamer_id": a.kamer_id,
                "status": a.status, "distance_km": a.distance_km, "explanation": a.explanation,
                "created_at": a.created_at, "updated_at": a.updated_at} for a in assignments])

    def assignment(self, assignment_id: str) -> Assignment | None:
        row = self.conn.execute(select(t.assignments).where(t.assignments.c.id == assignment_id)).first()
        return None if row is None else assignment_from_row(row._mapping)

    def set_assignment_status(self, assignment_id: str, status: str, at: datetime) -> None:
        self.conn.execute(update(t.assignments).where(t.assignments.c.id == assignment_id)
                          .values(status=status, updated_at=at))

    def set_every_assignment_status(self, request_id: str, status: str, at: datetime) -> None:
        self.conn.execute(update(t.assignments).where(t.assignments.c.request_id == request_id)
                          .values(status=status, updated_at=at))

    def assignments_of_volunteer(self, volunteer_id: str, statuses: Iterable[str]) -> list[tuple[str, str]]:
        """``(assignment id, request id)`` of the volunteer's assignments in these statuses, oldest first."""
        a = t.assignments
        return [(row.id, row.request_id) for row in self.conn.execute(
            select(a.c.id, a.c.request_id).where(a.c.volunteer_id == volunteer_id, a.c.status.in_(list(statuses)))
            .order_by(a.c.created_at, a.c.id))]

    def newest_assignment_id(self, request_id: str) -> str | None:
        a = t.assignments
        return self.conn.execute(select(a.c.id).where(a.c.request_id == request_id)
                                 .order_by(a.c.created_at.desc(), a.c.id.desc()).limit(1)).scalar()

    # -- its history ---------------------------------------------------------------------------
    def record(self, entry: HistoryEntry) -> None:
        self.record_all([entry])

    def record_all(self, entries: Sequence[HistoryEntry]) -> None:
        if entries:
            self.conn.execute(append(t.history), [{
                "request_id": e.request_id, "at": e.at, "status": e.status, "actor": e.actor, "note": e.note,
                "note_code": e.note_code, "note_params": e.note_params} for e in entries])
