"""Reading and writing matching's tables, one repository per aggregate, and the unit of work
around one transaction that opens them: ``uow.volunteers`` (the pool, erasure tombstones,
the optimistic lock), ``uow.requests`` (requests, their exclusions, decisions and
escalations) and ``uow.proposals`` (active proposals, the bookings they make, their ends)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, delete, insert, select, text, tuple_, update
from sqlalchemy.engine import Connection, Engine

from mienskip_shared import unit_of_work
from mienskip_shared.clock import utcnow
from mienskip_shared.workers import Wakeup

from ..domain.model import (
    VOG_VALID_YEARS,
    AwayPeriod,
    Booking,
    CapacityConflict,
    OpenRequest,
    Point,
    Proposal,
    StoredProposal,
    Unmatched,
    Volunteer,
    WeeklySlot,
    Window,
    format_clock,
)
from ..domain.series import HeldSeries
from . import tables


class PoolCache:
    """The region pools as this process last decoded them. A solve then reads only each
    volunteer's id and version, and decodes again only the rows whose version moved or
    that are new: with 600 volunteers, decoding every row's JSON was most of a batch's
    time. Every change of a volunteer's row moves its version (a booking claims it, an
    update bumps it), so an unchanged version is unchanged data, and the version handed
    out is always the database's: a stale cache can never book anyone twice. One per
    process and database (the consumer's handlers share it); not for two threads at once.

    It keeps the active proposals' bookings the same way (:meth:`bookings`): a proposal's
    row never changes what it books (volunteer, request, window) for its assignment id, so
    a solve reads the ids of the active ones and decodes only those it has not seen."""

    MAX_BOOKINGS = 100_000  # then it starts again from empty: memory stays bounded

    def __init__(self) -> None:
        self._regions: dict[tuple[str, int], dict[str, Volunteer]] = {}
        self._bookings: dict[str, Booking] = {}

    def pool(self, conn: Connection, region: str, vog_valid_years: int) -> list[Volunteer]:
        t = tables.volunteers
        versions = dict(conn.execute(select(t.c.id, t.c.version).where(*_pool_of(region))
                                     .order_by(t.c.id)).tuples().all())
        known = self._regions.get((region, vog_valid_years), {})
        changed = [vid for vid, version in versions.items() if vid not in known or known[vid].version != version]
        fresh = {vid: known[vid] for vid in versions if vid in known}  # the erased and the moved away drop out
        for chunk in _chunks(changed):
            for row in conn.execute(select(t).where(t.c.id.in_(chunk))):
                fresh[row.id] = _volunteer_from_row(row, vog_valid_years)
        self._regions[(region, vog_valid_years)] = fresh
        # (a row changed between the two reads: its data and version come from the same read)
        return [fresh[vid] for vid in versions]

    def bookings(self, conn: Connection, where: Sequence[ColumnElement[bool]]) -> list[Booking]:
        t = tables.proposals
        ids = conn.execute(select(t.c.assignment_id).where(*where)).scalars().all()
        if len(self._bookings) > self.MAX_BOOKINGS:
            self._bookings = {}
        for chunk in _chunks([i for i in ids if i not in self._bookings]):
            self._bookings.update((r.assignment_id, _booking(r)) for r in conn.execute(select(
                t.c.assignment_id, t.c.volunteer_id, t.c.request_id, t.c.window_start, t.c.window_end)
                .where(t.c.assignment_id.in_(chunk))))
        # (one ended between the two reads books nobody any more, as a read after it would say)
        return [self._bookings[i] for i in ids if i in self._bookings]


def _booking(row) -> Booking:
    return Booking(row.volunteer_id, row.request_id, Window(row.window_start, row.window_end))


class VolunteerRepository:
    """The region's pool (``volunteers``) and the tombstones of erased volunteers."""

    def __init__(self, conn: Connection, cache: PoolCache | None = None):
        self.conn = conn
        self.cache = cache

    def save(self, volunteer: Volunteer, registered_at: datetime, revision: int = 0) -> bool:
        """Insert or update; an older event than the stored one (a lower ``revision``, or the
        same one announced earlier), or any event about an erased volunteer, changes nothing.
        True if written."""
        t = tables.volunteers
        if self.erased(volunteer.id):
            # Erased stays erased; should a racing registration have left a row, it goes too.
            self.conn.execute(delete(t).where(t.c.id == volunteer.id))
            return False
        values = _volunteer_values(volunteer)
        now = utcnow()
        stored = self.conn.execute(select(t.c.registered_at, t.c.revision).where(t.c.id == volunteer.id)).first()
        if stored is None:
            self.conn.execute(insert(t).values(**values, version=0, revision=revision, registered_at=registered_at,
                                               updated_at=now))
            return True
        if (stored.revision, stored.registered_at) > (revision, registered_at):
            return False
        self.conn.execute(update(t).where(t.c.id == volunteer.id).values(
            **values, version=t.c.version + 1, revision=revision, registered_at=registered_at, updated_at=now))
        return True

    def in_region(self, region: str, vog_valid_years: int = VOG_VALID_YEARS) -> list[Volunteer]:
        """The region's pool, paused ones included (the rules say why they are not asked);
        never an erased volunteer, whatever the read model holds. ``vog_valid_years``: the
        region's rule, which each volunteer carries."""
        if self.cache is not None:
            return self.cache.pool(self.conn, region, vog_valid_years)
        t = tables.volunteers
        rows = self.conn.execute(select(t).where(*_pool_of(region)).order_by(t.c.id)).all()
        return [_volunteer_from_row(row, vog_valid_years) for row in rows]

    def lock_region(self, region: str) -> None:
        """One solve of a region at a time, across matching processes, until this
        transaction ends: the second waits and then reads the first one's bookings,
        instead of both booking the same volunteers and one redoing its batch after a
        CapacityConflict. On PostgreSQL an advisory transaction lock; SQLite lets one
        writer at a time anyway. Taken again in the same transaction, it is already held."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": region_lock_key(region)})

    def forget(self, volunteer_id: str, erased_at: datetime) -> None:
        """Remove a volunteer from the pool for good (erasure) and keep a tombstone (the
        id and when, nothing else) so that no later event brings them back. Doing it
        again changes nothing; past proposals keep only the id."""
        self.conn.execute(delete(tables.volunteers).where(tables.volunteers.c.id == volunteer_id))
        if not self.erased(volunteer_id):
            self.conn.execute(insert(tables.erased_volunteers).values(id=volunteer_id, erased_at=erased_at))

    def erased(self, volunteer_id: str) -> bool:
        t = tables.erased_volunteers
        return self.conn.execute(select(t.c.id).where(t.c.id == volunteer_id)).first() is not None

    def claim(self, volunteer_id: str, seen_version: int) -> None:
        """Optimistic lock: bump the version we read, or fail if someone else did first."""
        self.claim_all({volunteer_id: seen_version})

    def claim_all(self, seen_versions: dict[str, int]) -> None:
        """:meth:`claim` for several volunteers in one statement: all, or CapacityConflict."""
        if not seen_versions:
            return
        t = tables.volunteers
        result = self.conn.execute(update(t).where(tuple_(t.c.id, t.c.version).in_(sorted(seen_versions.items())))
                                   .values(version=t.c.version + 1))
        if result.rowcount != len(seen_versions):
            raise CapacityConflict(f"volunteers {sorted(seen_versions)} changed since versions read")


class RequestRepository:
    """Requests (``requests``), the volunteers each excluded (``exclusions``), the number of
    decisions announced about each, and the reasons of those left unmatched (``unmatched``)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def status(self, request_id: str) -> str | None:
        return self.statuses([request_id]).get(request_id)

    def statuses(self, request_ids: list[str]) -> dict[str, str]:
        """The status of each request known here (unknown ones are left out)."""
        t = tables.requests
        found: dict[str, str] = {}
        for chunk in _chunks(request_ids):
            found.update(self.conn.execute(select(t.c.id, t.c.status).where(t.c.id.in_(chunk))).tuples().all())
        return found

    def save(self, request: OpenRequest) -> None:
        self.save_all([request])

    def save_all(self, requests: list[OpenRequest]) -> None:
        """Store requests as open: the new ones in one statement, known ones updated."""
        t = tables.requests
        now = utcnow()
        known = self.statuses([r.id for r in requests])
        new = [{"id": r.id, "created_at": now, **_request_values(r, now)} for r in requests if r.id not in known]
        if new:
            self.conn.execute(insert(t), new)
        for request in requests:
            if request.id in known:
                self.conn.execute(update(t).where(t.c.id == request.id).values(**_request_values(request, now)))

    def unmatched(self, region: str, starting_after: datetime, limit: int = 200) -> list[OpenRequest]:
        """Requests still waiting for a volunteer, soonest first (bounded per call)."""
        t = tables.requests
        rows = self.conn.execute(
            select(t).where(t.c.region == region, t.c.status == "unmatched",
                            t.c.window_start > starting_after)
            .order_by(t.c.window_start).limit(limit)).all()
        excluded = self._exclusions_of([r.id for r in rows])
        return [_request_from_row(r, excluded.get(r.id, frozenset())) for r in rows]

    def get(self, request_id: str) -> OpenRequest | None:
        return self.get_all([request_id]).get(request_id)

    def get_all(self, request_ids: list[str]) -> dict[str, OpenRequest]:
        """The requests known here, each with the volunteers it excludes."""
        t = tables.requests
        rows = [row for chunk in _chunks(request_ids) for row in self.conn.execute(select(t).where(t.c.id.in_(chunk)))]
        excluded = self._exclusions_of([row.id for row in rows])
        return {row.id: _request_from_row(row, excluded.get(row.id, frozenset())) for row in rows}

    def _exclusions_of(self, request_ids: list[str]) -> dict[str, frozenset[str]]:
        if not request_ids:
            return {}
        t = tables.exclusions
        found: dict[str, set[str]] = {}
        for row in self.conn.execute(select(t.c.request_id, t.c.volunteer_id).where(t.c.request_id.in_(request_ids))):
            found.setdefault(row.request_id, set()).add(row.volunteer_id)
        return {k: frozenset(v) for k, v in found.items()}

    def exclude(self, request_id: str, volunteer_id: str, reason: str) -> None:
        t = tables.exclusions
        exists = self.conn.execute(select(t.c.request_id).where(
            t.c.request_id == request_id, t.c.volunteer_id == volunteer_id)).first()
        if exists is None:
            self.conn.execute(insert(t).values(request_id=request_id, volunteer_id=volunteer_id, reason=reason,
                                               created_at=utcnow()))

    def next_decision(self, request_id: str) -> int:
        """Count one more announced decision about this request and return its number."""
        return self.next_decisions([request_id])[request_id]

    def next_decisions(self, request_ids: list[str]) -> dict[str, int]:
        """:meth:`next_decision` for several requests, in one statement."""
        t = tables.requests
        return dict(self.conn.execute(update(t).where(t.c.id.in_(request_ids)).values(decisions=t.c.decisions + 1)
                                      .returning(t.c.id, t.c.decisions)).tuples().all())

    def set_status(self, request_id: str, status: str) -> None:
        self.set_status_all([request_id], status)

    def set_status_all(self, request_ids: list[str], status: str) -> None:
        t = tables.requests
        self.conn.execute(update(t).where(t.c.id.in_(request_ids)).values(status=status, updated_at=utcnow()))

    def save_unmatched(self, request: OpenRequest, result: Unmatched) -> None:
        t = tables.unmatched
        self.conn.execute(delete(t).where(t.c.request_id == request.id))
        self.conn.execute(insert(t).values(request_id=request.id, kamer_id=request.kamer_id, region=request.region,
                                           reasons=result.reasons, considered=result.considered, created_at=utcnow()))

    def forget_unmatched(self, request_id: str) -> None:
        self.forget_unmatched_all([request_id])

    def forget_unmatched_all(self, request_ids: list[str]) -> None:
        self.conn.execute(delete(tables.unmatched).where(tables.unmatched.c.request_id.in_(request_ids)))

    def relocate(self, request_id: str, location: Point) -> None:
        t = tables.requests
        self.conn.execute(update(t).where(t.c.id == request_id).values(lat=location.lat, lon=location.lon,
                                                                        updated_at=utcnow()))


class ProposalRepository:
    """Active proposals (``proposals``: each books its volunteer for its window) and the
    ended ones (``past_proposals``)."""

    def __init__(self, conn: Connection, cache: PoolCache | None = None):
        self.conn = conn
        self.cache = cache

    def for_request(self, request_id: str) -> StoredProposal | None:
        t = tables.proposals
        row = self.conn.execute(select(t).where(t.c.request_id == request_id)).first()
        return None if row is None else _stored_proposal(row, row.status)

    def requests_with_one(self, request_ids: list[str]) -> set[str]:
        """Those of the requests that have a proposal (the first answer stands)."""
        t = tables.proposals
        return {rid for chunk in _chunks(request_ids)
                for rid in self.conn.execute(select(t.c.request_id).where(t.c.request_id.in_(chunk))).scalars()}

    def active_bookings(self, region: str, around: Window) -> list[Booking]:
        """Active proposals that may share the window's ISO week or overlap it."""
        t = tables.proposals
        where = (t.c.region == region, t.c.status == "proposed", t.c.window_end > around.start - timedelta(days=8),
                 t.c.window_start < around.end + timedelta(days=8))
        if self.cache is not None:
            return self.cache.bookings(self.conn, where)
        return [_booking(r) for r in self.conn.execute(
            select(t.c.volunteer_id, t.c.request_id, t.c.window_start, t.c.window_end).where(*where))]

    def held_series(self, region: str, around: Window) -> list[HeldSeries]:
        """Weekly series whose latest request (none follows it yet) has an active proposal,
        and whose next occurrence may share the window's ISO week or overlap it."""
        p, r = tables.proposals, tables.requests
        follow_up = r.alias("follow_up")
        rows = self.conn.execute(
            select(r, p.c.volunteer_id).join(p, p.c.request_id == r.c.id).where(
                r.c.region == region, r.c.recurrence == "weekly", r.c.status != "cancelled",
                p.c.status == "proposed",
                r.c.window_end > around.start - timedelta(days=8 + 7),
                r.c.window_start < around.end + timedelta(days=8 - 7),
                ~select(follow_up.c.id).where(follow_up.c.follows == r.c.id).exists(),
            ).order_by(r.c.id)).all()
        return [HeldSeries(_request_from_row(row, frozenset()), row.volunteer_id) for row in rows]

    def with_previous_volunteers(self, requests: list[OpenRequest]) -> list[OpenRequest]:
        """The requests, each that follows an earlier one of its series knowing who holds
        that one now (continuity); a rejected or declined volunteer holds nothing."""
        follows = {r.follows for r in requests if r.follows}
        if not follows:
            return requests
        t = tables.proposals
        holder = dict(self.conn.execute(select(t.c.request_id, t.c.volunteer_id).where(
            t.c.request_id.in_(sorted(follows)), t.c.status == "proposed")).tuples().all())
        return [replace(r, previous_volunteer=holder.get(r.follows)) if r.follows else r for r in requests]

    def add(self, request: OpenRequest, proposal: Proposal) -> StoredProposal:
        [stored] = self.add_all([(request, proposal)])
        return stored

    def add_all(self, made: list[tuple[OpenRequest, Proposal]]) -> list[StoredProposal]:
        """Store proposals, in one statement; each books its volunteer for its window."""
        now = utcnow()
        stored = [StoredProposal(str(uuid.uuid4()), request.id, proposal.volunteer_id, request.kamer_id,
                                 request.region, proposal.distance_km, proposal.explanation, "proposed")
                  for request, proposal in made]
        if stored:
            self.conn.execute(insert(tables.proposals), [
                {"assignment_id": s.assignment_id, "request_id": s.request_id, "volunteer_id": s.volunteer_id,
                 "kamer_id": s.kamer_id, "region": s.region, "distance_km": s.distance_km,
                 "explanation": s.explanation, "status": s.status, "window_start": request.window.start,
                 "window_end": request.window.end, "created_at": now, "updated_at": now}
                for s, (request, _) in zip(stored, made, strict=True)])
        return stored

    def retire(self, assignment_id: str, outcome: str) -> StoredProposal | None:
        """End an active proposal (rejected, declined, superseded): it books nobody any more."""
        t = tables.proposals
        row = self.conn.execute(select(t).where(t.c.assignment_id == assignment_id)).first()
        if row is None:
            return None
        self.conn.execute(insert(tables.past_proposals).values(
            assignment_id=row.assignment_id, request_id=row.request_id, volunteer_id=row.volunteer_id,
            outcome=outcome, proposed_at=row.created_at, ended_at=utcnow()))
        self.conn.execute(delete(t).where(t.c.assignment_id == assignment_id))
        return _stored_proposal(row, outcome)

    def cancel_for_request(self, request_id: str) -> None:
        t = tables.proposals
        self.conn.execute(update(t).where(t.c.request_id == request_id, t.c.status == "proposed")
                          .values(status="cancelled", updated_at=utcnow()))


class SqlUnitOfWork(unit_of_work.SqlUnitOfWork):
    """Matching's transaction: its tables, outbox and inbox (see the shared base)."""

    outbox = tables.outbox
    inbox = tables.inbox
    volunteers: VolunteerRepository
    requests: RequestRepository
    proposals: ProposalRepository

    def __init__(self, engine: Engine, wakeup: Wakeup | None = None, pool_cache: PoolCache | None = None):
        super().__init__(engine, wakeup)
        self._pool_cache = pool_cache

    def _open(self, conn: Connection) -> None:
        self.volunteers = VolunteerRepository(conn, self._pool_cache)
        self.requests = RequestRepository(conn)
        self.proposals = ProposalRepository(conn, self._pool_cache)


def _pool_of(region: str) -> tuple:
    """Where a region's pool is: its volunteers, never an erased one whatever the read model holds."""
    t, erased = tables.volunteers, tables.erased_volunteers
    return t.c.region == region, ~select(erased.c.id).where(erased.c.id == t.c.id).exists()


def _chunks(ids: list[str], size: int = 500) -> Iterator[list[str]]:
    """``ids`` in slices small enough for one ``IN (...)`` each."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def region_lock_key(region: str) -> int:
    """The region's advisory lock: a stable signed 64-bit key (Python's hash() differs per process)."""
    digest = hashlib.blake2b(f"matching.region.{region}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _volunteer_values(volunteer: Volunteer) -> dict:
    return {
        "id": volunteer.id, "kamer_id": volunteer.kamer_id, "region": volunteer.region,
        "home_lat": volunteer.home.lat, "home_lon": volunteer.home.lon,
        "skills": sorted(volunteer.skills), "languages": sorted(volunteer.languages),
        "has_car": volunteer.has_car, "vog_checked_on": volunteer.vog_checked_on,
        "availability": [{"day": s.day, "from": format_clock(s.start), "to": format_clock(s.end)} for s in volunteer.availability],
        "max_tasks_per_week": volunteer.max_tasks_per_week, "max_distance_km": volunteer.max_distance_km,
        "away": [{"from": p.start.isoformat(), "to": p.end.isoformat()} for p in volunteer.away],
        "active": volunteer.active,
    }


def _request_values(request: OpenRequest, now: datetime) -> dict:
    return {
        "kamer_id": request.kamer_id, "region": request.region, "category": request.category,
        "skills": sorted(request.skills), "needs_vog": request.needs_vog,
        "needs_language": request.needs_language, "window_start": request.window.start,
        "window_end": request.window.end, "lat": request.location.lat, "lon": request.location.lon,
        "urgency": request.urgency, "recurrence": request.recurrence, "follows": request.follows,
        "status": "open", "updated_at": now,
    }


def _request_from_row(row, excluded: frozenset[str]) -> OpenRequest:
    return OpenRequest(
        id=row.id, kamer_id=row.kamer_id, region=row.region, category=row.category, skills=frozenset(row.skills),
        needs_vog=row.needs_vog, needs_language=row.needs_language,
        window=Window(row.window_start, row.window_end), location=Point(row.lat, row.lon),
        urgency=row.urgency, recurrence=row.recurrence, follows=row.follows, excluded_volunteers=excluded)


def _stored_proposal(row, status: str) -> StoredProposal:
    return StoredProposal(row.assignment_id, row.request_id, row.volunteer_id, row.kamer_id, row.region,
                          row.distance_km, row.explanation, status)


def _volunteer_from_row(row, vog_valid_years: int = VOG_VALID_YEARS) -> Volunteer:
    vog = row.vog_checked_on
    return Volunteer(
        id=row.id, kamer_id=row.kamer_id, region=row.region, home=Point(row.home_lat, row.home_lon),
        skills=frozenset(row.skills), languages=frozenset(row.languages), has_car=bool(row.has_car),
        vog_checked_on=date.fromisoformat(vog) if isinstance(vog, str) else vog,
        availability=tuple(WeeklySlot.parse(s["day"], s["from"], s["to"]) for s in row.availability),
        max_tasks_per_week=row.max_tasks_per_week, max_distance_km=row.max_distance_km, version=row.version,
        away=tuple(AwayPeriod(date.fromisoformat(p["from"]), date.fromisoformat(p["to"])) for p in row.away or ()),
        active=bool(row.active), vog_valid_years=vog_valid_years,
    )
