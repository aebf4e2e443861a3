"""Erasure, retention and the audit log (AVG/GDPR), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from mienskip_intake.adapters import tables as t
from mienskip_intake.service_layer import privacy
from mienskip_shared.contracts import parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
REQUEST = {"resident": {"name": "Sjoerd Wâldsma", "phone": "+31612345678", "address": "Skoalstrjitte 1, Grou"},
           "location": {"lat": 53.09461, "lon": 5.83742}, "category": "buddy", "notes": "Hy hat in hûn",
           "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
VOLUNTEER = {"name": "Anna de Vries", "email": "anna@example.org", "phone": "+31612345678",
             "home": {"lat": 53.20123, "lon": 5.79991}, "skills": ["buddy"], "vog_checked_on": "2026-01-02",
             "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}


def _erased_events(engine):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == "personal_data.erased")).all()
    return [parse(r.body).data for r in rows]


def test_erasing_a_resident_keeps_the_facts_and_removes_the_person(client, intake, kamer_a):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    privacy.erase_resident(intake.engine, request_id)
    body = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert body["resident"] == {"name": None, "phone": None, "address": None, "language": "nl"}
    assert body["category"] == "buddy" and body["status"] == "received"
    with intake.engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).one()
    assert (row.lat, row.lon, row.notes) == (53.095, 5.837, None) and row.erased_at is not None
    assert _erased_events(intake.engine) == [{"subject_kind": "resident", "subject_id": request_id,
                                              "kamer_id": kamer_a.id, "reason": "request"}]
    privacy.erase_resident(intake.engine, request_id)  # twice is fine, and announced once
    assert len(_erased_events(intake.engine)) == 1


def test_erasing_a_volunteer(client, intake, kamer_a):
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    privacy.erase_volunteer(intake.engine, volunteer_id)
    body = client.get(f"/v1/volunteers/{volunteer_id}", headers=kamer_a.headers).get_json()
    assert (body["name"], body["email"], body["phone"], body["vog_checked_on"]) == ("", None, None, None)
    assert body["home"] == {"lat": 53.201, "lon": 5.8}
    assert _erased_events(intake.engine)[0]["subject_kind"] == "volunteer"


def test_retention_anonymises_only_what_is_old_and_closed(client, intake, kamer_a):
    old_cancelled = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    client.post(f"/v1/requests/{old_cancelled}/cancel", json={}, headers=kamer_a.headers)
    recent_open = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    later = datetime.now(UTC) + timedelta(days=1)
    assert privacy.apply_retention(intake.engine, timedelta(hours=1), at=later) == 1  # the cancelled one
    assert privacy.apply_retention(intake.engine, timedelta(hours=1), at=later) == 0
    with intake.engine.begin() as tx:
        erased = {r.id for r in tx.execute(select(t.requests.c.id).where(t.requests.c.erased_at.is_not(None)))}
    assert erased == {old_cancelled}
    much_later = SOON + timedelta(days=400)  # the open one's task ended long ago
    assert privacy.apply_retention(intake.engine, timedelta(days=365), at=much_later) == 1
    assert recent_open in {e["subject_id"] for e in _erased_events(intake.engine)}


def test_the_audit_log_is_for_coordinators_and_names_who_did_what(client, intake, kamer_a, coordinator):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    client.get(f"/v1/requests/{request_id}", headers=coordinator)
    assert client.get("/v1/audit", headers=kamer_a.headers).status_code == 403
    items = client.get(f"/v1/audit?subject_id={request_id}", headers=coordinator).get_json()["items"]
    assert [(i["action"], i["role"]) for i in items] == [("read", "coordinator"), ("create", "kamer")]
    assert items[1]["token_id"] == kamer_a.token_id


def test_audit_is_limited_to_the_coordinators_region(client, intake, kamer_a):
    from mienskip_intake.domain.model import Role
    from mienskip_intake.service_layer import handlers

    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    _, other = handlers.issue_token(intake.engine, Role.COORDINATOR, region="sudwest-fryslan")
    items = client.get("/v1/audit", headers={"Authorization": f"Bearer {other}"}).get_json()["items"]
    assert request_id not in {i["subject_id"] for i in items}
    assert client.get(f"/v1/requests/{request_id}", headers={"Authorization": f"Bearer {other}"}).status_code == 404
