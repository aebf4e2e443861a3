"""Read models for the coordinator pages and the API's lists: what each shows, scoped to
who asks. Only reads (CQRS's read side): pages and list endpoints call these directly;
whole records, whose reads are audited, come through the service layer
(``handlers.show_request`` / ``show_volunteer``).

Scope is the same rule as the API's: kamer staff see their kamer, a coordinator the
region (``Principal.may_see_kamer``); list pages show first names and a neighbourhood,
never addresses, phones or notes. The overview pages' queries are in :mod:`.overviews`.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, false, func, or_, select
from sqlalchemy.sql import Select

from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.geo import great_circle_km

from ..domain.model import (
    OPEN_STATUSES,
    Assignment,
    AssignmentStatus,
    HelpRequest,
    Principal,
    Role,
    Status,
    Volunteer,
    first_name_or_dash,
)
from ..domain.places import Place, nearest_place
from . import tables as t
from .request_repository import assignment_from_row, request_from_row

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LIST_LIMIT = 200
BUSY = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value,
        AssignmentStatus.COMPLETED.value)
OPEN = tuple(sorted(s.value for s in OPEN_STATUSES))
first_name = first_name_or_dash


def scoped(query: Select, principal: Principal, kamer_col, region_col) -> Select:
    if principal.role is Role.KAMER:
        return query.where(kamer_col == principal.kamer_id)
    if principal.role is Role.COORDINATOR:
        return query.where(region_col == principal.region) if principal.region else query
    return query.where(false())  # operators and volunteers: no personal data here


def visible_kamers(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    k = t.kamers
    query = scoped(select(k.c.id, k.c.name, k.c.region, k.c.lat, k.c.lon), principal, k.c.id, k.c.region)
    with engine.begin() as tx:
        return [dict(r._mapping) for r in tx.execute(query.order_by(k.c.name))]


def all_kamers(engine: Engine) -> list[dict[str, Any]]:
    """Every kamer's id, name and region (for operators: no personal data)."""
    k = t.kamers
    with engine.begin() as tx:
        return [dict(r._mapping) for r in tx.execute(select(k.c.id, k.c.name, k.c.region).order_by(k.c.region, k.c.name))]


def kamer_name(engine: Engine, kamer_id: str) -> str | None:
    with engine.begin() as tx:
        return tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == kamer_id)).scalar()


