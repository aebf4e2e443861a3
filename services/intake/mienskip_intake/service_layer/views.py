"""Read models for the coordinator pages: what each page shows, scoped to who asks.

Only reads, with one exception: :func:`volunteer_task` audits a volunteer reading the
resident's address (AVG: every read of personal data by a person is logged). Pages that
show a whole record call ``handlers.get_request`` / ``get_volunteer``, which audit.

Scope is the same rule as the API's: kamer staff see their kamer, a coordinator the
region (``Principal.may_see_kamer``); list pages show first names and a neighbourhood,
never addresses, phones or notes.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, and_, false, func, select
from sqlalchemy.sql import Select

from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.geo import great_circle_km

from ..adapters import tables as t
from ..domain import model
from ..domain.model import OPEN_STATUSES, AssignmentStatus, Principal, Role, Status, coarse
from .common import audit

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
LIST_LIMIT = 200
BUSY = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value,
        AssignmentStatus.COMPLETED.value)
OPEN = tuple(sorted(s.value for s in OPEN_STATUSES))


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # village or wijk
    lat: float
    lon: float


def first_name(full: str | None) -> str:
    """A list page names a person by first name only (a dash once erased)."""
    return model.first_name(full) or "—"


def nearest_place(places: Sequence[Place], lat: float, lon: float) -> str:
    """The neighbourhood or village a point lies in, roughly: enough to plan, not to find a door."""
    if not places:
        return "—"
    return min(places, key=lambda p: great_circle_km(lat, lon, p.lat, p.lon)).name


def _scoped(query: Select, principal: Principal, kamer_col, region_col) -> Select:
    if principal.role is Role.KAMER:
        return query.where(kamer_col == principal.kamer_id)
    if principal.role is Role.COORDINATOR:
        return query.where(region_col == principal.region) if principal.region else query
    return query.where(false())  # operators and volunteers: no personal data here


def token_active(engine: Engine, token_id: str) -> bool:
    """A signed-in page keeps working only while its token is not revoked."""
    with engine.begin() as tx:
        return tx.execute(select(t.tokens.c.id).where(t.tokens.c.id == token_id,
                                                      t.tokens.c.revoked_at.is_(None))).first() is not None


def visible_kamers(engine: Engine, principal: Principal) -> list[dict[str, Any]]:
    k = t.kamers
    query = _scoped(select(k.c.id, k.c.name, k.c.region, k.c.lat, k.c.lon), principal, k.c.id, k.c.region)
    with engine.begin() as tx:
        return [dict(r._mapping) for r in tx.execute(query.order_by(k.c.name))]


def _volunteer_names(tx, principal: Principal, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
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
    """Open proposals, oldest first, and how many there are in all."""
    a, r, k = t.assignments, t.requests, t.kamers
    query = (select(a.c.id, a.c.request_id, a.c.volunteer_id, a.c.distance_km, a.c.explanation, a.c.created_at,
                    r.c.kamer_id, r.c.category, r.c.window_start, r.c.window_end, r.c.urgency, r.c.urgent,
                    r.c.resident_name, r.c.lat, r.c.lon, r.c.status.label("request_status"),
                    k.c.name.label("kamer_name"))
             .join(r, r.c.id == a.c.request_id).join(k, k.c.id == r.c.kamer_id)
             .where(a.c.status == AssignmentStatus.PROPOSED.value, r.c.status == Status.PROPOSED.value))
    query = _scoped(query, principal, r.c.kamer_id, r.c.region)
    if kamer_id:
        query = query.where(r.c.kamer_id == kamer_id)
    with engine.begin() as tx:
        total = tx.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = tx.execute(query.order_by(a.c.created_at, a.c.id).limit(limit)).all()
        runner_ids = [(row.explanation or {}).get("runner_up", {}) or {} for row in rows]
        names = _volunteer_names(tx, principal, [row.volunteer_id for row in rows]
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
        })
    return items, total


# -- one request, one volunteer --------------------------------------------------------------------

def request_context(engine: Engine, principal: Principal, request: dict[str, Any],
                    places: Sequence[Place]) -> dict[str, Any]:
    """What the detail page shows next to ``handlers.get_request``'s record."""
    a = t.assignments
    with engine.begin() as tx:
        kamer = tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == request["kamer_id"])).scalar_one()
        rows = tx.execute(select(a).where(a.c.request_id == request["id"]).order_by(a.c.created_at, a.c.id)).all()
        runner_ids = [((row.explanation or {}).get("runner_up") or {}).get("volunteer_id") for row in rows]
        names = _volunteer_names(tx, principal, [row.volunteer_id for row in rows] + runner_ids)
        labels = actor_labels(tx, [h["actor"] for h in request["history"]])
    assignments = []
    for row in rows:
        runner_up = (row.explanation or {}).get("runner_up") or None
        if runner_up:
            runner_up = {**runner_up, "volunteer": names.get(runner_up.get("volunteer_id"))}
        assignments.append({**dict(row._mapping), "volunteer": names.get(row.volunteer_id),
                            "runner_up": runner_up})
    current = assignments[-1] if assignments else None
    return {"kamer_name": kamer, "place": nearest_place(places, request["lat"], request["lon"]),
            "assignments": assignments, "current": current, "actor_labels": labels,
            "failed": [h for h in request["history"] if (h["note"] or "").startswith("FAILED")]}


