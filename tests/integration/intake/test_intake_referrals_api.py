"""Care providers and referrals over HTTP (issue 13), on SQLite and PostgreSQL: who may
register and read providers, who helps on a request, referring, the provider's answer
through its link, overdue, cancel and erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_support import PROVIDER, issue_token, propose, provider_headers, register_provider, unmatch, uow
from sqlalchemy import select

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain import commands
from mienskip_intake.domain import referral_commands as rc
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import privacy, referrals
from mienskip_shared.contracts import parse

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
REQUEST = {"resident": {"name": "Sjoukje Dijkstra", "phone": "+31612345678",
                        "address": "Tjerk Hiddesstraat 3, 8921 AB Leeuwarden"},
           "location": {"lat": 53.2, "lon": 5.8}, "category": "paperwork",
           "window": {"start": IN_A_WEEK.isoformat(), "end": (IN_A_WEEK + timedelta(hours=1)).isoformat()}}


def _events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)
                          .order_by(t.outbox.c.id)).all()
    return [parse(r.body) for r in rows]


@pytest.fixture
def provider_id(client, coordinator):
    return register_provider(client, coordinator)


def _submit(client, kamer, **extra):
    answer = client.post("/v1/requests", json={**REQUEST, **extra}, headers=kamer.headers)
    assert answer.status_code == 202, answer.get_json()
    return answer.get_json()["id"]


def test_a_coordinator_registers_and_changes_a_provider_and_each_change_is_announced(client, intake, coordinator,
                                                                                    kamer_a):
    created = client.post("/v1/providers", json=PROVIDER, headers=coordinator)
    assert created.status_code == 201
    provider = created.get_json()
    assert (provider["region"], provider["answer_within_days"], provider["language"]) == ("leeuwarden", 2, "nl")
    changed = client.patch(f"/v1/providers/{provider['id']}", json={"answer_within_days": 3, "active": False},
                           headers=coordinator)
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    registered, updated = _events(intake.engine, "provider.registered"), _events(intake.engine, "provider.updated")
    assert registered[0].data["revision"] == 0 and updated[0].data["revision"] == 1
    assert updated[0].data["active"] is False
    assert client.get("/v1/providers", headers=kamer_a.headers).get_json()["items"][0]["id"] == provider["id"]
    assert client.post("/v1/providers", json=PROVIDER, headers=kamer_a.headers).status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"kind": "bakker"}, "kind"), ({"webhook_url": "http://wijkteam.example.org/hook"}, "webhook_url"),
    ({"categories": []}, "categories"), ({"email": "not-an-address"}, "email"), ({"kamer_ids": ["nope"]}, "kamer_ids"),
    ({"answer_within_days": 0}, "answer_within_days")])
def test_a_provider_body_is_checked_field_by_field(client, coordinator, body, field):
    answer = client.post("/v1/providers", json={**PROVIDER, **body}, headers=coordinator)
    assert answer.status_code == 422 and field in answer.get_json()["errors"], answer.get_json()


def test_a_local_http_webhook_is_allowed(client, coordinator):
    assert register_provider(client, coordinator, webhook_url="http://127.0.0.1:9000/hook")


def test_another_regions_coordinator_sees_nothing(client, intake, coordinator, provider_id):
    _, token = issue_token(intake.engine, Role.COORDINATOR, region="sudwest-fryslan")
    other = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/v1/providers/{provider_id}", headers=other).status_code == 404
    assert client.patch(f"/v1/providers/{provider_id}", json={"name": "x"}, headers=other).status_code == 404
    assert client.get("/v1/providers", headers=other).get_json()["items"] == []
    assert client.post("/v1/providers", json={**PROVIDER, "region": "leeuwarden"}, headers=other).status_code == 404


def test_a_provider_for_some_kamers_only_is_not_seen_by_another(client, coordinator, kamer_a, kamer_b):
    provider_id = register_provider(client, coordinator, kamer_ids=[kamer_a.id])
    assert client.get(f"/v1/providers/{provider_id}", headers=kamer_a.headers).status_code == 200
    assert client.get(f"/v1/providers/{provider_id}", headers=kamer_b.headers).status_code == 404
    request_id = _submit(client, kamer_b, helper="professional")
    refused = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id}, headers=kamer_b.headers)
    assert refused.status_code == 422 and "provider_id" in refused.get_json()["errors"]


def test_a_professional_request_is_referred_at_once_and_never_reaches_matching(client, intake, kamer_a, provider_id):
    request_id = _submit(client, kamer_a, helper="professional", provider_id=provider_id)
    assert _events(intake.engine, "request.submitted") == []
    sent = _events(intake.engine, "referral.sent")[0]
    assert (sent.data["request_id"], sent.data["provider_id"], sent.data["helper"]) == (
        request_id, provider_id, "professional")
    assert "Sjoukje" not in repr(sent.data) and "Hiddes" not in repr(sent.data)
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert shown["helper"] == "professional"
    assert shown["referral"] == {"id": sent.data["referral_id"], "provider_id": provider_id, "status": "sent"}
    assert "referred" in [h["note_code"] for h in shown["history"]]


def test_a_volunteer_request_answers_as_before(client, kamer_a):
    request_id = _submit(client, kamer_a)
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert shown["helper"] == "volunteer" and "referral" not in shown


def test_a_provider_id_with_a_volunteer_or_an_unknown_provider_is_a_422_storing_nothing(client, intake, kamer_a,
                                                                                       provider_id):
    for extra in ({"provider_id": provider_id}, {"helper": "both", "provider_id": "nope"}):
        answer = client.post("/v1/requests", json={**REQUEST, **extra}, headers=kamer_a.headers)
        assert answer.status_code == 422 and "provider_id" in answer.get_json()["errors"]
    with intake.engine.begin() as tx:
        assert tx.execute(select(t.requests.c.id)).all() == []


def test_the_provider_accepts_through_its_link_and_a_professional_request_completes(client, intake, kamer_a,
                                                                                      provider_id):
    request_id = _submit(client, kamer_a, helper="professional", provider_id=provider_id)
    referral_id = _events(intake.engine, "referral.sent")[0].data["referral_id"]
    link = provider_headers(referral_id, provider_id)
    before = client.get(f"/v1/referrals/{referral_id}", headers=link).get_json()
    assert before["request"]["first_name"] == "Sjoukje" and before["request"].get("address") is None
    assert before["kamer"]["name"] == "Buurtkamer Bilgaard"
    when = (IN_A_WEEK + timedelta(hours=2)).isoformat()
    accepted = client.post(f"/v1/referrals/{referral_id}/accept", json={"who": "Marrit (wijkteam)", "when": when},
                           headers=link)
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["request"]["address"].startswith("Tjerk Hiddesstraat")
    again = client.post(f"/v1/referrals/{referral_id}/accept", json={}, headers=link)
    assert again.status_code == 409
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert shown["status"] == "completed" and shown["referral"]["status"] == "closed"
    assert _events(intake.engine, "referral.accepted")[0].data["who"] == "Marrit (wijkteam)"
    assert len(_events(intake.engine, "request.completed")) == 1
    # the link holds nothing else
    assert client.get(f"/v1/requests/{request_id}", headers=link).status_code == 403
    assert client.get("/v1/providers", headers=link).status_code == 403


def test_a_link_sees_its_own_referral_only(client, intake, kamer_a, coordinator, provider_id):
    other_provider = register_provider(client, coordinator, name="Schuldhulp Leeuwarden", kind="schuldhulp")
    first = _submit(client, kamer_a, helper="professional", provider_id=provider_id)
    second = _submit(client, kamer_a, helper="professional", provider_id=other_provider)
    ids = {e.data["request_id"]: e.data["referral_id"] for e in _events(intake.engine, "referral.sent")}
    link = provider_headers(ids[first], provider_id)
    assert client.get(f"/v1/referrals/{ids[second]}", headers=link).status_code == 404
    assert client.post(f"/v1/referrals/{ids[second]}/accept", json={}, headers=link).status_code == 404
    forged = provider_headers(ids[first], other_provider)  # signed, but for another provider than the referral's
    assert client.get(f"/v1/referrals/{ids[first]}", headers=forged).status_code == 404
    tampered = {"Authorization": link["Authorization"][:-3] + "abc"}
    assert client.get(f"/v1/referrals/{ids[first]}", headers=tampered).status_code == 401


def test_a_decline_needs_a_reason_and_the_kamer_then_refers_to_another(client, intake, kamer_a, coordinator,
                                                                          provider_id):
    request_id = _submit(client, kamer_a, helper="professional")
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "received"
    referred = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id, "note": "Belt u eerst"},
                           headers=kamer_a.headers)
    assert referred.status_code == 200 and referred.get_json()["note"] == "Belt u eerst"
    referral_id = referred.get_json()["id"]
    again = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id}, headers=kamer_a.headers)
    assert again.status_code == 409  # one open referral per request
    link = provider_headers(referral_id, provider_id)
    assert client.post(f"/v1/referrals/{referral_id}/decline", json={}, headers=link).status_code == 422
    declined = client.post(f"/v1/referrals/{referral_id}/decline", json={"reason": "Geen plek deze maand"},
                           headers=link)
    assert declined.get_json()["status"] == "declined"
    assert client.post(f"/v1/referrals/{referral_id}/accept", json={}, headers=link).status_code == 409
    other = register_provider(client, coordinator, name="Thuiszorg Het Friese Land", kind="thuiszorg")
    second = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": other}, headers=coordinator)
    assert second.status_code == 200
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert shown["referral"]["id"] == second.get_json()["id"]
    closed = [h for h in shown["history"] if h["note_code"] == "referral_closed"]
    assert closed and closed[0]["note_params"]["referral_id"] == referral_id
    assert client.get(f"/v1/referrals/{referral_id}", headers=link).get_json()["status"] == "closed"


def test_an_unmatched_volunteer_request_is_referred_and_completes_as_a_professionals(client, intake, kamer_a,
                                                                                       provider_id):
    request_id = _submit(client, kamer_a)
    refused = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id}, headers=kamer_a.headers)
    assert refused.status_code == 409  # a volunteer request still being matched
    unmatch(intake.engine, request_id)
    referral = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id},
                           headers=kamer_a.headers).get_json()
    client.post(f"/v1/referrals/{referral['id']}/accept", json={}, headers=kamer_a.headers)  # said by phone
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert (shown["helper"], shown["status"]) == ("professional", "completed")
    assert _events(intake.engine, "referral.accepted")[0].data["actor"] == "kamer"


def test_both_waits_for_the_volunteers_part_too(client, intake, kamer_a, provider_id):
    request_id = _submit(client, kamer_a, helper="both", provider_id=provider_id)
    assert _events(intake.engine, "request.submitted")[0].data["helper"] == "both"
    volunteer = client.post("/v1/volunteers", json={"name": "Anna de Vries", "home": {"lat": 53.2, "lon": 5.8},
                                                    "skills": ["paperwork"], "availability": []}, headers=kamer_a.headers)
    assignment_id = propose(intake.engine, request_id, volunteer.get_json()["id"])
    referral_id = _events(intake.engine, "referral.sent")[0].data["referral_id"]
    client.post(f"/v1/referrals/{referral_id}/accept", json={}, headers=provider_headers(referral_id, provider_id))
    client.post(f"/v1/assignments/{assignment_id}/approve", headers=kamer_a.headers)
    client.post(f"/v1/assignments/{assignment_id}/accept", headers=kamer_a.headers)
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert (shown["status"], shown["assignment"]["status"], shown["referral"]["status"]) == (
        "accepted", "accepted", "accepted")
    assert _events(intake.engine, "request.completed") == []  # the visit (issue 17) completes it


def test_an_unanswered_referral_goes_overdue_once_and_may_then_be_replaced(client, intake, kamer_a, provider_id):
    request_id = _submit(client, kamer_a, helper="professional", provider_id=provider_id)
    sent = _events(intake.engine, "referral.sent")[0]
    assert referrals.mark_overdue(rc.MarkOverdueReferrals(now=sent.data["due_at"] - timedelta(minutes=1)),
                                  uow(intake.engine)) == 0
    later = sent.data["due_at"] + timedelta(minutes=1)
    assert referrals.mark_overdue(rc.MarkOverdueReferrals(now=later), uow(intake.engine)) == 1
    assert referrals.mark_overdue(rc.MarkOverdueReferrals(now=later), uow(intake.engine)) == 0
    overdue = _events(intake.engine, "referral.overdue")
    assert len(overdue) == 1 and overdue[0].data["actor"] == "policy"
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["referral"]["status"] == (
        "overdue")
    assert client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id},
                       headers=kamer_a.headers).status_code == 200


def test_cancelling_closes_the_referral_and_erasure_removes_its_words(client, intake, kamer_a, provider_id):
    request_id = _submit(client, kamer_a, helper="professional")
    referral_id = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id,
                                                                        "note": "Mevrouw Dijkstra is doof"},
                              headers=kamer_a.headers).get_json()["id"]
    link = provider_headers(referral_id, provider_id)
    client.post(f"/v1/referrals/{referral_id}/decline", json={"reason": "Mevrouw Dijkstra is al cliënt"}, headers=link)
    assert client.post(f"/v1/requests/{request_id}/cancel", headers=kamer_a.headers).status_code == 200
    assert client.get(f"/v1/referrals/{referral_id}", headers=kamer_a.headers).get_json()["status"] == "closed"
    privacy.erase_resident(commands.EraseResident(request_id), uow(intake.engine))
    with intake.engine.begin() as tx:
        row = tx.execute(select(t.referrals).where(t.referrals.c.id == referral_id)).one()
    assert (row.note, row.reason, row.answer_note) == (None, None, None)


def test_the_overdue_worker_runs_on_its_injected_clock(client, intake, kamer_a, provider_id):
    from mienskip_intake.entrypoints.workers import overdue_referral_worker

    _submit(client, kamer_a, helper="professional", provider_id=provider_id)
    due_at = _events(intake.engine, "referral.sent")[0].data["due_at"]
    worker = overdue_referral_worker(lambda: uow(intake.engine), clock=lambda: due_at + timedelta(seconds=1))
    assert worker._step() is True and worker._step() is False  # one marked; then nothing left
    assert len(_events(intake.engine, "referral.overdue")) == 1
