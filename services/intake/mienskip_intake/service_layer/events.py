"""What intake does with what matching and notify announce, and with its own published
events: plain functions of ``(envelope, uow)``.

Each runs in one transaction that claims the event's inbox row first, so a redelivered
event changes nothing twice. Anything raised rolls it all back and the consumer retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope

from ..domain.model import Assignment, AssignmentStatus, HelpRequest, Note, Status, Volunteer, can_transition
from ..domain.volunteers import why_not_available
from .common import SYSTEM, record_history
from .unit_of_work import Requests, UnitOfWork
from .workflow import approve_or_ask_for_review, release_volunteer_in

log = structlog.get_logger(__name__)


def _move(uow: UnitOfWork, request_id: str, wanted: Status, actor: str, code: Note | None = None,
          params: dict | None = None, **values) -> bool:
    """Apply a transition announced by another service; ignore it if it no longer fits."""
    current = uow.requests.status_of(request_id)
    if current is None:
        return False
    if not can_transition(Status(current), wanted):
        record_history(uow, request_id, None, actor, code=Note.TRANSITION_IGNORED, wanted=wanted.value,
                       current=current)
        log.info("intake.transition_ignored", request_id=request_id, wanted=wanted.value, current=current)
        return False
    uow.requests.set_status(request_id, wanted, utcnow(), **values)
    record_history(uow, request_id, wanted, actor, code=code, **(params or {}))
    return True


def _is_newest_decision(uow: UnitOfWork, request_id: str, decision: int) -> bool:
    """Matching numbers its decisions per request; one overtaken by a newer one (they
    travel on separate queues) is history, not news."""
    if decision == 0:  # from a producer that does not number yet
        return True
    if uow.requests.claim_decision(request_id, decision):
        return True
    record_history(uow, request_id, None, "matching", code=Note.DECISION_OVERTAKEN, decision=decision)
    log.info("intake.decision_overtaken", request_id=request_id, decision=decision)
    return False


def on_assignment_proposed(envelope: Envelope, uow: UnitOfWork) -> None:
    d = envelope.data
    with uow:
        if not uow.claim(envelope):
            return
        if _is_newest_decision(uow, d["request_id"], d["decision"]) and _move(
                uow, d["request_id"], Status.PROPOSED, "matching"):
            stamp = utcnow()
            assignment = Assignment(
                id=d["assignment_id"], request_id=d["request_id"], volunteer_id=d["volunteer_id"],
                kamer_id=d["kamer_id"], status=AssignmentStatus.PROPOSED.value, distance_km=d["distance_km"],
                explanation=d["explanation"], created_at=stamp, updated_at=stamp)
            uow.requests.add_assignment(assignment)
            log.info("intake.proposal_recorded", request_id=d["request_id"], assignment_id=d["assignment_id"],
                     volunteer_id=d["volunteer_id"])
            volunteer, request = uow.volunteers.get(d["volunteer_id"]), uow.requests.get(d["request_id"])
            if volunteer is not None and volunteer.erased_at is not None:
                # matching proposed before it heard of the erasure
                release_volunteer_in(uow, d["volunteer_id"], SYSTEM)
            elif why := _no_longer_available(volunteer, request):
                # ... or before it heard that they paused, stopped or are away then
                release_volunteer_in(uow, d["volunteer_id"], SYSTEM, why=why,
                                     only=lambda other: other.id == d["request_id"])
            else:
                approve_or_ask_for_review(uow, request, assignment, correlation_id=envelope.correlation_id)
        uow.commit()


def _no_longer_available(volunteer: Volunteer | None, request: HelpRequest | None) -> str | None:
    if volunteer is None or request is None:
        return None
    why = why_not_available(volunteer, request.window_start, request.window_end)
    return why.value if why else None


def on_request_unmatched(envelope: Envelope, uow: UnitOfWork) -> None:
    d = envelope.data
    with uow:
        if not uow.claim(envelope):
            return
        if _is_newest_decision(uow, d["request_id"], d["decision"]) and _move(
                uow, d["request_id"], Status.UNMATCHED, "matching", Note.UNMATCHED,
                {"reasons": d["reasons"], "considered": d["considered"]}, reasons=d["reasons"],
                considered=d["considered"]):
            log.info("intake.request_unmatched", request_id=d["request_id"])
        uow.commit()


def _note_from_notify(envelope: Envelope, uow: UnitOfWork, code: Note, error: str | None = None,
                      **params) -> bool:
    """Keep what notify reports in its request's history: the delivery as a code, an
    error as notify wrote it. True if intake knows the request."""
    d = envelope.data
    request_id = d.get("request_id")
    with uow:
        if not uow.claim(envelope):
            return False
        known = bool(request_id) and uow.requests.exists(request_id)
        if known:
            record_history(uow, request_id, None, "notify", error, code, template=d["template"],
                           recipient_kind=d["recipient_kind"], channel=d["channel"], **params)
        uow.commit()
    return known


def on_notification_sent(envelope: Envelope, uow: UnitOfWork) -> None:
    _note_from_notify(envelope, uow, Note.NOTIFICATION_SENT)


def on_notification_failed(envelope: Envelope, uow: UnitOfWork) -> None:
    """A message that could not be delivered: the coordinator must see it."""
    d = envelope.data
    if _note_from_notify(envelope, uow, Note.NOTIFICATION_FAILED, d["error"], attempts=d["attempts"]):
        log.warning("intake.notification_failed", request_id=d["request_id"], channel=d["channel"],
                    recipient_kind=d["recipient_kind"])


HANDLERS: dict[str, Callable[[Envelope, UnitOfWork], None]] = {
    "assignment.proposed": on_assignment_proposed,
    "request.unmatched": on_request_unmatched,
    "notification.sent": on_notification_sent,
    "notification.failed": on_notification_failed,
}


# -- intake's own events, once on the bus -------------------------------------------------------

def requests_reached_matching(request_ids: Sequence[str], requests: Requests) -> None:
    """A request is ``queued`` once its ``request.submitted`` is confirmed on the bus:
    matching has it now. Only a request still ``received`` moves (matching may have
    answered already, or the kamer cancelled).

    The outbox relay calls this in the same transaction that marks the events sent
    (see ``entrypoints/relay.py``), so the two cannot disagree.
    """
    requests.move_all(request_ids, Status.RECEIVED, Status.QUEUED, utcnow())
