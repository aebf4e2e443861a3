"""Read models after the task: a volunteer's calendar feed, the attention page's visits
not done, and the names on a kamer's claims list."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select

from ..domain.model import AssignmentStatus, Principal, Status, first_name_or_dash
from ..domain.places import Place, nearest_place
from . import tables as t
from .read_models import LIST_LIMIT, scoped

IN_FEED = (AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value)


def feed_tasks(engine: Engine, volunteer_id: str, now: datetime) -> list[dict[str, Any]]:
    """The volunteer's tasks still to end, offered or accepted (cancelled, declined and
    completed ones leave): category, time, kamer, and the address only once accepted."""
    a, r, k = t.assignments, t.requests, t.kamers
    query = (select(a.c.id, a.c.status, a.c.request_id, r.c.category, r.c.window_start, r.c.window_end, r.c.resident_address,
                    r.c.status.label("request_status"), k.c.name.label("kamer_name"))
             .join(r, r.c.id == a.c.request_id).join(k, k.c.id == r.c.kamer_id)
             .where(a.c.volunteer_id == volunteer_id, a.c.status.in_(IN_FEED), r.c.status == a.c.status,
                    r.c.window_end > now)
             .order_by(r.c.window_start, a.c.id))
    with engine.begin() as tx:
        rows = tx.execute(query).all()
    return [{"assignment_id": row.id, "request_id": row.request_id, "status": row.status, "category": row.category,
             "window_start": row.window_start, "window_end": row.window_end, "kamer_name": row.kamer_name,
             "address": row.resident_address if row.status == AssignmentStatus.ACCEPTED.value else None}
            for row in rows]


def not_done(engine: Engine, principal: Principal, places: Sequence[Place], *,
             limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Requests whose visit did not happen and that still wait for the kamer: a new match or
    cancelling (the request is still accepted by that same volunteer)."""
    v, r, k, a = t.visits, t.requests, t.kamers, t.assignments
    query = scoped(select(r.c.id, r.c.status, r.c.category, r.c.window_start, r.c.window_end, r.c.lat, r.c.lon,
                          r.c.resident_name, k.c.name.label("kamer_name"), v.c.reason, v.c.recorded_at)
                   .join(r, r.c.id == v.c.request_id).join(k, k.c.id == r.c.kamer_id)
                   .join(a, and_(a.c.id == v.c.assignment_id, a.c.status == AssignmentStatus.ACCEPTED.value))
                   .where(v.c.done.is_(False), r.c.status == Status.ACCEPTED.value),
                   principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        rows = tx.execute(query.order_by(v.c.recorded_at).limit(limit)).all()
    return [{"id": row.id, "status": row.status, "category": row.category, "window_start": row.window_start,
             "window_end": row.window_end, "first_name": first_name_or_dash(row.resident_name),
             "place": nearest_place(places, row.lat, row.lon), "kamer_name": row.kamer_name, "reason": row.reason,
             "recorded_at": row.recorded_at} for row in rows]


def claim_names(engine: Engine, kamer_id: str, volunteer_ids: Iterable[str]) -> dict[str, str]:
    """The names of volunteers who drove for this kamer's visits (its claims list pays them,
    a neighbouring kamer's volunteer too); an erased one stays nameless."""
    ids = sorted(set(volunteer_ids))
    if not ids:
        return {}
    vol, v = t.volunteers, t.visits
    drove = select(func.distinct(v.c.volunteer_id)).where(v.c.kamer_id == kamer_id, v.c.volunteer_id.in_(ids))
    with engine.begin() as tx:
        rows = tx.execute(select(vol.c.id, vol.c.name, vol.c.erased_at).where(vol.c.id.in_(drove))).all()
    return {row.id: row.name for row in rows if row.erased_at is None and row.name}
