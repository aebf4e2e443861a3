"""When a request is complete: every part its helper asks for (service_layer.completion),
on the in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from intake_fakes import FakeUnitOfWork

from mienskip_intake.domain import commands
from mienskip_intake.domain import referral_commands as rc
from mienskip_intake.domain.model import Assignment, Role
from mienskip_intake.service_layer import handlers, providers, referrals
from mienskip_intake.service_layer.completion import complete_if_all_parts_done, parts_done

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
REQUEST = {"resident": {"name": "Jan Hoekstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "buddy",
           "window": {"start": SOON, "end": SOON + timedelta(hours=1)}}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def setup(uow):
    kamer_id = handlers.register_kamer(commands.RegisterKamer("Buurtkamer Bilgaard", 53.2155, 5.7957), uow)
    _, token = handlers.issue_token(commands.IssueToken(Role.KAMER, kamer_id=kamer_id), uow)
    _, coordinator_token = handlers.issue_token(commands.IssueToken(Role.COORDINATOR, region="leeuwarden"), uow)
    kamer, coordinator = handlers.authenticate(token, uow), handlers.authenticate(coordinator_token, uow)
    provider = providers.register_provider(rc.RegisterProvider(coordinator, {
        "name": "Sociaal Wijkteam", "kind": "wijkteam", "categories": ["buddy"], "email": None}), uow)
    return kamer, provider


def _submit(uow, kamer, provider, helper):
    _, body = handlers.submit_request(commands.SubmitRequest(kamer, {**REQUEST, "helper": helper,
                                                                     "provider_id": provider.id}), uow)
    return body["id"]


def _finish_volunteer_part(uow, request_id, status="completed"):
    at = datetime.now(UTC)
    uow.store.assignments["a-1"] = Assignment("a-1", request_id, "v-1", "k", status, 1.0, {}, at, at)


def _accept(uow, kamer, request_id):
    referral = uow.store.referrals[next(iter(uow.store.referrals))]
    referrals.accept(rc.AcceptReferral(kamer, referral.id, who="Marrit"), uow)


def test_a_professional_request_completes_when_the_referral_is_accepted(uow, setup):
    kamer, provider = setup
    request_id = _submit(uow, kamer, provider, "professional")
    assert parts_done(uow, uow.store.requests[request_id]) == {"professional": False}
    _accept(uow, kamer, request_id)
    assert uow.store.requests[request_id].status == "completed"
    assert [e.event_type for e in uow.store.outbox][-1] == "request.completed"
    assert next(iter(uow.store.referrals.values())).status == "closed"


def test_both_completes_only_with_the_volunteers_visit_done_too(uow, setup):
    kamer, provider = setup
    request_id = _submit(uow, kamer, provider, "both")
    _accept(uow, kamer, request_id)
    assert uow.store.requests[request_id].status != "completed"
    _finish_volunteer_part(uow, request_id, "accepted")
    assert parts_done(uow, uow.store.requests[request_id]) == {"volunteer": False, "professional": True}
    _finish_volunteer_part(uow, request_id)
    uow.store.requests[request_id] = replace(uow.store.requests[request_id], status="accepted")
    with uow:
        assert complete_if_all_parts_done(uow, uow.store.requests[request_id], datetime.now(UTC), "kamer:x")
        uow.commit()
    assert uow.store.requests[request_id].status == "completed"
    assert [e.event_type for e in uow.store.outbox].count("request.completed") == 1


def test_a_volunteer_request_needs_only_its_visit(uow, setup):
    kamer, _ = setup
    _, body = handlers.submit_request(commands.SubmitRequest(kamer, REQUEST), uow)
    request = uow.store.requests[body["id"]]
    assert parts_done(uow, request) == {"volunteer": False}
    _finish_volunteer_part(uow, request.id)
    assert parts_done(uow, request) == {"volunteer": True}
    with uow:
        assert not complete_if_all_parts_done(uow, request, datetime.now(UTC), "kamer:x")  # still received: not yet
