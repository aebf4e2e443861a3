"""The review workflow (DOMAIN.md, "The workflow of one request"): matching proposes,
people decide. Every change is one transaction: the request's status, its current
assignment, a history entry, an audit entry and the event announcing it.

Two people acting at once cannot both win: the status update is conditional on the
status that was read, and a lost race is a 409 like any other illegal transition.

Each action answers ``(assignment, request)`` as they are after it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, new_event

from ..domain import commands
from ..domain.model import (
    Assignment,
    AssignmentStatus,
    HelpRequest,
    IllegalTransition,
    Note,
    Principal,
    Role,
    Status,
    act,
    is_late_decline,
    transition,
)
from .common import Conflict, NotFound, audit, record_history, require_role
from .unit_of_work import UnitOfWork

ENDED = frozenset({AssignmentStatus.REJECTED, AssignmentStatus.DECLINED, AssignmentStatus.SUPERSEDED,
                   AssignmentStatus.CANCELLED})
POLICY = "policy"
# Assignment statuses that hold a volunteer: a request waits for them.
HOLDING = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value)
# The reason ``assignment.declined`` gives when the volunteer was erased. The contract's
# reason is free text (what a volunteer typed); the history says it as a code.
VOLUNTEER_ERASED = "volunteer_erased"  # assignment.declined's reason_code when the volunteer is erased

Outcome = tuple[Assignment, HelpRequest]


class UnknownVolunteer(Exception):
    """A reassignment named a volunteer this caller cannot pick (422 on volunteer_id)."""


# -- reading --------------------------------------------------------------------------------

def _visible(principal: Principal, request: HelpRequest, assignment: Assignment) -> bool:
    if principal.role is Role.VOLUNTEER:
        return principal.assignment_id == assignment.id and principal.volunteer_id == assignment.volunteer_id
    return principal.may_see_kamer(request.kamer_id, request.region)


def _load(uow: UnitOfWork, principal: Principal, assignment_id: str) -> Outcome:
    """The assignment and its request, locked for this transaction; 404 if not the caller's."""
    assignment = uow.requests.assignment(assignment_id)
    if assignment is None:
        raise NotFound(assignment_id)
    request = uow.requests.get(assignment.request_id, lock=True)
    if request is None or not _visible(principal, request, assignment):
        raise NotFound(assignment_id)
    return assignment, request


def _reloaded(uow: UnitOfWork, assignment_id: str) -> Outcome:
    assignment = uow.requests.assignment(assignment_id)
    return assignment, uow.requests.get(assignment.request_id)


# -- acting ---------------------------------------------------------------------------------

def _next_status(request: HelpRequest, action: str) -> Status:
    """The request's status after ``action``; an illegal transition is a 409."""
    try:
        return act(action, Status(request.status))
    except IllegalTransition as exc:
        raise Conflict.transition(exc) from exc


def _settle(uow: UnitOfWork, request: HelpRequest, status: Status, stamp: datetime, **request_values) -> None:
    """Of two people acting at once one wins, the other gets a 409 like any illegal transition."""
    if not uow.requests.settle(request, status, stamp, **request_values):
        raise Conflict("race", "someone else changed this request just now")


def _move(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, action: str,
          assignment_status: AssignmentStatus, actor: str, note: str | None, code: Note | None = None,
          **request_values) -> Status:
    return _move_to(uow, request, assignment, _next_status(request, action), assignment_status, actor, note, code,
                    **request_values)


def _move_to(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, status: Status,
             assignment_status: AssignmentStatus, actor: str, note: str | None, code: Note | None = None,
             **request_values) -> Status:
    """``note``: what the person typed; ``code``: what intake says about the step."""
    if AssignmentStatus(assignment.status) in ENDED:
        raise Conflict("ended", f"this proposal is {assignment.status}; the request has moved on",
                       status=assignment.status)
    stamp = utcnow()
    _settle(uow, request, status, stamp, **request_values)
    uow.requests.set_assignment_status(assignment.id, assignment_status.value, stamp)
    record_history(uow, request.id, status, actor, note, code)
    return status


