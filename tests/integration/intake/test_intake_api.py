"""API.md's contract for intake, on SQLite and on real PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import uow
from sqlalchemy import func, select

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.commands import RevokeToken
from mienskip_intake.service_layer import handlers
from mienskip_shared.contracts import parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)

VOLUNTEER = {
    "name": "Anna de Vries", "email": "anna@example.org", "phone": "+31612345678",
    "language": "nl", "languages": ["nl", "fy"], "home": {"lat": 53.2012, "lon": 5.7999},
    "skills": ["buddy", "transport"], "has_car": True, "vog_checked_on": "2026-03-01",
    "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}],
    "max_tasks_per_week": 3, "max_distance_km": 10,
}
REQUEST = {
    "resident": {"name": "Jan Hoekstra", "phone": "+31587123456", "language": "fy",
                 "address": "Tsjerkepaed 3, 9001 AB Grou"},
    "location": {"lat": 53.2251, "lon": 5.7530}, "category": "pets", "skills": ["pets"],
    "needs_vog": False, "needs_language": None,
    "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()},
    "recurrence": None, "urgency": "normal", "notes": "Hond uitlaten, rustige herder",
}


def _outbox(engine):
    with engine.begin() as tx:
        return [parse(row.body) for row in tx.execute(select(t.outbox).order_by(t.outbox.c.id))]


def test_volunteer_is_registered_and_announced_without_personal_data(client, intake, kamer_a):
    r = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers)
    assert r.status_code == 201
    body = r.get_json()
    assert body["name"] == "Anna de Vries" and body["kamer_id"] == kamer_a.id
    assert body["availability"] == VOLUNTEER["availability"]
    event = [e for e in _outbox(intake.engine) if e.event_type == "volunteer.registered"][0]
    assert event.data["volunteer_id"] == body["id"]
    flat = repr(event.data)
    for secret in ("Anna", "anna@example.org", "+31612345678"):
        assert secret not in flat
    assert event.data["home"] == {"lat": 53.201, "lon": 5.8}  # ~100 m


def test_request_is_stored_with_its_event_before_the_202(client, intake, kamer_a):
    r = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers)
    assert r.status_code == 202
    assert r.get_json()["status"] == "received"
    request_id = r.get_json()["id"]
    events = [e for e in _outbox(intake.engine) if e.event_type == "request.submitted"]
    assert [e.data["request_id"] for e in events] == [request_id]
    flat = repr(events[0].data)
    for secret in ("Jan", "Hoekstra", "+31587123456", "Tsjerkepaed", "Hond"):
        assert secret not in flat
    got = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert got["status"] == "received" and got["resident"]["address"] == "Tsjerkepaed 3, 9001 AB Grou"


def test_unicode_comes_back_byte_for_byte(client, kamer_a):
    body = copy.deepcopy(REQUEST)
    body["resident"]["name"] = "Sjoukje Dijkstra-Wâldsêne ú 🙂 عائشة"
    body["notes"] = "Kin ien myn hûn útlitte? 🐕"
    request_id = client.post("/v1/requests", json=body, headers=kamer_a.headers).get_json()["id"]
    got = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers)
    assert "Sjoukje Dijkstra-Wâldsêne ú 🙂 عائشة".encode() in got.data


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}])
def test_missing_or_wrong_token_is_401(client, headers):
    r = client.post("/v1/requests", json=REQUEST, headers=headers)
    assert r.status_code == 401 and r.get_json()["code"] == "unauthorized"


def test_revoked_token_is_401(client, intake, kamer_a):
    assert handlers.revoke_token(RevokeToken(kamer_a.token_id), uow(intake.engine))
    assert client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).status_code == 401


def test_roles_are_enforced(client, coordinator, operator):
    assert client.post("/v1/requests", json=REQUEST, headers=coordinator).status_code == 403
    assert client.post("/v1/volunteers", json=VOLUNTEER, headers=operator).status_code == 403


def test_another_kamers_records_look_missing(client, kamer_a, kamer_b, coordinator):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    missing = client.get("/v1/requests/00000000-0000-0000-0000-000000000000", headers=kamer_b.headers)
    for probe in (
        client.get(f"/v1/requests/{request_id}", headers=kamer_b.headers),
        client.post(f"/v1/requests/{request_id}/cancel", json={}, headers=kamer_b.headers),
        client.get(f"/v1/volunteers/{volunteer_id}", headers=kamer_b.headers),
    ):
        assert probe.status_code == 404
        assert probe.get_json() == missing.get_json()
    assert client.get(f"/v1/requests/{request_id}", headers=coordinator).status_code == 200


def test_malformed_json_is_400(client, kamer_a):
    r = client.post("/v1/requests", data="{nope", headers={**kamer_a.headers, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["code"] == "malformed_json"


def test_wrong_content_type_is_415(client, kamer_a):
    r = client.post("/v1/requests", data="hallo", headers={**kamer_a.headers, "Content-Type": "text/plain"})
    assert r.status_code == 415


def test_body_over_64_kib_is_413(client, kamer_a):
    body = copy.deepcopy(REQUEST)
    body["notes"] = "x" * (1024 * 1024)
    assert client.post("/v1/requests", json=body, headers=kamer_a.headers).status_code == 413


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda b: b.update(category="flying"), "category"),
        (lambda b: b["location"].update(lat=91), "location.lat"),
        (lambda b: b["resident"].update(language="xx"), "resident.language"),
        (lambda b: b["window"].update(end=b["window"]["start"]), "window.end"),
        (lambda b: b["window"].update(start="2026-12-01T10:00:00"), "window.start"),
        (lambda b: b.update(window={"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T11:00:00+01:00"}),
         "window.end"),
        (lambda b: b.update(status="approved"), "status"),
        (lambda b: b.update(kamer_id="someone-else"), "kamer_id"),
        (lambda b: b.pop("resident"), "resident"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(client, kamer_a, change, field):
    body = copy.deepcopy(REQUEST)
    change(body)
    r = client.post("/v1/requests", json=body, headers=kamer_a.headers)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["errors"]


def test_idempotency_key_replays_the_first_answer(client, intake, kamer_a, kamer_b):
    headers = {**kamer_a.headers, "Idempotency-Key": "kamer-system-42"}
    first = client.post("/v1/requests", json=REQUEST, headers=headers)
    again = client.post("/v1/requests", json=REQUEST, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.get_json() == again.get_json()
    other = copy.deepcopy(REQUEST)
    other["notes"] = "iets anders"
    reused = client.post("/v1/requests", json=other, headers=headers)
    assert reused.status_code == 422 and "Idempotency-Key" in reused.get_json()["errors"]
    # keys are scoped per kamer: kamer B's same key is a new request
    b = client.post("/v1/requests", json=REQUEST, headers={**kamer_b.headers, "Idempotency-Key": "kamer-system-42"})
    assert b.status_code == 202 and b.get_json()["id"] != first.get_json()["id"]
    with intake.engine.begin() as tx:
        assert tx.execute(select(func.count()).select_from(t.requests)).scalar() == 2


def test_cancel_is_announced_and_cannot_repeat(client, intake, kamer_a):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    assert client.post(f"/v1/requests/{request_id}/cancel", json={"reason": "opgelost"},
                       headers=kamer_a.headers).status_code == 200
    again = client.post(f"/v1/requests/{request_id}/cancel", json={}, headers=kamer_a.headers)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    assert [e.event_type for e in _outbox(intake.engine)][-1] == "request.cancelled"


def test_health_and_openapi(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {"database": "ok", "broker": "ok"}
    spec = client.get("/openapi.json").get_json()
    assert {"/v1/requests", "/v1/volunteers", "/v1/requests/{request_id}"} <= set(spec["paths"])


def test_reads_of_personal_data_are_audited(client, intake, kamer_a):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers)
    with intake.engine.begin() as tx:
        actions = [(r.action, r.token_id) for r in tx.execute(
            select(t.audit_log).where(t.audit_log.c.subject_id == request_id).order_by(t.audit_log.c.id))]
    assert actions == [("create", kamer_a.token_id), ("read", kamer_a.token_id)]


def test_validate_checks_without_storing(client, intake, kamer_a):
    assert client.post("/v1/requests/validate", json=REQUEST, headers=kamer_a.headers).get_json() == {"valid": True}
    past = copy.deepcopy(REQUEST)
    past["window"] = {"start": "2020-01-01T10:00:00+01:00", "end": "2020-01-01T11:00:00+01:00"}
    r = client.post("/v1/requests/validate", json=past, headers=kamer_a.headers)
    assert r.status_code == 422 and "window.end" in r.get_json()["errors"]
    with intake.engine.begin() as tx:
        assert tx.execute(select(func.count()).select_from(t.requests)).scalar() == 0


def test_a_recurring_request_may_follow_an_earlier_one_of_its_series(client, intake, kamer_a):
    weekly = {**copy.deepcopy(REQUEST), "recurrence": "weekly"}
    first = client.post("/v1/requests", json=weekly, headers=kamer_a.headers).get_json()["id"]
    later = copy.deepcopy(weekly)
    later["follows"] = first
    assert client.post("/v1/requests/validate", json=later, headers=kamer_a.headers).get_json() == {"valid": True}
    r = client.post("/v1/requests", json=later, headers=kamer_a.headers)
    assert r.status_code == 202
    second = r.get_json()["id"]
    got = client.get(f"/v1/requests/{second}", headers=kamer_a.headers).get_json()
    assert (got["recurrence"], got["follows"]) == ("weekly", first)
    event = [e for e in _outbox(intake.engine) if e.event_type == "request.submitted"][-1]
    assert event.data["request_id"] == second and event.data["follows"] == first


@pytest.mark.parametrize("case, problem", [
    ("one-off", "only a recurring request"),
    ("missing", "no such request of this kamer"),
    ("other kamer", "no such request of this kamer"),  # the same answer as a missing one
    ("earlier one-off", "does not recur weekly"),
])
def test_following_is_checked_naming_the_field(client, kamer_a, kamer_b, case, problem):
    weekly = {**copy.deepcopy(REQUEST), "recurrence": "weekly"}
    earlier = {"earlier one-off": REQUEST, "other kamer": weekly}.get(case, weekly)
    owner = kamer_b if case == "other kamer" else kamer_a
    earlier_id = client.post("/v1/requests", json=earlier, headers=owner.headers).get_json()["id"]
    body = {**copy.deepcopy(REQUEST if case == "one-off" else weekly),
            "follows": "no-such-request" if case == "missing" else earlier_id}
    for path in ("/v1/requests/validate", "/v1/requests"):
        r = client.post(path, json=body, headers=kamer_a.headers)
        assert r.status_code == 422, r.get_json()
        assert any(problem in text for text in r.get_json()["errors"]["follows"])


def test_a_revoked_token_stops_working_in_another_web_worker_within_the_cache_bound(intake, database_url, tmp_path,
                                                                                     kamer_a):
    """Another web worker (a second app on the same database) remembered the token: it keeps
    answering until its cache's bound has passed, then says 401, without a restart."""
    from intake_support import TEST_SECRET
    from polling import eventually

    from mienskip_intake.bootstrap import build
    from mienskip_intake.settings import Settings

    other = build(Settings.from_env({}, database_url=database_url, broker_url="memory://", data_dir=tmp_path,
                                    secret_key=TEST_SECRET, token_cache_s=1.0), with_workers=False)
    try:
        worker = other.wsgi_app.test_client()
        assert worker.get("/v1/assignments", headers=kamer_a.headers).status_code == 200
        assert handlers.revoke_token(RevokeToken(kamer_a.token_id), uow(intake.engine))
        assert eventually(lambda: worker.get("/v1/assignments", headers=kamer_a.headers).status_code == 401,
                          timeout=10)
    finally:
        other.dispose()
