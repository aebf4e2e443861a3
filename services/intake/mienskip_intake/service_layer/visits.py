"""After the task: the visit record (``POST /v1/assignments/{id}/complete``), by the
volunteer's link, kamer staff or a coordinator. One transaction: the visit row, the
assignment, a history note naming who recorded it, ``assignment.completed``, and, when
done, the request's completion (:func:`.completion.complete_if_all_parts_done`).

Recorded twice, before the task starts, or for a task not accepted: a 409 that changes
nothing. Not done: the request stays with the kamer, on its attention list."""

from __future__ import annotations

from mienskip_shared.clock import utcnow

from ..domain import commands
from ..domain.model import Assignment, AssignmentStatus, HelpRequest, Note, Principal, Role
from ..domain.visits import Visit, VisitRefused, record_visit
from .common import Conflict, audit, record_history, require_role
from .completion import complete_if_all_parts_done
from .unit_of_work import UnitOfWork
from .workflow import Outcome, announce_assignment, person_acts


def complete(cmd: commands.CompleteAssignment, uow: UnitOfWork) -> Outcome:
    require_role(cmd.principal, Role.KAMER, Role.COORDINATOR, Role.VOLUNTEER)
    now = cmd.at or utcnow()
    actor = cmd.principal.actor

    def step(request: HelpRequest, assignment: Assignment) -> None:
        try:
            visit = record_visit(assignment, request, already_recorded=uow.visits.get(assignment.id)
                                 is not None, now=now, done=cmd.done, hours=cmd.hours, km=cmd.km, note=cmd.note,
                                 reason=cmd.reason, actor=actor)
        except VisitRefused as exc:
            raise Conflict(f"visit_{exc.why}", str(exc), **exc.params) from exc
        uow.visits.add(visit)
        if visit.done:
            uow.requests.set_assignment_status(assignment.id, AssignmentStatus.COMPLETED.value, now)
            record_history(uow, request.id, None, actor, code=Note.VISIT_DONE, hours=visit.hours, km=visit.km)
        else:
            record_history(uow, request.id, None, actor, visit.reason, Note.VISIT_NOT_DONE)
        announce_assignment(uow, "assignment.completed", request, assignment, cmd.principal.role.value, cmd.correlation_id,
                  done=visit.done, hours=visit.hours, km=visit.km, reason=visit.reason)
        if visit.done:
            complete_if_all_parts_done(uow, request, now, actor)

    return person_acts(uow, cmd, step, "complete")


# -- what the pages show around it ------------------------------------------------------------

def visit_of(uow: UnitOfWork, assignment_id: str) -> Visit | None:
    with uow:
        return uow.visits.get(assignment_id)


def calendar_version(uow: UnitOfWork, volunteer_id: str) -> int:
    """The version the volunteer's calendar URL is signed with now."""
    with uow:
        return uow.visits.feed_version(volunteer_id)


def new_calendar_link(principal: Principal, uow: UnitOfWork) -> int:
    """The volunteer asks for a new calendar URL: the old one stops working."""
    require_role(principal, Role.VOLUNTEER)
    with uow:
        version = uow.visits.new_feed_version(principal.volunteer_id, utcnow())
        audit(uow, principal, "new_calendar_link", "volunteer", principal.volunteer_id)
        uow.commit()
    return version


def calendar_read(volunteer_id: str, addressed_request_ids: list[str], uow: UnitOfWork) -> None:
    """The volunteer's calendar showed these requests' addresses: audited as their link's reads are."""
    if not addressed_request_ids:
        return
    reader = Principal(token_id=volunteer_id, role=Role.VOLUNTEER, volunteer_id=volunteer_id)
    with uow:
        for request_id in addressed_request_ids:
            audit(uow, reader, "read:calendar", "request", request_id)
        uow.commit()