def announce_assignment(uow: UnitOfWork, event_type: str, request: HelpRequest, assignment: Assignment, actor_role: str,
              correlation_id: str | None, **data) -> None:
    uow.publish(new_event(event_type, {
        "assignment_id": assignment.id, "request_id": request.id, "volunteer_id": assignment.volunteer_id,
        "kamer_id": request.kamer_id, "region": request.region, "actor": actor_role,
        "category": request.category, "window": {"start": request.window_start, "end": request.window_end},
        **data,
    }, correlation_id=correlation_id or request.id, kamer_id=request.kamer_id))


def person_acts(uow: UnitOfWork, cmd, step: Callable[[HelpRequest, Assignment], None], action: str) -> Outcome:
    """One person's action on an assignment, in one transaction: load it (404 if not
    theirs), take the ``step``, audit it, and answer the assignment as it is now."""
    with uow:
        assignment, request = _load(uow, cmd.principal, cmd.assignment_id)
        step(request, assignment)
        audit(uow, cmd.principal, action, "assignment", cmd.assignment_id)
        outcome = _reloaded(uow, cmd.assignment_id)
        uow.commit()
    return outcome


def approve(cmd: commands.Approve, uow: UnitOfWork) -> Outcome:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)
    return person_acts(uow, cmd, lambda request, assignment: _approve_in(
        uow, request, assignment, cmd.principal.actor, cmd.principal.role.value, auto=False,
        correlation_id=cmd.correlation_id), "approve")


def _approve_in(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, actor: str, actor_role: str, *,
                auto: bool, correlation_id: str | None) -> None:
    _move(uow, request, assignment, "approve", AssignmentStatus.APPROVED, actor, None,
          Note.AUTO_APPROVED if auto else None)
    announce_assignment(uow, "assignment.approved", request, assignment, actor_role, correlation_id, auto=auto)


def reject(cmd: commands.Reject, uow: UnitOfWork) -> Outcome:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)

    def step(request: HelpRequest, assignment: Assignment) -> None:
        _move(uow, request, assignment, "reject", AssignmentStatus.REJECTED, cmd.principal.actor, cmd.reason)
        announce_assignment(uow, "assignment.rejected", request, assignment, cmd.principal.role.value, cmd.correlation_id,
                  reason=cmd.reason)

    return person_acts(uow, cmd, step, "reject")


def accept(cmd: commands.Accept, uow: UnitOfWork) -> Outcome:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR, Role.VOLUNTEER)

    def step(request: HelpRequest, assignment: Assignment) -> None:
        _move(uow, request, assignment, "accept", AssignmentStatus.ACCEPTED, cmd.principal.actor, None, urgent=False)
        announce_assignment(uow, "assignment.accepted", request, assignment, cmd.principal.role.value, cmd.correlation_id)

    return person_acts(uow, cmd, step, "accept")


def decline(cmd: commands.Decline, uow: UnitOfWork) -> Outcome:
    """The volunteer says no (or backs out). Close to the task, the coordinator decides."""
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR, Role.VOLUNTEER)
    at = cmd.at or utcnow()
    return person_acts(uow, cmd, lambda request, assignment: _decline_in(
        uow, request, assignment, cmd.principal.actor, cmd.principal.role.value, cmd.reason, at=at,
        correlation_id=cmd.correlation_id), "decline")


def _decline_in(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, actor: str, actor_role: str,
                reason: str | None, *, at: datetime, correlation_id: str | None = None, why: str | None = None) -> None:
    """``why``: not the volunteer's own "no" but a reason code (erased, paused, stopped,
    away), announced as ``reason_code`` and noted as the history's code."""
    late = is_late_decline(request.window_start, at)
    after_accept = request.status == Status.ACCEPTED.value
    if why == VOLUNTEER_ERASED:
        note, code = None, Note.VOLUNTEER_ERASED_LATE if late else Note.VOLUNTEER_ERASED
    elif why is not None:
        note, code = None, Note.LATE_DECLINE if late else Note(why)
    else:
        note, code = reason, Note.LATE_DECLINE if late else None
    _move(uow, request, assignment, "decline", AssignmentStatus.DECLINED, actor, note, code, urgent=late)
    announce_assignment(uow, "assignment.declined", request, assignment, actor_role, correlation_id,
              **({"reason_code": why} if why else {"reason": reason}),
              after_accept=after_accept, rematch=not late)
    if late:
        uow.publish(new_event("request.escalated", {
            "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
            "reason": "late_decline", "urgent": True,
        }, correlation_id=correlation_id or request.id, kamer_id=request.kamer_id))