def volunteer_names(tx, principal: Principal, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Names of the volunteers this principal may see; others stay anonymous ids."""
    ids = [i for i in set(ids) if i]
    if not ids:
        return {}
    v = t.volunteers
    rows = tx.execute(select(v.c.id, v.c.name, v.c.kamer_id, v.c.region, v.c.erased_at).where(v.c.id.in_(ids)))
    return {r.id: {"id": r.id, "first_name": first_name(r.name), "name": r.name}
            for r in rows if r.erased_at is None and principal.may_see_kamer(r.kamer_id, r.region)}


# -- proposals ----------------------------------------------------------------------------------

def proposals(engine: Engine, principal: Principal, places: Sequence[Place], *,
              kamer_id: str | None = None, limit: int = LIST_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """Open proposals, the soonest task first (what needs an answer first), and how many
    there are in all."""
    a, r, k = t.assignments, t.requests, t.kamers
    query = (select(a.c.id, a.c.request_id, a.c.volunteer_id, a.c.distance_km, a.c.explanation, a.c.created_at,
                    r.c.kamer_id, r.c.category, r.c.window_start, r.c.window_end, r.c.urgency, r.c.urgent,
                    r.c.resident_name, r.c.lat, r.c.lon, r.c.status.label("request_status"),
                    k.c.name.label("kamer_name"), r.c.helper)
             .join(r, r.c.id == a.c.request_id).join(k, k.c.id == r.c.kamer_id)
             .where(a.c.status == AssignmentStatus.PROPOSED.value, r.c.status == Status.PROPOSED.value))
    query = scoped(query, principal, r.c.kamer_id, r.c.region)
    if kamer_id:
        query = query.where(r.c.kamer_id == kamer_id)
    with engine.begin() as tx:
        total = tx.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = tx.execute(query.order_by(r.c.window_start, a.c.created_at, a.c.id).limit(limit)).all()
        runner_ids = [(row.explanation or {}).get("runner_up", {}) or {} for row in rows]
        names = volunteer_names(tx, principal, [row.volunteer_id for row in rows]
                                 + [ru.get("volunteer_id") for ru in runner_ids])
    items = []
    for row in rows:
        explanation = dict(row.explanation or {})
        runner_up = explanation.get("runner_up") or None
        if runner_up:
            runner_up = {**runner_up, "volunteer": names.get(runner_up.get("volunteer_id"))}
        items.append({
            "id": row.id, "request_id": row.request_id, "kamer_id": row.kamer_id, "kamer_name": row.kamer_name,
            "category": row.category, "window_start": row.window_start, "window_end": row.window_end,
            "urgency": row.urgency, "urgent": row.urgent, "resident_first_name": first_name(row.resident_name),
            "place": nearest_place(places, row.lat, row.lon), "distance_km": row.distance_km,
            "volunteer_id": row.volunteer_id, "volunteer": names.get(row.volunteer_id),
            "explanation": explanation, "runner_up": runner_up, "created_at": row.created_at,
            "professional_too": row.helper == "both",  # issue 13: a care provider helps beside the volunteer
        })
    return items, total



# -- one request, one volunteer --------------------------------------------------------------------

def request_context(engine: Engine, principal: Principal, request: HelpRequest,
                    places: Sequence[Place]) -> dict[str, Any]:
    """What the detail page shows next to ``handlers.show_request``'s record (which holds
    the assignments and history)."""
    runner_ids = [((a.explanation or {}).get("runner_up") or {}).get("volunteer_id") for a in request.assignments]
    with engine.begin() as tx:
        kamer = tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == request.kamer_id)).scalar_one()
        names = volunteer_names(tx, principal, [a.volunteer_id for a in request.assignments] + runner_ids)
        labels = actor_labels(tx, [h.actor for h in request.history])
    assignments = []
    for assignment in request.assignments:
        runner_up = (assignment.explanation or {}).get("runner_up") or None
        if runner_up:
            runner_up = {**runner_up, "volunteer": names.get(runner_up.get("volunteer_id"))}
        assignments.append({**asdict(assignment), "volunteer": names.get(assignment.volunteer_id),
                            "runner_up": runner_up})
    current = assignments[-1] if assignments else None
    return {"kamer_name": kamer, "place": nearest_place(places, request.lat, request.lon),
            "assignments": assignments, "current": current, "actor_labels": labels,
            "failed": [h for h in request.history if h.failed_delivery]}


def reassign_candidates(engine: Engine, principal: Principal, request: HelpRequest,
                        exclude: Iterable[str] = (), limit: int = 30) -> list[dict[str, Any]]:
    """The nearest volunteers with the request's main skill this person may pick.

    Matching still checks every hard rule; this list only saves typing an id.
    """
    v, k = t.volunteers, t.kamers
    query = (select(v.c.id, v.c.name, v.c.skills, v.c.home_lat, v.c.home_lon, k.c.name.label("kamer_name"))
             .join(k, k.c.id == v.c.kamer_id)
             .where(v.c.region == request.region, v.c.erased_at.is_(None)))
    query = scoped(query, principal, v.c.kamer_id, v.c.region)
    excluded = set(exclude)
    with engine.begin() as tx:
        rows = [row for row in tx.execute(query) if row.id not in excluded]
    skilled = [row for row in rows if request.category in (row.skills or [])]
    ranked = sorted(skilled, key=lambda row: great_circle_km(request.lat, request.lon, row.home_lat, row.home_lon))
    return [{"id": row.id, "first_name": first_name(row.name), "name": row.name, "kamer_name": row.kamer_name,
             "distance_km": round(great_circle_km(request.lat, request.lon, row.home_lat, row.home_lon), 1)}
            for row in ranked[:limit]]


def week_bounds(at: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to next Monday 00:00 of ``at``'s ISO week, in Europe/Amsterdam."""
    local = at.astimezone(AMSTERDAM)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday, monday + timedelta(days=7)


def volunteer_context(engine: Engine, principal: Principal, volunteer: Volunteer, at: datetime,
                      places: Sequence[Place]) -> dict[str, Any]:
    """Load this week (tasks proposed, approved, accepted or done) and recent assignments."""
    a, r = t.assignments, t.requests
    start, end = week_bounds(at)
    with engine.begin() as tx:
        kamer = tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == volunteer.kamer_id)).scalar_one()
        rows = tx.execute(select(a.c.id, a.c.status, a.c.distance_km, a.c.request_id, r.c.category,
                                 r.c.window_start, r.c.window_end, r.c.lat, r.c.lon, r.c.kamer_id, r.c.region)
                          .join(r, r.c.id == a.c.request_id).where(a.c.volunteer_id == volunteer.id)
                          .order_by(r.c.window_start.desc()).limit(50)).all()
    this_week = [row for row in rows if row.status in BUSY and start <= row.window_start < end]
    return {
        "kamer_name": kamer, "place": nearest_place(places, volunteer.home_lat, volunteer.home_lon),
        "availability": sorted(volunteer.availability or [],
                               key=lambda slot: (DAYS.index(slot["day"]) if slot.get("day") in DAYS else 7,
                                                 slot.get("start") or "")),
        "load_this_week": len(this_week), "week_start": start, "week_end": end - timedelta(days=1),
        "assignments": [{**dict(row._mapping), "visible": principal.may_see_kamer(row.kamer_id, row.region),
                         "place": nearest_place(places, row.lat, row.lon)} for row in rows],
    }


