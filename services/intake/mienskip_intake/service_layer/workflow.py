"""The review workflow (DOMAIN.md, "The workflow of one request"): matching proposes,
people decide. Every change is one transaction: the request's status, its current
assignment, a history entry, an audit entry and the event announcing it.

Two people acting at once cannot both win: the status update is conditional on the
status that was read, and a lost race is a 409 like any other illegal transition.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.engine import Connection

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event
from mienskip_shared.messaging import add_to_outbox

from ..adapters import tables as t
from ..domain.model import (
    AssignmentStatus,
    IllegalTransition,
    Principal,
    Role,
    Status,
    act,
    is_late_decline,
    transition,
)
from .common import Conflict, NotFound, audit, record_history

ENDED = frozenset({AssignmentStatus.REJECTED, AssignmentStatus.DECLINED, AssignmentStatus.SUPERSEDED,
                   AssignmentStatus.CANCELLED})
POLICY = "policy"


class UnknownVolunteer(Exception):
    """A reassignment named a volunteer this caller cannot pick (422 on volunteer_id)."""


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next: str | None


# -- reading --------------------------------------------------------------------------------

def _visible(principal: Principal, request_row, assignment_row) -> bool:
    if principal.role is Role.VOLUNTEER:
        return (principal.assignment_id == assignment_row.id
                and principal.volunteer_id == assignment_row.volunteer_id)
    return principal.may_see_kamer(request_row.kamer_id, request_row.region)


def _load(tx: Connection, principal: Principal, assignment_id: str):
    assignment = tx.execute(select(t.assignments).where(t.assignments.c.id == assignment_id)).first()
    if assignment is None:
        raise NotFound(assignment_id)
    request = tx.execute(select(t.requests).where(t.requests.c.id == assignment.request_id)
                         .with_for_update()).first()
    if request is None or not _visible(principal, request, assignment):
        raise NotFound(assignment_id)
    return request, assignment


def assignment_view(assignment, request) -> dict[str, Any]:
    return {
        "id": assignment.id, "request_id": assignment.request_id, "volunteer_id": assignment.volunteer_id,
        "kamer_id": assignment.kamer_id, "status": assignment.status, "distance_km": assignment.distance_km,
        "explanation": assignment.explanation, "created_at": assignment.created_at,
        "updated_at": assignment.updated_at,
        "request": {"status": request.status, "category": request.category, "urgency": request.urgency,
                    "urgent": request.urgent, "window": {"start": request.window_start, "end": request.window_end}},
    }


def _encode_cursor(created_at: datetime, assignment_id: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([created_at.isoformat(), assignment_id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created_at, assignment_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return datetime.fromisoformat(created_at), str(assignment_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this API") from exc


def list_assignments(tx_engine, principal: Principal, *, status: str | None, limit: int,
                     cursor: str | None) -> Page:
    a, r = t.assignments, t.requests
    query = select(a, r).join(r, r.c.id == a.c.request_id)
    if principal.role is Role.KAMER:
        query = query.where(r.c.kamer_id == principal.kamer_id)
    elif principal.role is Role.COORDINATOR and principal.region is not None:
        query = query.where(r.c.region == principal.region)
    if status:
        query = query.where(a.c.status == status)
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        query = query.where(or_(a.c.created_at > created_at, and_(a.c.created_at == created_at, a.c.id > last_id)))
    query = query.order_by(a.c.created_at, a.c.id).limit(limit + 1)
    with tx_engine.begin() as tx:
        rows = tx.execute(query).all()
    items = [assignment_view(_split(row, a), _split(row, r)) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return Page(items, _encode_cursor(last.created_at, last.id) if last is not None else None)


class _Row:
    def __init__(self, values: dict):
        self.__dict__.update(values)


def _split(row, table) -> _Row:
    """One table's columns out of a joined row (both tables have ``id`` and friends)."""
    mapping = row._mapping
    return _Row({c.name: mapping[c] for c in table.c})


# -- acting ---------------------------------------------------------------------------------

def _next_status(request, action: str) -> Status:
    """The request's status after ``action``; an illegal transition is a 409."""
    try:
        return act(action, Status(request.status))
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from exc