def reassign_candidates(engine: Engine, principal: Principal, request: dict[str, Any],
                        exclude: Iterable[str] = (), limit: int = 30) -> list[dict[str, Any]]:
    """The nearest volunteers with the request's main skill this person may pick.

    Matching still checks every hard rule; this list only saves typing an id.
    """
    v, k = t.volunteers, t.kamers
    query = (select(v.c.id, v.c.name, v.c.skills, v.c.home_lat, v.c.home_lon, k.c.name.label("kamer_name"))
             .join(k, k.c.id == v.c.kamer_id)
             .where(v.c.region == request["region"], v.c.erased_at.is_(None)))
    query = _scoped(query, principal, v.c.kamer_id, v.c.region)
    excluded = set(exclude)
    with engine.begin() as tx:
        rows = [row for row in tx.execute(query) if row.id not in excluded]
    skilled = [row for row in rows if request["category"] in (row.skills or [])]
    ranked = sorted(skilled, key=lambda row: great_circle_km(request["lat"], request["lon"], row.home_lat, row.home_lon))
    return [{"id": row.id, "first_name": first_name(row.name), "name": row.name, "kamer_name": row.kamer_name,
             "distance_km": round(great_circle_km(request["lat"], request["lon"], row.home_lat, row.home_lon), 1)}
            for row in ranked[:limit]]


def week_bounds(at: datetime) -> tuple[datetime, datetime]:
    """Monday 00:00 to next Monday 00:00 of ``at``'s ISO week, in Europe/Amsterdam."""
    local = at.astimezone(AMSTERDAM)
    monday = (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    return monday, monday + timedelta(days=7)


def volunteer_context(engine: Engine, principal: Principal, volunteer: dict[str, Any], at: datetime,
                      places: Sequence[Place]) -> dict[str, Any]:
    """Load this week (tasks proposed, approved, accepted or done) and recent assignments."""
    a, r = t.assignments, t.requests
    start, end = week_bounds(at)
    with engine.begin() as tx:
        kamer = tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == volunteer["kamer_id"])).scalar_one()
        rows = tx.execute(select(a.c.id, a.c.status, a.c.distance_km, a.c.request_id, r.c.category,
                                 r.c.window_start, r.c.window_end, r.c.lat, r.c.lon, r.c.kamer_id, r.c.region)
                          .join(r, r.c.id == a.c.request_id).where(a.c.volunteer_id == volunteer["id"])
                          .order_by(r.c.window_start.desc()).limit(50)).all()
    this_week = [row for row in rows if row.status in BUSY and start <= row.window_start < end]
    return {
        "kamer_name": kamer, "place": nearest_place(places, volunteer["home_lat"], volunteer["home_lon"]),
        "availability": sorted(volunteer["availability"] or [],
                               key=lambda slot: (DAYS.index(slot["day"]) if slot.get("day") in DAYS else 7,
                                                 slot.get("start") or "")),
        "load_this_week": len(this_week), "week_start": start, "week_end": end - timedelta(days=1),
        "assignments": [{**dict(row._mapping), "visible": principal.may_see_kamer(row.kamer_id, row.region),
                         "place": nearest_place(places, row.lat, row.lon)} for row in rows],
    }