def _withdraw_in(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, actor: str,
                 actor_role: str, why: str = VOLUNTEER_ERASED) -> None:
    """A proposal whose volunteer is gone (or paused, or away then) before anyone approved
    it: the volunteer cannot decline it (that needs an approved one), so the request goes
    back to matching, which hears the same ``assignment.declined`` (rematch) and never
    offers it to them again."""
    _move_to(uow, request, assignment, _transition(request, Status.QUEUED), AssignmentStatus.DECLINED, actor,
             None, Note(why))
    announce_assignment(uow, "assignment.declined", request, assignment, actor_role, None, reason_code=why,
              after_accept=False, rematch=True)


def _transition(request: HelpRequest, wanted: Status) -> Status:
    try:
        return transition(Status(request.status), wanted)
    except IllegalTransition as exc:
        raise Conflict.transition(exc) from exc


def release_volunteer_in(uow: UnitOfWork, volunteer_id: str, by: Principal, *,
                         at: datetime | None = None, why: str = VOLUNTEER_ERASED,
                         holding: tuple[str, ...] = HOLDING,
                         only: Callable[[HelpRequest], bool] | None = None) -> list[str]:
    """End the open assignments of a volunteer who is gone (``why``: erased, stopped), paused
    or away, acting as ``by``, as if they had declined: an approved or accepted one is
    declined (within 48 hours of the task the request is urgent for the coordinator, else
    matched again); a proposal goes back to matching. ``holding``: which assignment
    statuses end (a pause leaves a task already accepted); ``only``: which requests (an
    away period, those on its days). An open assignment its request no longer waits for
    (overtaken by a newer decision) is only closed. Ended ones are left alone, so doing it
    twice changes nothing. Returns the ids of the assignments ended. Runs in the caller's
    transaction."""
    at = at or utcnow()
    ended = []
    for assignment_id, request_id in uow.requests.assignments_of_volunteer(volunteer_id, holding):
        request = uow.requests.get(request_id, lock=True)
        assignment = uow.requests.assignment(assignment_id)  # as of the lock
        if assignment.status not in holding or (only is not None and not only(request)):
            continue
        current = uow.requests.newest_assignment_id(request_id)
        if current != assignment.id or request.status != assignment.status:
            uow.requests.set_assignment_status(assignment.id, AssignmentStatus.DECLINED.value, utcnow())
            if why == VOLUNTEER_ERASED:
                record_history(uow, request.id, None, by.actor, code=Note.VOLUNTEER_ERASED_CLOSED,
                               assignment_status=assignment.status, assignment_id=assignment.id)
            else:
                record_history(uow, request.id, None, by.actor, code=Note(why))
        elif assignment.status == AssignmentStatus.PROPOSED.value:
            _withdraw_in(uow, request, assignment, by.actor, by.role.value, why)
        else:
            _decline_in(uow, request, assignment, by.actor, by.role.value, None, at=at, why=why)
        audit(uow, by, f"decline:{why}", "assignment", assignment.id)
        ended.append(assignment.id)
    return ended


