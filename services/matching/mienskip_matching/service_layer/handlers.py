"""One plain function per event matching consumes: ``(envelope, uow, config)``.

Each runs in one transaction: claim the inbox row (a redelivered event does
nothing twice), change state, add outbox rows, commit. Anything raised rolls it all
back and the consumer retries the message with back-off.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, distinct, new_event

from ..domain import series
from ..domain.model import (
    AwayPeriod,
    CapacityConflict,
    OpenRequest,
    Point,
    Proposal,
    StoredProposal,
    Unmatched,
    Volunteer,
    WeeklySlot,
    Window,
)
from ..domain.solver import SolverConfig, assign
from .unit_of_work import UnitOfWork

log = structlog.get_logger(__name__)

__all__ = ["HANDLERS", "CapacityConflict", "RequestNotYetKnown", "handle"]


class RequestNotYetKnown(Exception):
    """A cancellation overtook its request (they travel on different queues): retry later."""


def volunteer_registered(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> None:
    """``volunteer.registered`` and ``volunteer.updated``: keep the volunteer as they are
    now; then offer them to requests that found nobody before.

    An event older than the stored one (a lower revision) changes nothing, and neither
    does any event about an erased volunteer: it may arrive after the erasure (another
    queue, a redelivery, a replay from the dead-letter queue). A paused volunteer or one
    away stays in the pool, and the rules say why they are not proposed."""
    volunteer = volunteer_from_event(envelope.data)
    with uow:
        if not uow.claim(envelope):
            return
        # Before the volunteer's row: a solve holding the region may be about to book them.
        uow.volunteers.lock_region(volunteer.region)
        if uow.volunteers.save(volunteer, envelope.occurred_at, envelope.data["revision"]):
            rematch_waiting(uow, volunteer.region, config, now=utcnow())
        elif uow.volunteers.erased(volunteer.id):
            log.info("matching.volunteer_erased_ignored", volunteer_id=volunteer.id)
        else:
            log.info("matching.volunteer_event_outdated", volunteer_id=volunteer.id)
        uow.commit()


def rematch_waiting(uow: UnitOfWork, region: str, config: SolverConfig, *, now: datetime) -> list[StoredProposal]:
    """Solve the region's unmatched requests again, as one batch, now the pool changed.

    Only new proposals are announced: a request that still finds nobody keeps its
    escalation, so the coordinator is not told twice.
    """
    waiting = uow.requests.unmatched(region, starting_after=now)
    if not waiting:
        return []
    decided = _decide(uow, region, waiting, {r.id: r.id for r in waiting}, config, announce_unmatched=False)
    stored = [d for d in decided if isinstance(d, StoredProposal)]
    if stored:
        log.info("matching.rematched", region=region, proposals=len(stored), still_waiting=len(waiting) - len(stored))
    return stored


def _decide(uow: UnitOfWork, region: str, requests: list[OpenRequest], correlation: dict[str, str],
            config: SolverConfig, *, volunteers: list[Volunteer] | None = None,
            announce_unmatched: bool = True) -> list[StoredProposal | Unmatched]:
    """Solve requests of one region together, store and announce each answer:
    ``assignment.proposed``, or ``request.unmatched`` with the reasons.

    The pool's held weekly series keep their next occurrence (``config.reserve_series``),
    except against the volunteers a person picked (``volunteers`` given)."""
    reserve = config.reserve_series and volunteers is None
    uow.volunteers.lock_region(region)
    if volunteers is None:
        volunteers = uow.volunteers.in_region(region, config.vog_valid_years_in(region))
    requests = uow.proposals.with_previous_volunteers(requests)
    span = Window(min(r.window.start for r in requests), max(r.window.end for r in requests))
    bookings = uow.proposals.active_bookings(region, span)
    if reserve:
        bookings += series.reservations(uow.proposals.held_series(region, span), volunteers, config.road_factor,
                                        solving=requests)
    answer = assign(requests, volunteers, bookings, config)
    if not answer.optimal:
        log.warning("matching.batch_not_proven_optimal", region=region, note=answer.note)
    versions = {v.id: v.version for v in volunteers}
    # CapacityConflict -> the consumer retries on fresh data
    uow.volunteers.claim_all({p.volunteer_id: versions[p.volunteer_id] for p in answer.proposals})
    by_id = {r.id: r for r in requests}
    decided: list[StoredProposal | Unmatched] = []
    decided += _propose_all(uow, [(by_id[p.request_id], p) for p in answer.proposals], correlation)
    for unmatched in answer.unmatched if announce_unmatched else ():
        _escalate(uow, by_id[unmatched.request_id], unmatched, correlation_id=correlation[unmatched.request_id])
        decided.append(unmatched)
    return decided


def _escalate(uow: UnitOfWork, request: OpenRequest, unmatched: Unmatched, *, correlation_id: str) -> None:
    uow.requests.save_unmatched(request, unmatched)
    uow.requests.set_status(request.id, "unmatched")
    uow.publish(new_event(
        "request.unmatched",
        {"request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
         "reasons": unmatched.reasons, "considered": unmatched.considered,
         "decision": uow.requests.next_decision(request.id)},
        correlation_id=correlation_id, kamer_id=request.kamer_id))
    log.info("matching.unmatched", request_id=request.id, reasons=unmatched.reasons)


def _propose_all(uow: UnitOfWork, made: list[tuple[OpenRequest, Proposal]],
                 correlation: dict[str, str]) -> list[StoredProposal]:
    """Store proposals and announce each; the caller has claimed the volunteers. A handful
    of statements for the lot, however many: under load a batch holds dozens."""
    if not made:
        return []
    stored = uow.proposals.add_all(made)
    request_ids = [request.id for request, _ in made]
    uow.requests.set_status_all(request_ids, "proposed")
    uow.requests.forget_unmatched_all(request_ids)
    decisions = uow.requests.next_decisions(request_ids)
    uow.publish_all([new_event(
        "assignment.proposed",
        {"assignment_id": s.assignment_id, "request_id": request.id,
         "volunteer_id": s.volunteer_id, "kamer_id": request.kamer_id, "region": request.region,
         "distance_km": s.distance_km, "explanation": s.explanation, "decision": decisions[request.id]},
        correlation_id=correlation[request.id], kamer_id=request.kamer_id)
        for s, (request, _) in zip(stored, made, strict=True)])
    for s in stored:
        log.info("matching.proposed", request_id=s.request_id, assignment_id=s.assignment_id,
                 distance_km=s.distance_km)
    return stored


def request_submitted(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> StoredProposal | Unmatched | None:
    """Store the request and propose a volunteer, or escalate it with reasons.

    Returns the proposal (the stored one if this request already has one: the first
    answer stands), the unmatched result, or None for a cancelled request.
    """
    request = request_from_event(envelope.data)
    with uow:
        if not uow.claim(envelope):
            return uow.proposals.for_request(request.id)  # redelivered: done before
        stored = uow.proposals.for_request(request.id)
        if stored is not None or uow.requests.status(request.id) == "cancelled":
            uow.commit()  # the inbox row: this event is handled
            return stored
        uow.requests.save(request)
        request = uow.requests.get(request.id)  # with the volunteers excluded before, if any
        result = _solve_and_announce(uow, request, envelope.correlation_id, config)
        uow.commit()
        return result


def _solve_and_announce(uow: UnitOfWork, request: OpenRequest, correlation_id: str, config: SolverConfig,
                        volunteers: list[Volunteer] | None = None) -> StoredProposal | Unmatched:
    """One request against the region's pool (or the given volunteers)."""
    [decided] = _decide(uow, request.region, [request], {request.id: correlation_id}, config, volunteers=volunteers)
    return decided