def _settle(tx: Connection, request, status: Status, stamp: datetime, **request_values) -> None:
    """Write the request's new status only if it still has the status that was read: of two
    people acting at once one wins, the other gets a 409 like any illegal transition."""
    moved = tx.execute(update(t.requests).where(t.requests.c.id == request.id, t.requests.c.status == request.status)
                       .values(status=status.value, updated_at=stamp, **request_values))
    if moved.rowcount != 1:
        raise Conflict("someone else changed this request just now")


def _set_assignment(tx: Connection, assignment, assignment_status: AssignmentStatus, stamp: datetime) -> None:
    tx.execute(update(t.assignments).where(t.assignments.c.id == assignment.id)
               .values(status=assignment_status.value, updated_at=stamp))


def _move(tx: Connection, request, assignment, action: str, assignment_status: AssignmentStatus,
          actor: str, note: str | None, **request_values) -> Status:
    return _move_to(tx, request, assignment, _next_status(request, action), assignment_status, actor, note,
                    **request_values)


def _move_to(tx: Connection, request, assignment, status: Status, assignment_status: AssignmentStatus,
             actor: str, note: str | None, **request_values) -> Status:
    if AssignmentStatus(assignment.status) in ENDED:
        raise Conflict(f"this proposal is {assignment.status}; the request has moved on")
    stamp = utcnow()
    _settle(tx, request, status, stamp, **request_values)
    _set_assignment(tx, assignment, assignment_status, stamp)
    record_history(tx, request.id, status, actor, note)
    return status


def _announce(tx: Connection, event_type: str, request, assignment, actor_role: str, **data) -> None:
    add_to_outbox(tx, t.outbox, new_event(event_type, {
        "assignment_id": assignment.id, "request_id": request.id, "volunteer_id": assignment.volunteer_id,
        "kamer_id": request.kamer_id, "region": request.region, "actor": actor_role,
        "category": request.category, "window": {"start": request.window_start, "end": request.window_end},
        **data,
    }, correlation_id=request.id, kamer_id=request.kamer_id))


def _result(tx: Connection, assignment_id: str) -> dict:
    assignment = tx.execute(select(t.assignments).where(t.assignments.c.id == assignment_id)).one()
    request = tx.execute(select(t.requests).where(t.requests.c.id == assignment.request_id)).one()
    return assignment_view(assignment, request)


def _require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise PermissionError(f"{principal.role} may not do this")


def approve(engine, principal: Principal, assignment_id: str) -> dict:
    _require(principal, Role.KAMER, Role.COORDINATOR)
    with engine.begin() as tx:
        request, assignment = _load(tx, principal, assignment_id)
        approve_in(tx, request, assignment, principal.actor, principal.role.value, auto=False)
        audit(tx, principal, "approve", "assignment", assignment_id)
        return _result(tx, assignment_id)


def approve_in(tx: Connection, request, assignment, actor: str, actor_role: str, *, auto: bool) -> None:
    _move(tx, request, assignment, "approve", AssignmentStatus.APPROVED, actor,
          "automatisch goedgekeurd / approved by policy" if auto else None)
    _announce(tx, "assignment.approved", request, assignment, actor_role, auto=auto)


def reject(engine, principal: Principal, assignment_id: str, reason: str) -> dict:
    _require(principal, Role.KAMER, Role.COORDINATOR)
    with engine.begin() as tx:
        request, assignment = _load(tx, principal, assignment_id)
        _move(tx, request, assignment, "reject", AssignmentStatus.REJECTED, principal.actor, reason)
        _announce(tx, "assignment.rejected", request, assignment, principal.role.value, reason=reason)
        audit(tx, principal, "reject", "assignment", assignment_id)
        return _result(tx, assignment_id)


def accept(engine, principal: Principal, assignment_id: str) -> dict:
    _require(principal, Role.KAMER, Role.COORDINATOR, Role.VOLUNTEER)
    with engine.begin() as tx:
        request, assignment = _load(tx, principal, assignment_id)
        _move(tx, request, assignment, "accept", AssignmentStatus.ACCEPTED, principal.actor, None, urgent=False)
        _announce(tx, "assignment.accepted", request, assignment, principal.role.value)
        audit(tx, principal, "accept", "assignment", assignment_id)
        return _result(tx, assignment_id)


