"""The monthly report's queries: the rows :mod:`..domain.reports` counts, for the kamers
a person may see (kamer staff their own, a coordinator the region or one kamer of it).
Only ids, categories, statuses, times and numbers are read: no person."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, or_, select

from ..domain import reports
from ..domain.model import AssignmentStatus, Note, Principal, Role
from ..service_layer.common import NotFound
from . import tables as t
from .read_models import scoped


def kamers_in_scope(engine: Engine, principal: Principal, kamer_id: str | None) -> list[tuple[str, str]]:
    """``(id, name)`` of the kamers the report covers; :class:`NotFound` for a kamer this
    person may not see (another region's is indistinguishable from a missing one)."""
    if principal.role not in (Role.KAMER, Role.COORDINATOR):
        raise PermissionError("only kamer staff and coordinators see reports")
    k = t.kamers
    query = scoped(select(k.c.id, k.c.name), principal, k.c.id, k.c.region)
    if kamer_id is not None:
        query = query.where(k.c.id == kamer_id)
    with engine.begin() as tx:
        found = [(row.id, row.name) for row in tx.execute(query.order_by(k.c.name))]
    if kamer_id is not None and not found:
        raise NotFound("kamer", kamer_id)
    return found


def month_rows(engine: Engine, month: reports.Month, kamer_ids: list[str]) -> reports.MonthRows:
    """Everything the month's figures of these kamers are counted from."""
    r, h, a, v, visits = t.requests, t.history, t.assignments, t.volunteers, t.visits
    start, end = month.start, month.end
    if not kamer_ids:
        return reports.MonthRows(month)
    with engine.begin() as tx:
        received = (select(r.c.id).where(r.c.kamer_id.in_(kamer_ids), r.c.created_at >= start,
                                         r.c.created_at < end))
        # A provider accepted its referral: the history says so (the referral itself may be closed since).
        by_professional = set(tx.execute(select(h.c.request_id).where(
            h.c.request_id.in_(received), h.c.note_code == Note.REFERRAL_ACCEPTED.value)).scalars())
        requests = [reports.RequestRow(row.id, row.kamer_id, row.category, row.status, row.created_at,
                                       row.helper or "volunteer", row.id in by_professional)
                    for row in tx.execute(select(r.c.id, r.c.kamer_id, r.c.category, r.c.status, r.c.created_at,
                                                 r.c.helper).where(r.c.id.in_(received)))]
        stepped = (select(h.c.request_id).join(r, r.c.id == h.c.request_id)
                   .where(r.c.kamer_id.in_(kamer_ids), h.c.status.is_not(None), h.c.at >= start, h.c.at < end))
        steps = [reports.StepRow(row.request_id, row.kamer_id, row.at, row.status)
                 for row in tx.execute(select(h.c.request_id, r.c.kamer_id, h.c.at, h.c.status)
                                       .join(r, r.c.id == h.c.request_id)
                                       .where(h.c.status.is_not(None),
                                              or_(h.c.request_id.in_([q.id for q in requests]),
                                                  h.c.request_id.in_(stepped)))
                                       .order_by(h.c.at, h.c.id))]
        visit_rows = [reports.VisitRow(row.kamer_id, row.volunteer_id, row.done, row.hours, row.km)
                      for row in tx.execute(select(visits.c.kamer_id, visits.c.volunteer_id, visits.c.done,
                                                   visits.c.hours, visits.c.km)
                                            .where(visits.c.kamer_id.in_(kamer_ids), visits.c.window_start >= start,
                                                   visits.c.window_start < end))]
        accepted = [(row.kamer_id, row.volunteer_id) for row in tx.execute(
            select(r.c.kamer_id, a.c.volunteer_id).join(r, r.c.id == a.c.request_id)
            .where(r.c.kamer_id.in_(kamer_ids), r.c.window_start >= start, r.c.window_start < end,
                   a.c.status.in_([AssignmentStatus.ACCEPTED.value, AssignmentStatus.COMPLETED.value])))]
        new = [row.kamer_id for row in tx.execute(select(v.c.kamer_id).where(
            v.c.kamer_id.in_(kamer_ids), v.c.created_at >= start, v.c.created_at < end))]
    return reports.MonthRows(month, requests, steps, visit_rows, accepted, new)


def monthly_report(engine: Engine, principal: Principal, month: reports.Month,
                   kamer_id: str | None = None) -> dict[str, Any]:
    """The month's report, already "< 5"-suppressed, with its scope."""
    kamers = kamers_in_scope(engine, principal, kamer_id)
    shown = reports.report(month_rows(engine, month, [k for k, _ in kamers]), kamers)
    region = principal.region if principal.role is Role.COORDINATOR else None
    return {**shown, "scope": {"kamer_id": kamer_id or (principal.kamer_id if principal.role is Role.KAMER else None),
                               "region": region}}
