"""What intake does with what matching and notify announce, and with its own published
events: plain functions of ``(envelope, uow)``.

Each runs in one transaction that claims the event's inbox row first, so a redelivered
event changes nothing twice. Anything raised rolls it all back and the consumer retries.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, distinct

from ..domain.model import (
    Assignment,
    AssignmentStatus,
    HelpRequest,
    HistoryEntry,
    Note,
    Status,
    Volunteer,
    can_transition,
)
from ..domain.volunteers import why_not_available
from .common import SYSTEM, history_entry, record_history
from .unit_of_work import Requests, UnitOfWork
from .workflow import approve_or_ask_for_review, release_volunteer_in, review_requested

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
            assignment = _proposed(d, utcnow())
            uow.requests.add_assignment(assignment)
            _log_proposal(d)
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


def on_assignments_proposed(envelopes: Sequence[Envelope], uow: UnitOfWork) -> None:
    """Proposals that arrived together (the consumer's batch), to the same end as
    :func:`on_assignment_proposed` one by one, in a few statements: the common case all at
    once (the request's newest decision, the request proposable, the volunteer known and
    still available, no policy that approves at once), any other alone, afterwards."""
    once = distinct(envelopes)
    per_request = Counter(e.data["request_id"] for e in once)
    single = [e for e in once if per_request[e.data["request_id"]] == 1]  # a request twice: alone, in order
    with uow:
        requests = uow.requests.get_all([e.data["request_id"] for e in single], lock=True)
        volunteers = uow.volunteers.get_all(e.data["volunteer_id"] for e in single)
        common = [e for e in single if _is_common(e.data, requests.get(e.data["request_id"]),
                                                  volunteers.get(e.data["volunteer_id"]))]

        def policy_key(e: Envelope) -> tuple[str, str]:
            request = requests[e.data["request_id"]]
            return request.kamer_id, request.category

        approving = uow.kamers.auto_approving(map(policy_key, common))
        common = [e for e in common if policy_key(e) not in approving]
        claimed = uow.claim_all(common)
        fresh = [e for e in common if e.event_id in claimed]
        stamp = utcnow()
        assignments = [_proposed(e.data, stamp) for e in fresh]
        uow.requests.apply_decisions(Status.PROPOSED, {
            e.data["request_id"]: max(e.data["decision"], requests[e.data["request_id"]].last_decision)
            for e in fresh}, stamp)
        uow.requests.record_all([HistoryEntry(request_id=a.request_id, at=stamp, status=Status.PROPOSED.value,
                                              actor="matching", note=None) for a in assignments])
        uow.requests.add_assignments(assignments)
        uow.publish_all([review_requested(requests[a.request_id], a, e.correlation_id)
                         for e, a in zip(fresh, assignments, strict=True)])
        for e in fresh:
            _log_proposal(e.data)
        uow.commit()
    done = {e.event_id for e in common}
    for envelope in once:
        if envelope.event_id not in done:
            on_assignment_proposed(envelope, uow)


def _is_common(d: dict, request: HelpRequest | None, volunteer: Volunteer | None) -> bool:
    """A proposal :func:`on_assignment_proposed` would record and ask a review of (but for
    the kamer's policy), as the rows read stand."""
    return (request is not None and volunteer is not None and volunteer.erased_at is None
            and (d["decision"] == 0 or request.last_decision < d["decision"])
            and can_transition(Status(request.status), Status.PROPOSED)
            and _no_longer_available(volunteer, request) is None)


def _proposed(d: dict, stamp: datetime) -> Assignment:
    """The assignment an ``assignment.proposed`` event describes."""
    return Assignment(id=d["assignment_id"], request_id=d["request_id"], volunteer_id=d["volunteer_id"],
                      kamer_id=d["kamer_id"], status=AssignmentStatus.PROPOSED.value, distance_km=d["distance_km"],
                      explanation=d["explanation"], created_at=stamp, updated_at=stamp)


def _log_proposal(d: dict) -> None:
    log.info("intake.proposal_recorded", request_id=d["request_id"], assignment_id=d["assignment_id"],
             volunteer_id=d["volunteer_id"])


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
    """Keep what notify reports in its requests' history: each delivery as a code, an
    error as notify wrote it. True if intake knows a request of it."""
    deliveries = _deliveries(envelope)
    with uow:
        if not uow.claim(envelope):
            return False
        known = uow.requests.existing(d["request_id"] for d in deliveries if d.get("request_id"))
        uow.requests.record_all([
            history_entry(d["request_id"], None, "notify", error, code, template=d["template"],
                          recipient_kind=d["recipient_kind"], channel=d["channel"], **params)
            for d in deliveries if d.get("request_id") in known])
        uow.commit()
    return bool(known)


def _deliveries(envelope: Envelope) -> list[dict]:
    """notification.sent version 2 carries a batch's deliveries to one kamer; version 1
    (and notification.failed) one."""
    return envelope.data["deliveries"] if "deliveries" in envelope.data else [envelope.data]


def on_notification_sent(envelope: Envelope, uow: UnitOfWork) -> None:
    _note_from_notify(envelope, uow, Note.NOTIFICATION_SENT)


def on_notification_failed(envelope: Envelope, uow: UnitOfWork) -> None:
    """A message that could not be delivered: the coordinator must see it."""
    d = envelope.data
    if _note_from_notify(envelope, uow, Note.NOTIFICATION_FAILED, d["error"], attempts=d["attempts"]):
        log.warning("intake.notification_failed", request_id=d["request_id"], channel=d["channel"],
                    recipient_kind=d["recipient_kind"])


# Event types with a handler for a batch of them, the same as the plain handler on each in turn.
BATCH_HANDLERS: dict[str, Callable[[Sequence[Envelope], UnitOfWork], None]] = {
    "assignment.proposed": on_assignments_proposed,
}

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