def actor_labels(tx, actors: Iterable[str]) -> dict[str, str]:
    """``coordinator:<token id>`` -> ``coordinator (label)``: who acted, by their token's label."""
    token_ids = {actor.split(":", 1)[1] for actor in actors if ":" in actor}
    if not token_ids:
        return {}
    rows = tx.execute(select(t.tokens.c.id, t.tokens.c.role, t.tokens.c.label).where(t.tokens.c.id.in_(token_ids)))
    labels = {}
    for row in rows:
        text = f"{row.role} ({row.label})" if row.label else f"{row.role} {row.id[:8]}"
        labels[f"{row.role}:{row.id}"] = labels[f"token:{row.id}"] = text
    return labels


# -- the map ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Projection:
    """Equirectangular around the region's latitude: metres are metres at this scale."""

    lat_max: float
    lon_min: float
    scale: float  # pixels per degree of latitude
    kx: float  # cos(latitude): a degree of longitude is shorter up here
    width: int
    height: int

    @classmethod
    def fit(cls, points: Sequence[tuple[float, float]], box: tuple[int, int] = (900, 760), pad: float = 0.01,
            lat0: float = 53.2) -> Projection:
        """The largest drawing of ``points`` (plus ``pad`` degrees) that fits in ``box`` pixels."""
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        lat_min, lat_max = min(lats) - pad, max(lats) + pad
        lon_min, lon_max = min(lons) - pad * 1.6, max(lons) + pad * 1.6
        kx = math.cos(math.radians(lat0))
        scale = min(box[0] / max((lon_max - lon_min) * kx, 1e-6), box[1] / max(lat_max - lat_min, 1e-6))
        return cls(lat_max, lon_min, scale, kx, round((lon_max - lon_min) * kx * scale),
                   round((lat_max - lat_min) * scale))

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (round((lon - self.lon_min) * self.kx * self.scale, 1), round((self.lat_max - lat) * self.scale, 1))

    def pixels_per_km(self) -> float:
        return self.scale / 111.32