def reassign(cmd: commands.Reassign, uow: UnitOfWork) -> Outcome:
    """Ask matching to propose this volunteer instead (it checks the hard rules)."""
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)

    def step(request: HelpRequest, assignment: Assignment) -> None:
        if (not uow.volunteers.may_be_proposed(cmd.volunteer_id, request.region)
                or cmd.volunteer_id == assignment.volunteer_id):
            raise UnknownVolunteer(cmd.volunteer_id)
        # Unlike _move, the proposal may have ended already (reassign after a reject or decline);
        # only a still-open one is superseded.
        still_proposed = assignment.status == AssignmentStatus.PROPOSED.value
        status = _next_status(request, "reassign")
        stamp = utcnow()
        _settle(uow, request, status, stamp, urgent=False)
        if still_proposed:
            uow.requests.set_assignment_status(assignment.id, AssignmentStatus.SUPERSEDED.value, stamp)
        record_history(uow, request.id, status, cmd.principal.actor, code=Note.REASSIGNED,
                       volunteer_id=cmd.volunteer_id)
        uow.publish(new_event("assignment.reassign_requested", {
            "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
            "volunteer_id": cmd.volunteer_id, "replaces_assignment_id": assignment.id if still_proposed else None,
        }, correlation_id=cmd.correlation_id or request.id, kamer_id=request.kamer_id))

    return person_acts(uow, cmd, step, "reassign")


def bulk_approve(cmd: commands.BulkApprove, uow_factory) -> list[dict]:
    """Approve a selection; each one in its own transaction, so one conflict does not undo
    the rest. Each answers ``{"id", "status"}`` (200, 404 or 409), a 409 with its ``conflict``."""
    results = []
    for assignment_id in dict.fromkeys(cmd.assignment_ids):
        try:
            approve(commands.Approve(cmd.principal, assignment_id, cmd.correlation_id), uow_factory())
            results.append({"id": assignment_id, "status": 200})
        except NotFound:
            results.append({"id": assignment_id, "status": 404})
        except Conflict as exc:
            results.append({"id": assignment_id, "status": 409, "conflict": exc})
    return results


# -- auto-approve policy ----------------------------------------------------------------------

def _policy_kamer(uow: UnitOfWork, principal: Principal, kamer_id: str) -> None:
    kamer = uow.kamers.get(kamer_id)
    if kamer is None or not principal.may_see_kamer(kamer.id, kamer.region):
        raise NotFound(kamer_id)


def auto_approve_categories(cmd: commands.ShowAutoApprove, uow: UnitOfWork) -> list[str]:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR)
    with uow:
        _policy_kamer(uow, cmd.principal, cmd.kamer_id)
        return uow.kamers.auto_approve_categories(cmd.kamer_id)


def set_auto_approve_categories(cmd: commands.SetAutoApprove, uow: UnitOfWork) -> list[str]:
    """Coordinators set a kamer's policy (kamer staff may read it)."""
    require_role(cmd.principal, Role.COORDINATOR)
    categories = sorted(set(cmd.categories))
    with uow:
        _policy_kamer(uow, cmd.principal, cmd.kamer_id)
        uow.kamers.set_auto_approve_categories(cmd.kamer_id, categories, cmd.principal.user_id or cmd.principal.token_id, utcnow())
        audit(uow, cmd.principal, "set_policy", "kamer", cmd.kamer_id)
        uow.commit()
    return categories


def approve_or_ask_for_review(uow: UnitOfWork, request: HelpRequest, assignment: Assignment, *,
                              correlation_id: str | None = None) -> bool:
    """Called when a proposal arrives, in its transaction (with the request and the
    assignment as they stand in it): approve it at once if the kamer's policy says so
    (``assignment.approved`` with ``auto``), else announce that a person must review it
    (``assignment.review_requested``: notify tells the kamer). True if approved. Intake
    decides this, so nobody downstream has to wait and guess."""
    if uow.kamers.auto_approves(request.kamer_id, request.category):
        _approve_in(uow, request, assignment, POLICY, POLICY, auto=True, correlation_id=correlation_id)
        return True
    uow.publish(review_requested(request, assignment, correlation_id))
    return False


def review_requested(request: HelpRequest, assignment: Assignment, correlation_id: str | None) -> Envelope:
    """``assignment.review_requested``: a person must review this proposal (notify tells the kamer)."""
    return new_event("assignment.review_requested", {
        "assignment_id": assignment.id, "request_id": request.id, "volunteer_id": assignment.volunteer_id,
        "kamer_id": request.kamer_id, "region": request.region, "distance_km": assignment.distance_km,
        "explanation": assignment.explanation, "urgency": request.urgency,
    }, correlation_id=correlation_id or request.id, kamer_id=request.kamer_id)