def actor_labels(tx, actors: Iterable[str]) -> dict[str, str]:
    """``coordinator:<token id>`` -> ``coordinator (label)``: who acted, by their token's
    label; ``user:<id>`` -> the person's name (or e-mail address)."""
    ids = {actor.split(":", 1)[1] for actor in actors if ":" in actor}
    if not ids:
        return {}
    rows = tx.execute(select(t.tokens.c.id, t.tokens.c.role, t.tokens.c.label).where(t.tokens.c.id.in_(ids)))
    labels = {}
    for row in rows:
        text = f"{row.role} ({row.label})" if row.label else f"{row.role} {row.id[:8]}"
        labels[f"{row.role}:{row.id}"] = labels[f"token:{row.id}"] = text
    u = t.users
    for row in tx.execute(select(u.c.id, u.c.role, u.c.display_name, u.c.email).where(u.c.id.in_(ids))):
        labels[f"user:{row.id}"] = f"{row.role} ({row.display_name or row.email})"
    return labels


# -- the API's lists -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Page:
    items: list[tuple[Assignment, HelpRequest]]
    next: str | None


def encode_cursor(created_at: datetime, record_id: str) -> str:
    """Where a page of a list ended: the last item's time and id, opaque to clients."""
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), record_id]).encode()).decode()


_CURSOR_ID = re.compile(r"[0-9A-Za-z-]{1,64}")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """``(time, id)`` from :func:`encode_cursor`; ``ValueError`` for anything else: a time
    without its offset (it could not be compared with the stored ones), one that cannot
    be written in UTC (year 1 at +14:00), an id that no record has."""
    try:
        created_at, record_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(created_at)
        if at.tzinfo is None or not isinstance(record_id, str) or not _CURSOR_ID.fullmatch(record_id):
            raise ValueError("not a cursor from this API")
        return at.astimezone(UTC), record_id
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ValueError("not a cursor from this API") from exc


def list_assignments(engine: Engine, principal: Principal, *, status: str | None, limit: int,
                     cursor: str | None) -> Page:
    """Proposals and assignments, oldest first, a page at a time: the kamer's own, or the
    coordinator's region. A cursor not from this API is a ``ValueError``."""
    a, r = t.assignments, t.requests
    query = select(a, r).join(r, r.c.id == a.c.request_id)
    if principal.role is Role.KAMER:
        query = query.where(r.c.kamer_id == principal.kamer_id)
    elif principal.role is Role.COORDINATOR and principal.region is not None:
        query = query.where(r.c.region == principal.region)
    if status:
        query = query.where(a.c.status == status)
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        query = query.where(or_(a.c.created_at > created_at, and_(a.c.created_at == created_at, a.c.id > last_id)))
    query = query.order_by(a.c.created_at, a.c.id).limit(limit + 1)
    with engine.begin() as tx:
        rows = tx.execute(query).all()
    items = [(assignment_from_row(row._mapping), request_from_row(row._mapping)) for row in rows[:limit]]
    last = items[-1][0] if len(rows) > limit else None
    return Page(items, encode_cursor(last.created_at, last.id) if last is not None else None)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    role: str
    token_id: str | None
    token_label: str | None
    action: str
    subject_kind: str
    subject_id: str
    user_id: str | None = None  # a person signed in to the pages (then token_id is None)
    user_name: str | None = None


def audit_entries(engine: Engine, principal: Principal, *, subject_id: str | None = None,
                  limit: int = 100) -> list[AuditEntry]:
    """Who read or changed personal data, newest first: a coordinator sees their region's."""
    if principal.role is not Role.COORDINATOR:
        raise PermissionError("the audit log is for coordinators")
    a = t.audit_log
    region = principal.region
    in_region = or_(
        a.c.subject_id.in_(select(t.requests.c.id).where(t.requests.c.region == region)),
        a.c.subject_id.in_(select(t.volunteers.c.id).where(t.volunteers.c.region == region)),
        a.c.subject_id.in_(select(t.kamers.c.id).where(t.kamers.c.region == region)),
        a.c.subject_id.in_(select(t.users.c.id).where(t.users.c.region == region)),
        a.c.subject_id.in_(select(t.assignments.c.id).join(t.requests, t.requests.c.id == t.assignments.c.request_id)
                           .where(t.requests.c.region == region)),
    )
    person = func.coalesce(t.users.c.display_name, t.users.c.email).label("user_name")
    query = (select(a, t.tokens.c.label, person).outerjoin(t.tokens, t.tokens.c.id == a.c.token_id)
             .outerjoin(t.users, t.users.c.id == a.c.user_id).order_by(a.c.id.desc()).limit(limit))
    if region is not None:
        query = query.where(in_region)
    if subject_id is not None:
        query = query.where(a.c.subject_id == subject_id)
    with engine.begin() as tx:
        rows = tx.execute(query).all()
    return [AuditEntry(r.at, r.role, r.token_id, r.label, r.action, r.subject_kind, r.subject_id, r.user_id,
                       r.user_name) for r in rows]
