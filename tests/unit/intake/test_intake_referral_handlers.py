"""Referring and answering on the in-memory unit of work: the rules of service_layer.referrals
without a database (the same rules over HTTP: tests/integration/intake)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_fakes import FakeUnitOfWork

from mienskip_intake.domain import commands
from mienskip_intake.domain import referral_commands as rc
from mienskip_intake.domain.model import InvalidRequest, Principal, Role
from mienskip_intake.service_layer import handlers, providers, referrals
from mienskip_intake.service_layer.common import Conflict, NotFound

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
REQUEST = {"resident": {"name": "Jan Hoekstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "buddy",
           "window": {"start": SOON, "end": SOON + timedelta(hours=1)}}


@pytest.fixture
def uow():
    return FakeUnitOfWork()


@pytest.fixture
def world(uow):
    kamer_id = handlers.register_kamer(commands.RegisterKamer("Buurtkamer Bilgaard", 53.2155, 5.7957), uow)
    _, token = handlers.issue_token(commands.IssueToken(Role.KAMER, kamer_id=kamer_id), uow)
    coordinator = Principal("c", Role.COORDINATOR, region="leeuwarden")
    provider = providers.register_provider(rc.RegisterProvider(coordinator, {
        "name": "Sociaal Wijkteam", "kind": "wijkteam", "categories": ["buddy"], "email": None}), uow)
    return handlers.authenticate(token, uow), coordinator, provider


def _professional(uow, kamer) -> str:
    return handlers.submit_request(commands.SubmitRequest(kamer, {**REQUEST, "helper": "professional"}), uow)[1]["id"]


def _link(referral) -> Principal:
    return Principal(referral.provider_id, Role.PROVIDER, provider_id=referral.provider_id, referral_id=referral.id)


def test_a_second_referral_while_one_is_open_is_a_409_that_changes_nothing(uow, world):
    kamer, _, provider = world
    request_id = _professional(uow, kamer)
    referrals.refer(rc.Refer(kamer, request_id, provider.id), uow)
    before = (dict(uow.store.referrals), len(uow.store.outbox))
    with pytest.raises(Conflict) as refused:
        referrals.refer(rc.Refer(kamer, request_id, provider.id), uow)
    assert refused.value.code == "referral_open" and (dict(uow.store.referrals), len(uow.store.outbox)) == before


def test_a_volunteer_request_still_being_matched_is_not_referred(uow, world):
    kamer, _, provider = world
    _, body = handlers.submit_request(commands.SubmitRequest(kamer, REQUEST), uow)
    with pytest.raises(Conflict) as refused:
        referrals.refer(rc.Refer(kamer, body["id"], provider.id), uow)
    assert refused.value.code == "not_referable"


def test_an_inactive_provider_is_a_422_on_provider_id(uow, world):
    kamer, coordinator, provider = world
    providers.update_provider(rc.UpdateProvider(coordinator, provider.id, {"active": False}), uow)
    with pytest.raises(InvalidRequest) as refused:
        referrals.refer(rc.Refer(kamer, _professional(uow, kamer), provider.id), uow)
    assert refused.value.field == "provider_id"


def test_a_link_answers_its_own_referral_only_and_a_decline_needs_a_reason(uow, world):
    kamer, _, provider = world
    first = referrals.refer(rc.Refer(kamer, _professional(uow, kamer), provider.id), uow)
    second = referrals.refer(rc.Refer(kamer, _professional(uow, kamer), provider.id), uow)
    with pytest.raises(NotFound):
        referrals.accept(rc.AcceptReferral(_link(first), second.id), uow)
    with pytest.raises(InvalidRequest):
        referrals.decline(rc.DeclineReferral(_link(first), first.id, "  "), uow)
    declined = referrals.decline(rc.DeclineReferral(_link(first), first.id, "Vol"), uow)
    assert (declined.status, declined.answered_by) == ("declined", "provider")
    with pytest.raises(Conflict) as repeated:
        referrals.decline(rc.DeclineReferral(_link(first), first.id, "Vol"), uow)
    assert repeated.value.code == "referral_transition"


def test_every_provider_change_is_announced_with_a_higher_revision(uow, world):
    _, coordinator, provider = world
    providers.update_provider(rc.UpdateProvider(coordinator, provider.id, {"phone": "058 233 44 00"}), uow)
    providers.update_provider(rc.UpdateProvider(coordinator, provider.id, {"answer_within_days": 3}), uow)
    announced = [(e.event_type, e.data["revision"]) for e in uow.store.outbox if e.event_type.startswith("provider.")]
    assert announced == [("provider.registered", 0), ("provider.updated", 1), ("provider.updated", 2)]
    with pytest.raises(NotFound):  # another region's coordinator
        providers.update_provider(rc.UpdateProvider(Principal("x", Role.COORDINATOR, region="sudwest-fryslan"),
                                                    provider.id, {"phone": None}), uow)
