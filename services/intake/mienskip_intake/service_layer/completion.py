"""When a request is done: every part its ``helper`` asks for is complete (issues 13 and 17).

* volunteer: the current assignment is ``completed`` (its visit was recorded done);
* professional: the referral is ``accepted``;
* both: both.

:func:`complete_if_all_parts_done` is the one place that decides it; a referral's
acceptance calls it, and so does a visit record.
"""

from __future__ import annotations

from datetime import datetime

from mienskip_shared.contracts import new_event

from ..domain.model import AssignmentStatus, HelpRequest, Note, Status
from ..domain.referrals import Helper, ReferralStatus, may_complete
from .common import record_history
from .unit_of_work import UnitOfWork


def parts_done(uow: UnitOfWork, request: HelpRequest) -> dict[str, bool]:
    """Each part the request's helper asks for, and whether it is complete."""
    helper = Helper(request.helper or Helper.VOLUNTEER)
    parts: dict[str, bool] = {}
    if helper in (Helper.VOLUNTEER, Helper.BOTH):
        newest = uow.requests.newest_assignment_id(request.id)
        assignment = uow.requests.assignment(newest) if newest else None
        parts["volunteer"] = assignment is not None and assignment.status == AssignmentStatus.COMPLETED.value
    if helper in (Helper.PROFESSIONAL, Helper.BOTH):
        referral = uow.referrals.current_of(request.id)
        parts["professional"] = referral is not None and referral.status == ReferralStatus.ACCEPTED.value
    return parts


def complete_if_all_parts_done(uow: UnitOfWork, request: HelpRequest, now: datetime, actor: str,
                               correlation_id: str | None = None) -> bool:
    """Inside an open unit of work, the request locked: when every part is complete the
    request becomes ``completed``, its accepted referral ``closed``, and
    ``request.completed`` is written. True if it completed now."""
    if not may_complete(request.status, request.helper) or not all(parts_done(uow, request).values()):
        return False
    uow.requests.set_status(request.id, Status.COMPLETED, now)
    record_history(uow, request.id, Status.COMPLETED, actor)
    referral = uow.referrals.current_of(request.id)
    if referral is not None and referral.status == ReferralStatus.ACCEPTED.value:
        uow.referrals.move(referral.moved(ReferralStatus.CLOSED, now), referral.status)
        record_history(uow, request.id, None, actor, code=Note.REFERRAL_CLOSED, provider_id=referral.provider_id,
                       referral_id=referral.id, was=referral.status)
    uow.publish(new_event("request.completed", {
        "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
    }, correlation_id=correlation_id or request.id, kamer_id=request.kamer_id))
    return True
