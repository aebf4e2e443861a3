"""The read model of "waiting too long" (``domain.waiting``): what is stuck, oldest first,
with its age, scoped to who asks (kamer staff their kamer, a coordinator the region); and
the same as counts per region, for the weekly digest. Counts and categories only: no
person's name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, func, select
from sqlalchemy.sql import Select

from ..domain.follow_ups import NEEDS_THE_KAMER
from ..domain.model import AssignmentStatus, Principal, Role
from ..domain.referrals import ReferralStatus
from ..domain.waiting import KINDS, Thresholds, age_hours
from . import tables as t
from .read_models import LIST_LIMIT, scoped

r, a, k, v, f, rf = t.requests, t.assignments, t.kamers, t.visits, t.follow_ups, t.referrals


def _proposals(thresholds: Thresholds, now: datetime) -> Select:
    return (select(r.c.id, r.c.kamer_id, r.c.region, r.c.category, a.c.created_at.label("since"))
            .join(a, and_(a.c.request_id == r.c.id, a.c.status == AssignmentStatus.PROPOSED.value))
            .where(a.c.created_at < thresholds.since("proposals_unreviewed", now)))


def _offers(thresholds: Thresholds, now: datetime) -> Select:
    # An assignment's updated_at is when it was approved, while it stays approved.
    return (select(r.c.id, r.c.kamer_id, r.c.region, r.c.category, a.c.updated_at.label("since"))
            .join(a, and_(a.c.request_id == r.c.id, a.c.status == AssignmentStatus.APPROVED.value))
            .where(a.c.updated_at < thresholds.since("offers_unanswered", now)))


def _referrals(thresholds: Thresholds, now: datetime) -> Select:
    # Each provider's own answer time is the threshold (``due_at``: its working days), so a
    # referral waits too long once it is past due, whether or not the overdue worker ran yet.
    return (select(r.c.id, r.c.kamer_id, r.c.region, r.c.category, rf.c.sent_at.label("since"))
            .join(rf, rf.c.request_id == r.c.id)
            .where(rf.c.status.in_((ReferralStatus.SENT.value, ReferralStatus.OVERDUE.value)), rf.c.due_at < now))


def _visits(thresholds: Thresholds, now: datetime) -> Select:
    recorded = select(v.c.assignment_id).where(v.c.assignment_id == a.c.id).exists()
    return (select(r.c.id, r.c.kamer_id, r.c.region, r.c.category, r.c.window_end.label("since"))
            .join(a, and_(a.c.request_id == r.c.id, a.c.status == AssignmentStatus.ACCEPTED.value))
            .where(r.c.window_end < thresholds.since("visits_unrecorded", now), ~recorded))


def _follow_ups(thresholds: Thresholds, now: datetime) -> Select:
    return (select(r.c.id, r.c.kamer_id, r.c.region, r.c.category, f.c.answered_at.label("since"),
                   f.c.answer.label("answer"))
            .join(f, f.c.request_id == r.c.id)
            .where(f.c.answer.in_(sorted(NEEDS_THE_KAMER)), f.c.answered_at >= thresholds.since("follow_ups_open", now)))


# Each kind's query.
QUERIES: dict[str, Callable[[Thresholds, datetime], Select] | None] = {
    "proposals_unreviewed": _proposals, "offers_unanswered": _offers, "referrals_unanswered": _referrals,
    "visits_unrecorded": _visits, "follow_ups_open": _follow_ups,
}


def waiting_too_long(engine: Engine, principal: Principal, now: datetime, thresholds: Thresholds, *,
                     limit: int = LIST_LIMIT) -> dict[str, list[dict[str, Any]]]:
    """Per kind (``domain.waiting.KINDS``), the items this person may see, oldest first."""
    shown: dict[str, list[dict[str, Any]]] = {}
    with engine.begin() as tx:
        for kind in KINDS:
            query = QUERIES[kind]
            if query is None:
                shown[kind] = []
                continue
            q = query(thresholds, now).subquery()
            rows = tx.execute(scoped(select(q, k.c.name.label("kamer_name")).join(k, k.c.id == q.c.kamer_id),
                                     principal, q.c.kamer_id, q.c.region).order_by(q.c.since).limit(limit)).all()
            shown[kind] = [{"request_id": row.id, "category": row.category, "kamer_name": row.kamer_name,
                            "since": row.since, "age_hours": age_hours(row.since, now),
                            "answer": getattr(row, "answer", None)} for row in rows]
    return shown


def counts_by_region(engine: Engine, now: datetime, thresholds: Thresholds) -> dict[str, dict[str, Any]]:
    """For the weekly digest: per region, how many of each kind wait, and the oldest's
    age in hours (follow-up answers do not make anything older)."""
    everyone = Principal(token_id=None, role=Role.COORDINATOR)  # no region: all of them
    out: dict[str, dict[str, Any]] = {}
    with engine.begin() as tx:
        regions = [row.region for row in tx.execute(select(k.c.region).distinct())]
        for region in regions:
            out[region] = {kind: 0 for kind in KINDS} | {"oldest_hours": None}
        for kind in KINDS:
            query = QUERIES[kind]
            if query is None:
                continue
            q = scoped(query(thresholds, now), everyone, r.c.kamer_id, r.c.region).subquery()
            for row in tx.execute(select(q.c.region, func.count().label("n"), func.min(q.c.since).label("oldest"))
                                  .group_by(q.c.region)):
                counts = out.setdefault(row.region, {name: 0 for name in KINDS} | {"oldest_hours": None})
                counts[kind] = row.n
                if kind != "follow_ups_open" and row.oldest is not None:
                    age = age_hours(row.oldest, now)
                    counts["oldest_hours"] = max(counts["oldest_hours"] or 0.0, age)
    return out

