"""Read models for the overview pages: the map's marks, the dashboard's counts and what
needs attention, scoped to who asks (see :mod:`.read_models`)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from ..domain.model import AssignmentStatus, Note, Principal, Status, first_name_or_dash
from ..domain.places import Place, nearest_place
from . import tables as t
from .read_models import LIST_LIMIT, OPEN, scoped, volunteer_names, week_bounds

first_name = first_name_or_dash


# -- the map ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MapData:
    """What the map draws, as stored (the drawing rounds locations to ~100 m)."""

    requests: list  # open requests: id, kamer_id, status, category, lat, lon, urgent, resident_name, ...
    volunteers: dict  # id -> (id, kamer_id, home_lat, home_lon)
    links: list  # the requests' open assignments: id, request_id, volunteer_id, status, distance_km
    names: dict[str, dict[str, Any]]  # volunteers this person may see by name
    kamers: list  # id, name, lat, lon


def map_data(engine: Engine, principal: Principal, *, kamer_id: str | None = None) -> MapData:
    """Kamers, open requests, volunteers and proposed links this person may see."""
    r, v, a, k = t.requests, t.volunteers, t.assignments, t.kamers
    requests_q = scoped(select(r.c.id, r.c.kamer_id, r.c.status, r.c.category, r.c.lat, r.c.lon, r.c.urgent,
                                r.c.resident_name, r.c.window_start, k.c.name.label("kamer_name"), r.c.helper)
                         .join(k, k.c.id == r.c.kamer_id).where(r.c.status.in_(OPEN)),
                         principal, r.c.kamer_id, r.c.region)
    volunteers_q = scoped(select(v.c.id, v.c.kamer_id, v.c.home_lat, v.c.home_lon).where(v.c.erased_at.is_(None)),
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
        names = volunteer_names(tx, principal, [link.volunteer_id for link in links])
        kamers = tx.execute(scoped(select(k.c.id, k.c.name, k.c.lat, k.c.lon), principal, k.c.id, k.c.region)).all()
    return MapData(requests, volunteers, links, names, kamers)


# -- dashboard --------------------------------------------------------------------------------------

def dashboard(engine: Engine, principal: Principal, at: datetime) -> dict[str, Any]:
    """Per kamer: open, proposed, approved, unmatched; this week: submitted, approved, median minutes."""
    r, h, k = t.requests, t.history, t.kamers
    start, end = week_bounds(at)
    counts_q = scoped(select(r.c.kamer_id, r.c.status, func.count().label("n"))
                       .group_by(r.c.kamer_id, r.c.status), principal, r.c.kamer_id, r.c.region)
    submitted_q = scoped(select(r.c.kamer_id, func.count().label("n"))
                          .where(r.c.created_at >= start, r.c.created_at < end).group_by(r.c.kamer_id),
                          principal, r.c.kamer_id, r.c.region)
    # The first approval of each request; a request approved again after a decline counts once.
    first_approval = (select(h.c.request_id, func.min(h.c.at).label("approved_at"))
                      .where(h.c.status == Status.APPROVED.value).group_by(h.c.request_id).subquery())
    approved_q = scoped(select(r.c.kamer_id, r.c.created_at, first_approval.c.approved_at)
                         .join(first_approval, first_approval.c.request_id == r.c.id)
                         .where(and_(first_approval.c.approved_at >= start, first_approval.c.approved_at < end)),
                         principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        kamers = tx.execute(scoped(select(k.c.id, k.c.name), principal, k.c.id, k.c.region).order_by(k.c.name)).all()
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
                  r.c.lon, r.c.reasons, r.c.considered, r.c.urgent, r.c.resident_name, r.c.updated_at,
                  k.c.name.label("kamer_name")).join(k, k.c.id == r.c.kamer_id)
    base = scoped(base, principal, r.c.kamer_id, r.c.region)
    failed_q = scoped(select(h.c.id, h.c.request_id, h.c.at, h.c.note, h.c.note_code, h.c.note_params, r.c.kamer_id,
                              r.c.status, r.c.category, r.c.window_start, k.c.name.label("kamer_name"))
                       .join(r, r.c.id == h.c.request_id).join(k, k.c.id == r.c.kamer_id)
                       .where(or_(h.c.note_code == Note.NOTIFICATION_FAILED.value, h.c.note.like("FAILED%")),
                              r.c.status.in_(OPEN)),
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
                "reasons": row.reasons or {}, "considered": row.considered,
                "can_reassign": row.id in has_assignment}

    return {
        "unmatched": [item(row) for row in unmatched],
        "urgent": [item(row) for row in urgent],
        "failed": [{"request_id": row.request_id, "at": row.at, "note": row.note, "note_code": row.note_code,
                    "note_params": row.note_params, "kamer_name": row.kamer_name, "status": row.status,
                    "category": row.category, "window_start": row.window_start,
                    "recipient": _failed_recipient(row.note_params, row.note)} for row in failed],
    }


def dead_lettered_requests(engine: Engine, principal: Principal, letters: Sequence[Any]) -> list[dict[str, Any]]:
    """The requests this person may see whose event waits in a dead-letter queue (``letters``:
    messaging's ``DeadLetter``s), one item per dead letter, with its queue and reason."""
    by_request = [letter for letter in letters if letter.request_id]
    if not by_request:
        return []
    r, k = t.requests, t.kamers
    query = scoped(select(r.c.id, r.c.status, r.c.category, r.c.window_start, k.c.name.label("kamer_name"))
                   .join(k, k.c.id == r.c.kamer_id).where(r.c.id.in_({letter.request_id for letter in by_request})),
                   principal, r.c.kamer_id, r.c.region)
    with engine.begin() as tx:
        visible = {row.id: row for row in tx.execute(query)}
    return [{"request_id": letter.request_id, "status": visible[letter.request_id].status,
             "category": visible[letter.request_id].category, "window_start": visible[letter.request_id].window_start,
             "kamer_name": visible[letter.request_id].kamer_name, "queue": letter.queue,
             "event_type": letter.event_type, "event_id": letter.event_id, "reason": letter.reason}
            for letter in by_request if letter.request_id in visible]


def _failed_recipient(params: dict | None, note: str | None) -> str | None:
    """Who a failed message was for: as notify reported it, or read off an entry from
    before codes (``FAILED: offer to volunteer by email ...`` -> ``volunteer``)."""
    if params and params.get("recipient_kind"):
        return params["recipient_kind"]
    words = (note or "").split()
    for before, word in zip(words, words[1:], strict=False):
        if before == "to" and word in ("volunteer", "kamer", "resident"):
            return word
    return None