def map_view(engine: Engine, principal: Principal, places: Sequence[Place], *, kamer_id: str | None = None,
             zoom: str = "region") -> dict[str, Any]:
    """Places, kamers, open requests, volunteers and proposed links, projected to an SVG box.

    Requests and volunteers are drawn at their coarse (~100 m) location, as the bus carries it.
    """
    r, v, a, k = t.requests, t.volunteers, t.assignments, t.kamers
    requests_q = _scoped(select(r.c.id, r.c.kamer_id, r.c.status, r.c.category, r.c.lat, r.c.lon, r.c.urgent,
                                r.c.resident_name, r.c.window_start, k.c.name.label("kamer_name"))
                         .join(k, k.c.id == r.c.kamer_id).where(r.c.status.in_(OPEN)),
                         principal, r.c.kamer_id, r.c.region)
    volunteers_q = _scoped(select(v.c.id, v.c.kamer_id, v.c.home_lat, v.c.home_lon).where(v.c.erased_at.is_(None)),
                           principal, v.c.kamer_id, v.c.region)
    if kamer_id:
        requests_q = requests_q.where(r.c.kamer_id == kamer_id)
        volunteers_q = volunteers_q.where(v.c.kamer_id == kamer_id)
    with engine.begin() as tx:
        requests = tx.execute(requests_q.order_by(r.c.created_at)).all()
        volunteers = {row.id: row for row in tx.execute(volunteers_q)}
        request_ids = [row.id for row in requests]
        links = tx.execute(select(a.c.id, a.c.request_id, a.c.volunteer_id, a.c.status, a.c.distance_km)
                           .where(a.c.request_id.in_(request_ids),
                                  a.c.status.in_([AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value,
                                                  AssignmentStatus.ACCEPTED.value]))).all() if request_ids else []
        # A link may end at a volunteer of a neighbouring kamer: draw that dot too.
        missing = {link.volunteer_id for link in links} - set(volunteers)
        if missing:
            volunteers.update({row.id: row for row in tx.execute(
                select(v.c.id, v.c.kamer_id, v.c.home_lat, v.c.home_lon).where(v.c.id.in_(missing)))})
        names = _volunteer_names(tx, principal, [link.volunteer_id for link in links])
        kamers = tx.execute(_scoped(select(k.c.id, k.c.name, k.c.lat, k.c.lon), principal, k.c.id, k.c.region)).all()
    wijken = [p for p in places if p.kind != "village"]
    frame = wijken if zoom == "city" and wijken else places
    proj = Projection.fit([(p.lat, p.lon) for p in frame] or [(53.2, 5.8)], pad=0.006 if zoom == "city" else 0.012)

    def inside(x: float, y: float) -> bool:
        return -20 <= x <= proj.width + 20 and -20 <= y <= proj.height + 20

    drawn_places = []
    for p in places:
        x, y = proj.xy(p.lat, p.lon)
        if inside(x, y):
            drawn_places.append({"name": p.name, "kind": p.kind, "x": x, "y": y,
                                 "label": zoom == "city" or p.kind == "village",
                                 "anchor": "end" if x > proj.width - 90 else "start"})  # labels stay inside
    by_request = {}
    for link in links:
        by_request[link.request_id] = link
    request_marks = []
    for row in requests:
        spot = coarse(row.lat, row.lon)
        x, y = proj.xy(spot["lat"], spot["lon"])
        link = by_request.get(row.id)
        request_marks.append({"id": row.id, "x": x, "y": y, "status": row.status, "category": row.category,
                              "urgent": row.urgent, "kamer_name": row.kamer_name,
                              "first_name": first_name(row.resident_name), "window_start": row.window_start,
                              "place": nearest_place(places, row.lat, row.lon),
                              "volunteer": names.get(link.volunteer_id) if link else None,
                              "distance_km": link.distance_km if link else None})
    volunteer_marks = []
    for row in volunteers.values():
        spot = coarse(row.home_lat, row.home_lon)
        volunteer_marks.append({"id": row.id, **dict(zip(("x", "y"), proj.xy(spot["lat"], spot["lon"]), strict=True))})
    line_marks = []
    for link in links:
        volunteer, request = volunteers.get(link.volunteer_id), next(m for m in request_marks
                                                                   if m["id"] == link.request_id)
        if volunteer is None:
            continue
        spot = coarse(volunteer.home_lat, volunteer.home_lon)
        x1, y1 = proj.xy(spot["lat"], spot["lon"])
        line_marks.append({"x1": x1, "y1": y1, "x2": request["x"], "y2": request["y"], "status": link.status})
    kamer_marks = [{"id": row.id, "name": row.name, **dict(zip(("x", "y"), proj.xy(row.lat, row.lon), strict=True))}
                   for row in kamers if not kamer_id or row.id == kamer_id]
    km5 = round(5 * proj.pixels_per_km(), 1) if zoom != "city" else round(1 * proj.pixels_per_km(), 1)
    city = None
    if zoom != "city" and wijken:  # the city's wijken are too close to label one by one at this scale
        x, _ = proj.xy(0, min(p.lon for p in wijken))
        _, y = proj.xy(sum(p.lat for p in wijken) / len(wijken), 0)
        city = {"x": x - 8, "y": y}
    return {"width": proj.width, "height": proj.height, "places": drawn_places, "requests": request_marks,
            "city": city,
            "volunteers": volunteer_marks, "links": line_marks, "kamers": kamer_marks,
            "scale_px": km5, "scale_km": 5 if zoom != "city" else 1,
            "status_counts": Counter(m["status"] for m in request_marks)}


# -- dashboard --------------------------------------------------------------------------------------