def decline(engine, principal: Principal, assignment_id: str, reason: str | None, *,
            at: datetime | None = None) -> dict:
    """The volunteer says no (or backs out). Close to the task, the coordinator decides."""
    _require(principal, Role.KAMER, Role.COORDINATOR, Role.VOLUNTEER)
    at = at or utcnow()
    with engine.begin() as tx:
        request, assignment = _load(tx, principal, assignment_id)
        decline_in(tx, request, assignment, principal.actor, principal.role.value, reason, at=at)
        audit(tx, principal, "decline", "assignment", assignment_id)
        return _result(tx, assignment_id)


def decline_in(tx: Connection, request, assignment, actor: str, actor_role: str, reason: str | None, *,
               at: datetime) -> None:
    late = is_late_decline(request.window_start, at)
    after_accept = request.status == Status.ACCEPTED.value
    note = (reason or "") + (" -- binnen 48 uur: urgent / within 48 hours: urgent" if late else "")
    _move(tx, request, assignment, "decline", AssignmentStatus.DECLINED, actor, note or None, urgent=late)
    _announce(tx, "assignment.declined", request, assignment, actor_role, reason=reason,
              after_accept=after_accept, rematch=not late)
    if late:
        add_to_outbox(tx, t.outbox, new_event("request.escalated", {
            "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
            "reason": "late_decline", "urgent": True,
        }, correlation_id=request.id, kamer_id=request.kamer_id))


def _withdraw_in(tx: Connection, request, assignment, actor: str, actor_role: str, reason: str) -> None:
    """A proposal whose volunteer is gone before anyone approved it: the volunteer cannot
    decline it (that needs an approved one), so the request goes back to matching, which
    hears the same ``assignment.declined`` (rematch) and never offers it to them again."""
    _move_to(tx, request, assignment, _transition(request, Status.QUEUED), AssignmentStatus.DECLINED, actor,
             reason)
    _announce(tx, "assignment.declined", request, assignment, actor_role, reason=reason, after_accept=False,
              rematch=True)


def _transition(request, wanted: Status) -> Status:
    try:
        return transition(Status(request.status), wanted)
    except IllegalTransition as exc:
        raise Conflict(str(exc)) from exc


# Assignment statuses that hold a volunteer: a request waits for them.
HOLDING = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value)
VOLUNTEER_ERASED = "vrijwilliger uitgeschreven / volunteer erased"


def release_volunteer_in(tx: Connection, volunteer_id: str, by: Principal, *,
                         at: datetime | None = None) -> list[str]:
    """End every open assignment of a volunteer who is gone (erased), acting as ``by``, as
    if they had declined: an approved or accepted one is declined (within 48 hours of the
    task the request is urgent for the coordinator, else matched again); a proposal goes
    back to matching. An open assignment its request no longer waits for (overtaken by a
    newer decision) is only closed. Ended ones are left alone, so doing it twice changes
    nothing. Returns the ids of the assignments ended."""
    at = at or utcnow()
    a = t.assignments
    candidates = tx.execute(select(a.c.id, a.c.request_id).where(a.c.volunteer_id == volunteer_id,
                                                                 a.c.status.in_(HOLDING))
                            .order_by(a.c.created_at, a.c.id)).all()
    ended = []
    for assignment_id, request_id in candidates:
        request = tx.execute(select(t.requests).where(t.requests.c.id == request_id).with_for_update()).one()
        assignment = tx.execute(select(a).where(a.c.id == assignment_id)).one()  # as of the lock
        if assignment.status not in HOLDING:
            continue
        current = tx.execute(select(a.c.id).where(a.c.request_id == request_id)
                             .order_by(a.c.created_at.desc(), a.c.id.desc()).limit(1)).scalar_one()
        if current != assignment.id or request.status != assignment.status:
            _set_assignment(tx, assignment, AssignmentStatus.DECLINED, utcnow())
            record_history(tx, request.id, None, by.actor,
                           f"{VOLUNTEER_ERASED}: {assignment.status} assignment {assignment.id} closed")
        elif assignment.status == AssignmentStatus.PROPOSED.value:
            _withdraw_in(tx, request, assignment, by.actor, by.role.value, VOLUNTEER_ERASED)
        else:
            decline_in(tx, request, assignment, by.actor, by.role.value, VOLUNTEER_ERASED, at=at)
        audit(tx, by, "decline:volunteer_erased", "assignment", assignment.id)
        ended.append(assignment.id)
    return ended


