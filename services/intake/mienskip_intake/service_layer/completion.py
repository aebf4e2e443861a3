"""When a request is done: every part of it (issue 17).

For now the volunteer's part decides: a request completes when its assignment is
completed (the visit was recorded as done). ``refer`` writes the referral's part of the
same function; the two become one at merge.
"""

from __future__ import annotations

from datetime import datetime

from mienskip_shared.contracts import new_event

from ..domain.model import AssignmentStatus, HelpRequest, Status, can_transition
from .common import Conflict, record_history
from .unit_of_work import UnitOfWork


def complete_if_all_parts_done(uow: UnitOfWork, request: HelpRequest, now: datetime, actor: str) -> bool:
    """Inside the caller's transaction: make ``request`` ``completed`` (history step and
    ``request.completed``) when its newest assignment is completed. True if it completed."""
    assignment_id = uow.requests.newest_assignment_id(request.id)
    assignment = uow.requests.assignment(assignment_id) if assignment_id else None
    if assignment is None or assignment.status != AssignmentStatus.COMPLETED.value:
        return False
    if not can_transition(Status(request.status), Status.COMPLETED):
        return False
    if not uow.requests.settle(request, Status.COMPLETED, now):
        raise Conflict("race", "someone else changed this request just now")
    record_history(uow, request.id, Status.COMPLETED, actor)
    uow.publish(new_event("request.completed", {
        "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
    }, correlation_id=request.id, kamer_id=request.kamer_id))
    return True
