"""AVG/GDPR duties: erasure on request and retention.

Erasure removes what identifies a person and keeps what the region needs to learn
from (category, dates, outcome, a location rounded to about 100 m). It is recorded in
the audit log, and ``personal_data.erased`` tells matching and notify to remove
what they hold about the same person. Who may read the audit log is in
``adapters/read_models.py``.
"""

from __future__ import annotations

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event

from ..domain import commands
from ..domain.model import HelpRequest, Principal, Status, Volunteer
from . import workflow
from .common import SYSTEM, NotFound, audit
from .unit_of_work import UnitOfWork

CLOSED = (Status.CANCELLED, Status.COMPLETED)


def _announce(uow: UnitOfWork, kind: str, subject_id: str, kamer_id: str, reason: str) -> None:
    uow.publish(new_event("personal_data.erased", {
        "subject_kind": kind, "subject_id": subject_id, "kamer_id": kamer_id, "reason": reason,
    }, correlation_id=subject_id, kamer_id=kamer_id))


def _erase_request(uow: UnitOfWork, request: HelpRequest, by: Principal, reason: str) -> None:
    uow.requests.save_erasure(request.erased(utcnow()))
    uow.visits.erase_texts(request_id=request.id)
    uow.referrals.erase_for_request(request.id)  # the kamer's note and the provider's answer may name them
    audit(uow, by, f"erase:{reason}", "request", request.id)
    _announce(uow, "resident", request.id, request.kamer_id, reason)


def erase_resident(cmd: commands.EraseResident, uow: UnitOfWork) -> None:
    """Erase the resident of a request (residents are known to intake by their request)."""
    with uow:
        request = uow.requests.get(cmd.request_id)
        if request is None:
            raise NotFound(cmd.request_id)
        if request.erased_at is None:
            _erase_request(uow, request, cmd.by or SYSTEM, "request")
        uow.commit()


def erase_volunteer(cmd: commands.EraseVolunteer, uow: UnitOfWork) -> None:
    """Erase a volunteer: they are no longer matched, and nothing identifies them.

    Their open assignments (proposed, approved, accepted) end in the same transaction,
    as if they had declined: each request is matched again without them, or, when the
    task is within 48 hours, becomes urgent for the coordinator (see
    :func:`workflow.release_volunteer_in`). Erasing again ends only what is still open
    (a proposal matching made before it heard of the erasure, say): usually nothing.
    """
    by = cmd.by or SYSTEM
    with uow:
        # Locked: of two erasures at once, the second waits and then finds it done.
        volunteer = uow.volunteers.get(cmd.volunteer_id, lock=True)
        if volunteer is None:
            raise NotFound(cmd.volunteer_id)
        _erase_volunteer_in(uow, volunteer, by, "request")
        uow.commit()


def _erase_volunteer_in(uow: UnitOfWork, volunteer: Volunteer, by: Principal, reason: str) -> None:
    workflow.release_volunteer_in(uow, volunteer.id, by)
    if volunteer.erased_at is None:
        uow.volunteers.save_erasure(volunteer.erased(utcnow()))
        uow.visits.erase_texts(volunteer_id=volunteer.id)
        audit(uow, by, f"erase:{reason}", "volunteer", volunteer.id)
        _announce(uow, "volunteer", volunteer.id, volunteer.kamer_id, reason)


def apply_retention(cmd: commands.ApplyRetention, uow: UnitOfWork) -> int:
    """Anonymise requests closed (or whose task ended) longer than ``keep_for`` ago, and
    erase volunteers who stopped volunteering longer ago than that.

    Returns how many were anonymised or erased; call repeatedly until it returns 0.
    """
    cutoff = (cmd.at or utcnow()) - cmd.keep_for
    with uow:
        due = uow.requests.due_for_retention(cutoff, CLOSED, cmd.batch)  # replicas share: locked rows skipped
        for request in due:
            _erase_request(uow, request, SYSTEM, "retention")
        stopped = uow.volunteers.stopped_before(cutoff, cmd.batch)
        for volunteer in stopped:
            _erase_volunteer_in(uow, volunteer, SYSTEM, "retention")
        uow.commit()
    return len(due) + len(stopped)