def requests_submitted(envelopes: list[Envelope], uow: UnitOfWork,
                       config: SolverConfig) -> list[StoredProposal | Unmatched]:
    """New requests that arrived together, solved together per region: in a burst,
    the optimum over all of them, not first come first served. One transaction."""
    with uow:
        once = distinct(envelopes)
        claimed = uow.claim_all(once)  # the others were redelivered: decided before
        arrived: dict[str, tuple[OpenRequest, str]] = {}
        for envelope in once:
            if envelope.event_id in claimed:
                request = request_from_event(envelope.data)
                arrived.setdefault(request.id, (request, envelope.correlation_id))
        ids = list(arrived)
        answered, statuses = uow.proposals.requests_with_one(ids), uow.requests.statuses(ids)
        to_solve = [request for rid, (request, _) in arrived.items()
                    if rid not in answered and statuses.get(rid) != "cancelled"]
        uow.requests.save_all(to_solve)
        stored = uow.requests.get_all([r.id for r in to_solve])  # with the volunteers excluded before, if any
        fresh = [stored[r.id] for r in to_solve]
        correlation = {rid: corr for rid, (_, corr) in arrived.items()}
        decided: list[StoredProposal | Unmatched] = []
        for region in sorted({request.region for request in fresh}):
            decided += _decide(uow, region, [r for r in fresh if r.region == region], correlation, config)
        uow.commit()
        return decided


