"""Intake's handlers on an in-memory unit of work: the rules, without a database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from intake_fakes import FakeUnitOfWork

from mienskip_intake.domain import commands
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import events, handlers, privacy, workflow
from mienskip_intake.service_layer.common import Conflict, NotFound
from mienskip_shared.contracts import new_event, parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
REQUEST = {"resident": {"name": "Jan Hoekstra", "phone": "+31587123456", "address": "Tsjerkepaed 3, 9001 AB Grou"},
           "location": {"lat": 53.22514, "lon": 5.75301}, "category": "pets",
           "window": {"start": SOON, "end": SOON + timedelta(hours=1)}}
VOLUNTEER = {"name": "Anna de Vries", "language": "nl", "home": {"lat": 53.20123, "lon": 5.79991},
             "skills": ["pets"], "has_car": False, "availability": [], "max_tasks_per_week": 2,
             "max_distance_km": 10.0, "email": "anna@example.org"}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def kamer(uow):
    kamer_id = handlers.register_kamer(commands.RegisterKamer("Buurtkamer Bilgaard", 53.2155, 5.7957), uow)
    token_id, token = handlers.issue_token(commands.IssueToken(Role.KAMER, kamer_id=kamer_id), uow)
    return handlers.authenticate(token, uow)


def _submit(uow, kamer, **cmd) -> str:
    status, body = handlers.submit_request(commands.SubmitRequest(kamer, REQUEST, **cmd), uow)
    assert status == 202
    return body["id"]


def _propose(uow, request_id, volunteer_id, assignment_id="a-1", decision=0):
    event = new_event("assignment.proposed", {
        "assignment_id": assignment_id, "request_id": request_id, "volunteer_id": volunteer_id, "kamer_id": "k",
        "region": "leeuwarden", "distance_km": 1.2, "explanation": {"distance_km": 1.2},
        "decision": decision}, correlation_id=request_id)
    events.on_assignment_proposed(parse(event.to_json()), uow)
    return assignment_id


def test_a_submitted_request_is_received_and_announced_without_the_person(uow, kamer):
    request_id = _submit(uow, kamer)
    assert uow.store.requests[request_id].status == "received"
    kamer_registered, submitted, contact = uow.store.outbox
    assert kamer_registered.event_type == "kamer.registered"
    assert (submitted.event_type, submitted.correlation_id) == ("request.submitted", request_id)
    assert submitted.data["location"] == {"lat": 53.225, "lon": 5.753}
    assert "Jan" not in repr(submitted.data) and contact.data["first_name"] == "Jan"
    assert ("create", "request", request_id) in [a[1:] for a in uow.store.audit]


def test_the_callers_correlation_id_goes_on_the_events(uow, kamer):
    _submit(uow, kamer, correlation_id="kamer-trace-7")
    assert [(e.event_type, e.correlation_id) for e in uow.store.outbox[-2:]] == [
        ("request.submitted", "kamer-trace-7"), ("contact.resident", "kamer-trace-7")]


def test_an_idempotency_key_replays_and_refuses_another_body(uow, kamer):
    first = _submit(uow, kamer, idempotency_key="k1", body_hash="h1")
    assert _submit(uow, kamer, idempotency_key="k1", body_hash="h1") == first
    with pytest.raises(handlers.IdempotencyKeyReused):
        _submit(uow, kamer, idempotency_key="k1", body_hash="h2")
    assert len(uow.store.requests) == 1


def test_a_request_is_queued_once_its_event_is_on_the_bus_unless_it_moved_on(uow, kamer):
    waiting, cancelled = _submit(uow, kamer), _submit(uow, kamer)
    handlers.cancel_request(commands.CancelRequest(kamer, cancelled), uow)
    events.requests_reached_matching([waiting, cancelled], uow.requests)
    assert uow.store.requests[waiting].status == "queued"
    assert uow.store.requests[cancelled].status == "cancelled"


def test_approving_twice_is_a_conflict_that_changes_nothing(uow, kamer):
    request_id = _submit(uow, kamer)
    volunteer = handlers.register_volunteer(commands.RegisterVolunteer(kamer, VOLUNTEER), uow)
    assignment_id = _propose(uow, request_id, volunteer.id)
    assignment, request = workflow.approve(commands.Approve(kamer, assignment_id), uow)
    assert (assignment.status, request.status) == ("approved", "approved")
    before = list(uow.store.outbox)
    with pytest.raises(Conflict):
        workflow.approve(commands.Approve(kamer, assignment_id), uow)
    assert uow.store.outbox == before


def test_another_kamers_assignment_is_not_found(uow, kamer):
    request_id = _submit(uow, kamer)
    assignment_id = _propose(uow, request_id, "v-1")
    other_id = handlers.register_kamer(commands.RegisterKamer("De Wjukken", 53.13, 5.72), uow)
    _, token = handlers.issue_token(commands.IssueToken(Role.KAMER, kamer_id=other_id), uow)
    with pytest.raises(NotFound):
        workflow.approve(commands.Approve(handlers.authenticate(token, uow), assignment_id), uow)


def test_an_older_decision_after_a_newer_one_is_ignored(uow, kamer):
    request_id = _submit(uow, kamer)
    _propose(uow, request_id, "v-2", "a-2", decision=2)
    _propose(uow, request_id, "v-1", "a-1", decision=1)
    assert set(uow.store.assignments) == {"a-2"}
    assert [(h.note_code, h.note_params) for h in uow.store.history if h.note_code == "decision_overtaken"] == [
        ("decision_overtaken", {"decision": 1})]


def test_a_proposal_and_an_unmatched_request_keep_matchings_codes_not_sentences(uow, kamer):
    proposed, lonely = _submit(uow, kamer), _submit(uow, kamer)
    runner_up = {"volunteer_id": "v-2", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3}, "rule": None}
    event = new_event("assignment.proposed", {
        "assignment_id": "a-1", "request_id": proposed, "volunteer_id": "v-1", "kamer_id": "k",
        "region": "leeuwarden", "distance_km": 1.2, "explanation": {"distance_km": 1.2, "runner_up": runner_up}},
        correlation_id=proposed)
    events.on_assignment_proposed(parse(event.to_json()), uow)
    assert uow.store.assignments["a-1"].explanation["runner_up"]["reason"] == {"code": "further", "km": 1.3}
    assert [(h.status, h.note, h.note_code) for h in uow.store.history if h.request_id == proposed][-1] == (
        "proposed", None, None)  # the explanation says why; the step needs no words

    event = new_event("request.unmatched", {"request_id": lonely, "kamer_id": "k", "region": "leeuwarden",
                                            "reasons": {"skills": 2, "distance": 1}, "considered": 4},
                      correlation_id=lonely)
    events.on_request_unmatched(parse(event.to_json()), uow)
    request = uow.store.requests[lonely]
    assert (request.status, request.reasons, request.considered) == ("unmatched", {"skills": 2, "distance": 1}, 4)
    [last] = [h for h in uow.store.history if h.request_id == lonely][-1:]
    assert (last.note, last.note_code, last.note_params) == (
        None, "unmatched", {"reasons": {"skills": 2, "distance": 1}, "considered": 4})


EXPLANATION = {"distance_km": 1.2, "skills_matched": ["pets"],
               "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3},
                             "rule": None}}


def _proposal(request_id, volunteer_id, assignment_id="a-1"):
    """matching's assignment.proposed as intake's consumer hands it over (parsed from JSON)."""
    return parse(new_event("assignment.proposed", {
        "assignment_id": assignment_id, "request_id": request_id, "volunteer_id": volunteer_id, "kamer_id": "k",
        "region": "leeuwarden", "distance_km": 1.2, "explanation": EXPLANATION, "decision": 1},
        correlation_id=request_id).to_json())


def _auto_approve(uow, kamer, categories):
    _, token = handlers.issue_token(commands.IssueToken(Role.COORDINATOR, region="leeuwarden"), uow)
    workflow.set_auto_approve_categories(
        commands.SetAutoApprove(handlers.authenticate(token, uow), kamer.kamer_id, categories), uow)


def test_a_proposal_the_policy_does_not_approve_asks_the_kamer_to_review_it_once(uow, kamer):
    _auto_approve(uow, kamer, ["shopping"])  # a policy, but not for pets
    request_id = _submit(uow, kamer)
    before = len(uow.store.outbox)
    proposal = _proposal(request_id, "v-1")
    events.on_assignment_proposed(proposal, uow)
    events.on_assignment_proposed(proposal, uow)  # redelivered: already done
    (review,) = uow.store.outbox[before:]
    assert review.event_type == "assignment.review_requested"
    assert review.data == {"assignment_id": "a-1", "request_id": request_id, "volunteer_id": "v-1",
                           "kamer_id": kamer.kamer_id, "region": "leeuwarden", "distance_km": 1.2,
                           "explanation": EXPLANATION, "urgency": "normal"}
    assert (review.correlation_id, review.kamer_id) == (request_id, kamer.kamer_id)
    assert uow.store.requests[request_id].status == "proposed"
    assert uow.store.assignments["a-1"].status == "proposed"
    assert "assignment.approved" not in uow.events


def test_a_proposal_the_policy_approves_is_approved_at_once_and_asks_nobody_to_review(uow, kamer):
    _auto_approve(uow, kamer, ["pets"])
    request_id = _submit(uow, kamer)
    before = len(uow.store.outbox)
    events.on_assignment_proposed(_proposal(request_id, "v-1"), uow)
    (approved,) = uow.store.outbox[before:]
    assert approved.event_type == "assignment.approved"
    assert (approved.data["assignment_id"], approved.data["auto"], approved.data["actor"]) == ("a-1", True, "policy")
    assert uow.store.requests[request_id].status == "approved"
    assert "assignment.review_requested" not in uow.events


def test_erasing_a_volunteer_declines_their_proposal_and_forgets_them(uow, kamer):
    request_id = _submit(uow, kamer)
    volunteer = handlers.register_volunteer(commands.RegisterVolunteer(kamer, VOLUNTEER), uow)
    assignment_id = _propose(uow, request_id, volunteer.id)
    privacy.erase_volunteer(commands.EraseVolunteer(volunteer.id), uow)
    erased = uow.store.volunteers[volunteer.id]
    assert (erased.name, erased.email, erased.home_lat, erased.home_lon) == ("", None, 53.201, 5.8)
    assert uow.store.assignments[assignment_id].status == "declined"
    assert uow.store.requests[request_id].status == "queued"
    assert uow.events[-2:] == ["assignment.declined", "personal_data.erased"]


def test_a_failed_handler_leaves_nothing_behind(uow, kamer):
    bad = {**REQUEST, "window": {"start": SOON, "end": SOON - timedelta(hours=1)}}
    with pytest.raises(ValueError):
        handlers.submit_request(commands.SubmitRequest(kamer, bad), uow)
    assert uow.store.requests == {} and not [e for e in uow.events if e == "request.submitted"]


def _delivery(request_id, channel="email", **extra):
    return {"notification_id": f"n-{request_id}-{channel}", "source_event_id": "e-1",
            "source_event_type": "assignment.approved", "request_id": request_id, "recipient_kind": "volunteer",
            "channel": channel, "template": "volunteer_offer", "language": "nl", **extra}


def _sent_notes(uow):
    return [(h.request_id, h.actor, h.note_code, h.note_params) for h in uow.store.history
            if h.note_code == "notification_sent"]


def test_a_batch_of_deliveries_is_noted_in_each_known_request_once(uow, kamer):
    first, second = _submit(uow, kamer), _submit(uow, kamer)
    sent = new_event("notification.sent", {"deliveries": [
        _delivery(first, correlation_id=first), _delivery(second, correlation_id=second),
        _delivery(second, "sms", correlation_id=second), _delivery("erased-or-unknown", correlation_id="c")]},
        correlation_id="batch-1", kamer_id="k")
    events.on_notification_sent(parse(sent.to_json()), uow)
    events.on_notification_sent(parse(sent.to_json()), uow)  # redelivered: noted once
    params = {"template": "volunteer_offer", "recipient_kind": "volunteer"}
    assert _sent_notes(uow) == [(first, "notify", "notification_sent", {**params, "channel": "email"}),
                                (second, "notify", "notification_sent", {**params, "channel": "email"}),
                                (second, "notify", "notification_sent", {**params, "channel": "sms"})]


def test_a_single_delivery_of_the_first_version_is_still_noted(uow, kamer):
    """An older notify, or a dead letter replayed after the upgrade, brings version 1."""
    request_id = _submit(uow, kamer)
    body = json.loads(new_event("notification.sent", {"deliveries": [_delivery(request_id, correlation_id="c")]},
                                correlation_id=request_id, kamer_id="k").to_json())
    body["schema_version"], body["data"] = 1, _delivery(request_id)
    events.on_notification_sent(parse(json.dumps(body)), uow)
    assert [(r, code) for r, _, code, _ in _sent_notes(uow)] == [(request_id, "notification_sent")]
