"""Records of the past, written as they would stand today: a request with its history, its
assignment and visit record, a volunteer registered then. The API takes no window more
than a week ago, so the demo's past month (and the report's tests) are written here, row
by row, in one transaction. Made-up people only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.db import append

from . import tables as t

SYSTEM = "system:demo"


def add_volunteer(tx: Connection, kamer_id: str, region: str, created_at: datetime, *, name: str = "Demo Vrijwilliger",
                  lat: float = 53.2, lon: float = 5.8, skills: Sequence[str] = ("buddy",)) -> str:
    volunteer_id = str(uuid.uuid4())
    tx.execute(insert(t.volunteers).values(
        id=volunteer_id, kamer_id=kamer_id, region=region, name=name, language="nl", languages=["nl"],
        home_lat=lat, home_lon=lon, skills=list(skills), has_car="transport" in skills, availability=[],
        max_tasks_per_week=2, max_distance_km=10.0, created_at=created_at, away=[], active=True))
    return volunteer_id


def add_request(tx: Connection, kamer_id: str, region: str, category: str, created_at: datetime,
                steps: Sequence[tuple[str, datetime]] = (), *, window_start: datetime | None = None,
                volunteer_id: str | None = None, lat: float = 53.2, lon: float = 5.8,
                resident: str = "Demo Bewenner") -> tuple[str, str | None]:
    """A request received at ``created_at`` that went through ``steps`` (status, at) after
    ``received``; with ``volunteer_id``, its assignment ends as the last step left it.
    Returns the request's and the assignment's ids."""
    request_id = str(uuid.uuid4())
    start = window_start or created_at + timedelta(days=3)
    status = steps[-1][0] if steps else "received"
    updated = steps[-1][1] if steps else created_at
    tx.execute(insert(t.requests).values(
        id=request_id, kamer_id=kamer_id, region=region, resident_name=resident, resident_language="nl",
        lat=lat, lon=lon, category=category, skills=[category], needs_vog=False, window_start=start,
        window_end=start + timedelta(hours=1), urgency="normal", status=status, created_at=created_at,
        updated_at=updated))
    tx.execute(append(t.history), [{"request_id": request_id, "at": at, "status": step, "actor": SYSTEM}
                                   for step, at in [("received", created_at), *steps]])
    assignment_id = None
    if volunteer_id is not None:
        assignment_id = str(uuid.uuid4())
        shown = status if status in ("proposed", "approved", "accepted", "declined", "completed", "cancelled") \
            else "declined"
        tx.execute(insert(t.assignments).values(
            id=assignment_id, request_id=request_id, volunteer_id=volunteer_id, kamer_id=kamer_id, status=shown,
            distance_km=1.5, explanation={"distance_km": 1.5}, created_at=created_at, updated_at=updated))
    return request_id, assignment_id


def add_visit(tx: Connection, assignment_id: str, request_id: str, volunteer_id: str, kamer_id: str,
              window_start: datetime, *, done: bool = True, hours: float | None = None, km: float | None = None,
              recorded_at: datetime | None = None) -> None:
    tx.execute(insert(t.visits).values(
        assignment_id=assignment_id, request_id=request_id, volunteer_id=volunteer_id, kamer_id=kamer_id,
        window_start=window_start, done=done, hours=hours, km=km, recorded_by=SYSTEM,
        recorded_at=recorded_at or window_start + timedelta(hours=2)))


def add_past_month(engine: Engine, kamer_id: str, records: Sequence[dict[str, Any]],
                   joined: Sequence[datetime] = ()) -> int:
    """A past month of one kamer (the demo's, for the report): each record is a request
    (``category``, ``created_at``, ``steps``, ``window_start``, ``resident``) that one of the
    kamer's volunteers may have helped (``helper``: an index into them) with a ``visit``
    (``done``, ``hours``, ``km``). ``joined``: when the first volunteers registered (their
    registration moves back to then). Returns how many requests were written."""
    k, v = t.kamers, t.volunteers
    with engine.begin() as tx:
        kamer = tx.execute(select(k.c.region, k.c.lat, k.c.lon).where(k.c.id == kamer_id)).one()
        pool = list(tx.execute(select(v.c.id).where(v.c.kamer_id == kamer_id, v.c.erased_at.is_(None))
                               .order_by(v.c.created_at, v.c.id)).scalars())
        for volunteer_id, when in zip(pool, joined, strict=False):
            tx.execute(update(v).where(v.c.id == volunteer_id).values(created_at=when))
        for n, record in enumerate(records):
            helper = pool[record["helper"] % len(pool)] if record.get("helper") is not None and pool else None
            request_id, assignment_id = add_request(
                tx, kamer_id, kamer.region, record["category"], record["created_at"], record["steps"],
                window_start=record["window_start"], volunteer_id=helper, resident=record["resident"],
                lat=round(kamer.lat + 0.002 * ((n % 5) - 2), 5), lon=round(kamer.lon + 0.003 * ((n % 7) - 3), 5))
            visit = record.get("visit")
            if assignment_id is not None and helper is not None and visit is not None:
                add_visit(tx, assignment_id, request_id, helper, kamer_id, record["window_start"], **visit)
    return len(records)