def reassign(engine, principal: Principal, assignment_id: str, volunteer_id: str) -> dict:
    """Ask matching to propose this volunteer instead (it checks the hard rules)."""
    _require(principal, Role.KAMER, Role.COORDINATOR)
    with engine.begin() as tx:
        request, assignment = _load(tx, principal, assignment_id)
        volunteer = tx.execute(select(t.volunteers.c.id).where(
            t.volunteers.c.id == volunteer_id, t.volunteers.c.region == request.region,
            t.volunteers.c.erased_at.is_(None))).first()
        if volunteer is None or volunteer_id == assignment.volunteer_id:
            raise UnknownVolunteer(volunteer_id)
        # Unlike _move, the proposal may have ended already (reassign after a reject or decline);
        # only a still-open one is superseded.
        still_proposed = assignment.status == AssignmentStatus.PROPOSED.value
        status = _next_status(request, "reassign")
        stamp = utcnow()
        _settle(tx, request, status, stamp, urgent=False)
        if still_proposed:
            _set_assignment(tx, assignment, AssignmentStatus.SUPERSEDED, stamp)
        record_history(tx, request.id, status, principal.actor, f"andere vrijwilliger gekozen / reassigned to {volunteer_id}")
        add_to_outbox(tx, t.outbox, new_event("assignment.reassign_requested", {
            "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
            "volunteer_id": volunteer_id, "replaces_assignment_id": assignment.id if still_proposed else None,
        }, correlation_id=request.id, kamer_id=request.kamer_id))
        audit(tx, principal, "reassign", "assignment", assignment_id)
        return _result(tx, assignment_id)


def bulk_approve(engine, principal: Principal, assignment_ids: list[str]) -> list[dict]:
    """Approve a selection; each one on its own, so one conflict does not undo the rest."""
    results = []
    for assignment_id in dict.fromkeys(assignment_ids):
        try:
            approve(engine, principal, assignment_id)
            results.append({"id": assignment_id, "status": 200})
        except NotFound:
            results.append({"id": assignment_id, "status": 404})
        except Conflict as exc:
            results.append({"id": assignment_id, "status": 409, "message": str(exc)})
    return results


# -- auto-approve policy ----------------------------------------------------------------------

def _policy_kamer(tx: Connection, principal: Principal, kamer_id: str):
    kamer = tx.execute(select(t.kamers).where(t.kamers.c.id == kamer_id)).first()
    if kamer is None or not principal.may_see_kamer(kamer.id, kamer.region):
        raise NotFound(kamer_id)
    return kamer


def auto_approve_categories(engine, principal: Principal, kamer_id: str) -> list[str]:
    _require(principal, Role.KAMER, Role.COORDINATOR)
    with engine.begin() as tx:
        _policy_kamer(tx, principal, kamer_id)
        return sorted(r.category for r in tx.execute(
            select(t.auto_approve.c.category).where(t.auto_approve.c.kamer_id == kamer_id)))


def set_auto_approve_categories(engine, principal: Principal, kamer_id: str, categories: list[str]) -> list[str]:
    """Coordinators set a kamer's policy (kamer staff may read it)."""
    _require(principal, Role.COORDINATOR)
    with engine.begin() as tx:
        _policy_kamer(tx, principal, kamer_id)
        tx.execute(t.auto_approve.delete().where(t.auto_approve.c.kamer_id == kamer_id))
        for category in sorted(set(categories)):
            tx.execute(insert(t.auto_approve).values(kamer_id=kamer_id, category=category,
                                                     set_by=principal.token_id, set_at=utcnow()))
        audit(tx, principal, "set_policy", "kamer", kamer_id)
    return sorted(set(categories))


def approve_by_policy(tx: Connection, request_id: str, assignment_id: str) -> bool:
    """Called when a proposal arrives: approve it at once if the kamer's policy says so."""
    request = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).one()
    allowed = tx.execute(select(t.auto_approve.c.category).where(
        t.auto_approve.c.kamer_id == request.kamer_id, t.auto_approve.c.category == request.category)).first()
    if allowed is None:
        return False
    assignment = tx.execute(select(t.assignments).where(t.assignments.c.id == assignment_id)).one()
    approve_in(tx, request, assignment, POLICY, POLICY, auto=True)
    return True