def dashboard(engine: Engine, principal: Principal, at: datetime) -> dict[str, Any]:
    """Per kamer: open, proposed, approved, unmatched; this week: submitted, approved, median minutes."""
    r, h, k = t.requests, t.history, t.kamers
    start, end = week_bounds(at)
    counts_q = _scoped(select(r.c.kamer_id, r.c.status, func.count().label("n"))
                       .group_by(r.c.kamer_id, r.c.status), principal, r.c.kamer_id, r.c.region)
    submitted_q = _scoped(select(r.c.kamer_id, func.count().label("n"))
                          .where(r.c.created_at >= start, r.c.created_at < end).group_by(r.c.kamer_id),
                          principal, r.c.kamer_id, r.c.region)
    # The first approval of each request; a request approved again after a decline counts once.
    first_approval = (select(h.c.request_id, func.min(h.c.at).label("approved_at"))
                      .where(h.c.status == Status.APPROVED.value).group_by(h.c.request_id).subquery())
    approved_q = _scoped(select(r.c.kamer_id, r.c.created_at, first_approval.c.approved_at)
                         .join(first_approval, first_approval.c.request_id == r.c.id)
                         .where(and_(first_approval.c.approved_at >= start, first_approval.c.approved_at < end)),
                         principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        kamers = tx.execute(_scoped(select(k.c.id, k.c.name), principal, k.c.id, k.c.region).order_by(k.c.name)).all()
        counts = tx.execute(counts_q).all()
        submitted = {row.kamer_id: row.n for row in tx.execute(submitted_q)}
        approved = tx.execute(approved_q).all()
    per_kamer: dict[str, Counter] = defaultdict(Counter)
    for row in counts:
        per_kamer[row.kamer_id][row.status] += row.n
    minutes: dict[str, list[float]] = defaultdict(list)
    for row in approved:
        minutes[row.kamer_id].append((row.approved_at - row.created_at).total_seconds() / 60)

    def summary(c: Counter, subs: int, mins: list[float]) -> dict[str, Any]:
        return {"open": sum(c[s] for s in OPEN), "waiting": sum(c[s] for s in ("received", "queued", "rejected",
                                                                                  "declined")),
                "proposed": c["proposed"], "approved": c["approved"] + c["accepted"], "unmatched": c["unmatched"],
                "completed": c["completed"], "submitted_this_week": subs, "approved_this_week": len(mins),
                "median_minutes": round(statistics.median(mins)) if mins else None}

    rows = [{"id": kamer.id, "name": kamer.name,
             **summary(per_kamer[kamer.id], submitted.get(kamer.id, 0), minutes[kamer.id])} for kamer in kamers]
    total = summary(sum(per_kamer.values(), Counter()), sum(submitted.values()),
                    [m for values in minutes.values() for m in values])
    return {"kamers": rows, "total": total, "week_start": start, "week_end": end - timedelta(days=1)}


# -- needs attention ---------------------------------------------------------------------------------

def attention(engine: Engine, principal: Principal, places: Sequence[Place], *,
              limit: int = LIST_LIMIT) -> dict[str, list[dict[str, Any]]]:
    """Unmatched requests with reasons, urgent late declines, failed notifications."""
    r, h, k, a = t.requests, t.history, t.kamers, t.assignments
    base = select(r.c.id, r.c.kamer_id, r.c.status, r.c.category, r.c.window_start, r.c.window_end, r.c.lat,
                  r.c.lon, r.c.reasons, r.c.urgent, r.c.resident_name, r.c.updated_at,
                  k.c.name.label("kamer_name")).join(k, k.c.id == r.c.kamer_id)
    base = _scoped(base, principal, r.c.kamer_id, r.c.region)
    failed_q = _scoped(select(h.c.id, h.c.request_id, h.c.at, h.c.note, r.c.kamer_id, r.c.status, r.c.category,
                              r.c.window_start, k.c.name.label("kamer_name"))
                       .join(r, r.c.id == h.c.request_id).join(k, k.c.id == r.c.kamer_id)
                       .where(h.c.note.like("FAILED%"), r.c.status.in_(OPEN)),
                       principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        unmatched = tx.execute(base.where(r.c.status == Status.UNMATCHED.value)
                               .order_by(r.c.window_start).limit(limit)).all()
        urgent = tx.execute(base.where(r.c.urgent.is_(True), r.c.status.in_(OPEN))
                            .order_by(r.c.window_start).limit(limit)).all()
        failed = tx.execute(failed_q.order_by(h.c.id.desc()).limit(limit)).all()
        ids = {row.id for row in [*unmatched, *urgent]}
        has_assignment = {row.request_id for row in tx.execute(
            select(a.c.request_id).where(a.c.request_id.in_(ids)).distinct())} if ids else set()

    def item(row) -> dict[str, Any]:
        return {"id": row.id, "kamer_name": row.kamer_name, "status": row.status, "category": row.category,
                "window_start": row.window_start, "window_end": row.window_end,
                "first_name": first_name(row.resident_name), "place": nearest_place(places, row.lat, row.lon),
                "reasons": row.reasons or {}, "can_reassign": row.id in has_assignment}

    return {
        "unmatched": [item(row) for row in unmatched],
        "urgent": [item(row) for row in urgent],
        "failed": [{"request_id": row.request_id, "at": row.at, "note": row.note, "kamer_name": row.kamer_name,
                    "status": row.status, "category": row.category, "window_start": row.window_start,
                    "recipient": _failed_recipient(row.note)} for row in failed],
    }


def _failed_recipient(note: str) -> str | None:
    """``FAILED: offer to volunteer by email ...`` -> ``volunteer``."""
    words = note.split()
    for before, word in zip(words, words[1:], strict=False):
        if before == "to" and word in ("volunteer", "kamer", "resident"):
            return word
    return None


# -- auto-approve policy -------------------------------------------------------------------------------

def kamer_name(engine: Engine, kamer_id: str) -> str | None:
    with engine.begin() as tx:
        return tx.execute(select(t.kamers.c.name).where(t.kamers.c.id == kamer_id)).scalar()


# -- a volunteer's link ---------------------------------------------------------------------------------

def volunteer_task(engine: Engine, principal: Principal, places: Sequence[Place]) -> dict[str, Any] | None:
    """The one task a volunteer link is for, as the volunteer may see it (API.md).

    Before accepting: category, time, the resident's first name and neighbourhood. After
    accepting: also the address and phone, and that read is audit-logged.
    """
    a, r, v = t.assignments, t.requests, t.volunteers
    with engine.begin() as tx:
        row = tx.execute(select(a.c.id, a.c.status, a.c.volunteer_id, a.c.distance_km, r.c.id.label("request_id"),
                                r.c.category, r.c.window_start, r.c.window_end, r.c.resident_name, r.c.lat, r.c.lon,
                                r.c.resident_address, r.c.resident_phone, r.c.status.label("request_status"),
                                r.c.urgency)
                         .join(r, r.c.id == a.c.request_id)
                         .where(a.c.id == principal.assignment_id, a.c.volunteer_id == principal.volunteer_id)).first()
        if row is None:
            return None
        language = tx.execute(select(v.c.language).where(v.c.id == row.volunteer_id)).scalar()
        accepted = row.status == AssignmentStatus.ACCEPTED.value
        if accepted:
            audit(tx, principal, "read", "request", row.request_id)
    task = {"assignment_id": row.id, "status": row.status, "request_status": row.request_status,
            "category": row.category, "window_start": row.window_start, "window_end": row.window_end,
            "first_name": first_name(row.resident_name),
            # as the offer message names it (the address's place), else the nearest place
            "place": model.neighbourhood_of(row.resident_address) or nearest_place(places, row.lat, row.lon),
            "distance_km": row.distance_km, "urgency": row.urgency, "language": language or "nl",
            "may_answer": row.status == AssignmentStatus.APPROVED.value,
            "may_back_out": accepted}
    if accepted:
        task.update(address=row.resident_address, phone=row.resident_phone)
    return task