def assignment_ended(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> StoredProposal | Unmatched | None:
    """A person rejected the proposal, or the volunteer declined: free the volunteer,
    never offer them this request again, and look again -- unless the decline came
    so late that the coordinator decides (``rematch`` False)."""
    d = envelope.data
    outcome = "rejected" if envelope.event_type == "assignment.rejected" else "declined"
    with uow:
        if not uow.claim(envelope):
            return None
        uow.proposals.retire(d["assignment_id"], outcome)
        uow.requests.exclude(d["request_id"], d["volunteer_id"], outcome)
        request = uow.requests.get(d["request_id"])
        if request is None:
            raise RequestNotYetKnown(d["request_id"])
        if uow.requests.status(request.id) == "cancelled":
            uow.commit()
            return None
        if outcome == "declined" and not d["rematch"]:
            uow.requests.set_status(request.id, "escalated")
            uow.commit()
            return None
        result = _solve_and_announce(uow, request, envelope.correlation_id, config)
        uow.commit()
        return result


def reassign_requested(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> StoredProposal | Unmatched | None:
    """A person picked a volunteer: propose them if every hard rule allows it, or say
    which rule does not (as an unmatched answer for that one volunteer)."""
    d = envelope.data
    with uow:
        if not uow.claim(envelope):
            return None
        if d.get("replaces_assignment_id"):
            uow.proposals.retire(d["replaces_assignment_id"], "superseded")
        request = uow.requests.get(d["request_id"])
        if request is None:
            raise RequestNotYetKnown(d["request_id"])
        chosen = [v for v in uow.volunteers.in_region(request.region, config.vog_valid_years_in(request.region))
                  if v.id == d["volunteer_id"]]
        result = _solve_and_announce(uow, request, envelope.correlation_id, config, volunteers=chosen)
        uow.commit()
        return result


def request_cancelled(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> None:
    """Cancel the request and its proposal; the volunteer's time and capacity are free again."""
    request_id = envelope.data["request_id"]
    with uow:
        if not uow.claim(envelope):
            return
        if uow.requests.status(request_id) is None:
            raise RequestNotYetKnown(request_id)
        uow.requests.set_status(request_id, "cancelled")
        uow.proposals.cancel_for_request(request_id)
        uow.commit()


def request_relocated(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> None:
    """Intake placed the request exactly (it had only the postcode area's centre): every
    later solve uses the new location. A proposal made already stands; a cancelled
    request stays as it is."""
    d = envelope.data
    with uow:
        if not uow.claim(envelope):
            return
        status = uow.requests.status(d["request_id"])
        if status is None:
            raise RequestNotYetKnown(d["request_id"])
        if status != "cancelled":
            uow.requests.relocate(d["request_id"], Point(d["location"]["lat"], d["location"]["lon"]))
            log.info("matching.request_relocated", request_id=d["request_id"])
        uow.commit()


def personal_data_erased(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> None:
    """An erased volunteer leaves the pool for good: a tombstone (id and time only)
    keeps a later volunteer event from bringing them back. (Matching keeps nothing
    that identifies a resident: ids, category, window and a rounded location.)"""
    d = envelope.data
    with uow:
        if not uow.claim(envelope):
            return
        if d["subject_kind"] == "volunteer":
            uow.volunteers.forget(d["subject_id"], envelope.occurred_at)
            log.info("matching.volunteer_erased", volunteer_id=d["subject_id"])
        uow.commit()


Handler = Callable[[Envelope, UnitOfWork, SolverConfig], Any]

HANDLERS: dict[str, Handler] = {
    "volunteer.registered": volunteer_registered,
    "volunteer.updated": volunteer_registered,
    "request.submitted": request_submitted,
    "request.cancelled": request_cancelled,
    "request.relocated": request_relocated,
    "assignment.rejected": assignment_ended,
    "assignment.declined": assignment_ended,
    "assignment.reassign_requested": reassign_requested,
    "personal_data.erased": personal_data_erased,
}


def handle(envelope: Envelope, uow: UnitOfWork, config: SolverConfig) -> Any:
    return HANDLERS[envelope.event_type](envelope, uow, config)


# -- payload -> domain ------------------------------------------------------------------------
# ``envelope.data`` arrives parsed by the shared contracts (mienskip_shared.contracts.intake):
# Python types (datetime, date, float), a weekly slot's bounds as ``start``/``end``, and every
# optional field present (``load_default``).


def volunteer_from_event(data: dict) -> Volunteer:
    return Volunteer(
        id=data["volunteer_id"], kamer_id=data["kamer_id"], region=data["region"],
        home=Point(data["home"]["lat"], data["home"]["lon"]),
        skills=frozenset(data["skills"]), languages=frozenset(data["languages"]),
        has_car=data["has_car"], vog_checked_on=data["vog_checked_on"],
        availability=tuple(WeeklySlot.parse(s["day"], s["start"], s["end"]) for s in data["availability"]),
        max_tasks_per_week=data["max_tasks_per_week"], max_distance_km=data["max_distance_km"],
        away=tuple(sorted(AwayPeriod(p["start"], p["end"]) for p in data["away"])), active=data["active"],
    )


def request_from_event(data: dict) -> OpenRequest:
    return OpenRequest(
        id=data["request_id"], kamer_id=data["kamer_id"], region=data["region"], category=data["category"],
        skills=frozenset(data["skills"]), needs_vog=data["needs_vog"], needs_language=data["needs_language"],
        window=Window(data["window"]["start"], data["window"]["end"]),
        location=Point(data["location"]["lat"], data["location"]["lon"]),
        urgency=data["urgency"], recurrence=data["recurrence"], follows=data["follows"],
    )
