"""Read models for the kamer desk (``/desk``): the kamer's requests, and this week's tasks
of its volunteers. Scoped like every list (``read_models.scoped``): kamer staff see their
kamer, a coordinator the region. Lists show a resident's first name and neighbourhood,
never an address, phone or notes; whole records come through the audited service layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select
from sqlalchemy.sql import Select

from mienskip_shared.db import contains_text

from ..domain.model import AssignmentStatus, Principal, first_name_or_dash
from ..domain.places import Place, nearest_place
from . import tables as t
from .read_models import AMSTERDAM, decode_cursor, encode_cursor, scoped, volunteer_names, week_bounds

PAGE_SIZE = 50
WEEK_STATUSES = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value,
                 AssignmentStatus.ACCEPTED.value, AssignmentStatus.COMPLETED.value)


@dataclass(frozen=True)
class RequestList:
    items: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def _requests_query(principal: Principal, *, status: str | None, name: str | None, kamer_id: str | None) -> Select:
    r, k = t.requests, t.kamers
    query = (select(r.c.id, r.c.kamer_id, r.c.status, r.c.category, r.c.window_start, r.c.window_end,
                    r.c.urgency, r.c.urgent, r.c.resident_name, r.c.lat, r.c.lon, r.c.recurrence,
                    r.c.location_precision, r.c.created_at, k.c.name.label("kamer_name"))
             .join(k, k.c.id == r.c.kamer_id).where(r.c.erased_at.is_(None)))
    query = scoped(query, principal, r.c.kamer_id, r.c.region)
    if status:
        query = query.where(r.c.status == status)
    if kamer_id:
        query = query.where(r.c.kamer_id == kamer_id)
    if name and name.strip():
        query = query.where(contains_text(r.c.resident_name, name.strip()))
    return query


def _request_item(row, places: Sequence[Place]) -> dict[str, Any]:
    return {"id": row.id, "kamer_id": row.kamer_id, "kamer_name": row.kamer_name, "status": row.status,
            "category": row.category, "window_start": row.window_start, "window_end": row.window_end,
            "urgency": row.urgency, "urgent": row.urgent, "recurrence": row.recurrence,
            "weekly": bool(row.recurrence), "created_at": row.created_at,
            "resident_first_name": first_name_or_dash(row.resident_name),
            "place": nearest_place(places, row.lat, row.lon), "location_precision": row.location_precision}


def our_requests(engine: Engine, principal: Principal, places: Sequence[Place], *, status: str | None = None,
                 name: str | None = None, kamer_id: str | None = None, page: int = 1,
                 page_size: int | None = None) -> RequestList:
    """The kamer's requests, newest first; filtered by status and by part of the resident's name."""
    page_size = page_size or PAGE_SIZE
    r = t.requests
    query = _requests_query(principal, status=status, name=name, kamer_id=kamer_id)
    with engine.begin() as tx:
        total = tx.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        pages = max(1, -(-total // page_size))
        page = min(max(1, page), pages)
        rows = tx.execute(query.order_by(r.c.created_at.desc(), r.c.id.desc())
                          .limit(page_size).offset((page - 1) * page_size)).all()
    return RequestList([_request_item(row, places) for row in rows], total, page, pages)


@dataclass(frozen=True)
class RequestPage:
    items: list[dict[str, Any]]
    next: str | None  # the cursor of the page after this one


def requests_after(engine: Engine, principal: Principal, places: Sequence[Place], *, status: str | None = None,
                   name: str | None = None, limit: int = PAGE_SIZE, cursor: str | None = None) -> RequestPage:
    """The same list as :func:`our_requests` a cursor at a time (``GET /v1/requests``): the
    pages stay right while requests arrive. A cursor not from this API is a ``ValueError``."""
    r = t.requests
    query = _requests_query(principal, status=status, name=name, kamer_id=None)
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        query = query.where(or_(r.c.created_at < created_at, and_(r.c.created_at == created_at, r.c.id < last_id)))
    with engine.begin() as tx:
        rows = tx.execute(query.order_by(r.c.created_at.desc(), r.c.id.desc()).limit(limit + 1)).all()
    items = [_request_item(row, places) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return RequestPage(items, encode_cursor(last.created_at, last.id) if last is not None else None)


@dataclass(frozen=True)
class Week:
    start: datetime  # Monday 00:00, Europe/Amsterdam
    days: list[tuple[datetime, list[dict[str, Any]]]]  # Monday..Sunday, each with its tasks by time

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=6)

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return [task for _, tasks in self.days for task in tasks]


def week_tasks(engine: Engine, principal: Principal, places: Sequence[Place], at: datetime, *,
               kamer_id: str | None = None) -> Week:
    """The week of ``at``: every task of the kamer's requests with a volunteer proposed,
    approved, accepted or done, per day, by time."""
    a, r, k = t.assignments, t.requests, t.kamers
    start, end = week_bounds(at)
    query = (select(a.c.id, a.c.status, a.c.volunteer_id, a.c.request_id, r.c.category, r.c.window_start,
                    r.c.window_end, r.c.resident_name, r.c.lat, r.c.lon, r.c.kamer_id,
                    k.c.name.label("kamer_name"))
             .join(r, r.c.id == a.c.request_id).join(k, k.c.id == r.c.kamer_id)
             .where(a.c.status.in_(WEEK_STATUSES), r.c.window_start >= start, r.c.window_start < end,
                    r.c.erased_at.is_(None)))
    query = scoped(query, principal, r.c.kamer_id, r.c.region)
    if kamer_id:
        query = query.where(r.c.kamer_id == kamer_id)
    with engine.begin() as tx:
        rows = tx.execute(query.order_by(r.c.window_start, a.c.id)).all()
        names = volunteer_names(tx, principal, [row.volunteer_id for row in rows])
    by_day: dict[int, list[dict[str, Any]]] = {day: [] for day in range(7)}
    for row in rows:
        local_start = row.window_start.astimezone(AMSTERDAM)
        by_day[(local_start.date() - start.date()).days].append({
            "assignment_id": row.id, "request_id": row.request_id, "status": row.status,
            "category": row.category, "window_start": row.window_start, "window_end": row.window_end,
            "volunteer": names.get(row.volunteer_id), "kamer_name": row.kamer_name,
            "resident_first_name": first_name_or_dash(row.resident_name),
            "place": nearest_place(places, row.lat, row.lon)})
    return Week(start, [(start + timedelta(days=day), by_day[day]) for day in range(7)])


_RECORD_TABLES = {"request_id": t.requests, "volunteer_id": t.volunteers, "import_id": t.imports}


def kamer_of_record(engine: Engine, view_args: dict[str, Any] | None) -> str | None:
    """Which kamer the request, volunteer or import a page is about belongs to (from the
    page's URL arguments), for staff of several kamers who open it by link."""
    for name, table in _RECORD_TABLES.items():
        record_id = (view_args or {}).get(name)
        if isinstance(record_id, str):
            with engine.begin() as tx:
                return tx.execute(select(table.c.kamer_id).where(table.c.id == record_id[:36])).scalar_one_or_none()
    return None
