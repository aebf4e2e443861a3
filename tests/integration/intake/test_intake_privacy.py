"""Erasure, retention and the audit log (AVG/GDPR), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_support import issue_token, propose, uow
from sqlalchemy import func, select

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.commands import ApplyRetention, EraseResident, EraseVolunteer
from mienskip_intake.service_layer import privacy
from mienskip_shared.contracts import parse

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
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
    privacy.erase_resident(EraseResident(request_id), uow(intake.engine))
    body = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert body["resident"] == {"name": None, "phone": None, "email": None, "address": None, "language": "nl"}
    assert body["category"] == "buddy" and body["status"] == "received"
    with intake.engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).one()
    assert (row.lat, row.lon, row.notes) == (53.095, 5.837, None) and row.erased_at is not None
    assert _erased_events(intake.engine) == [{"subject_kind": "resident", "subject_id": request_id,
                                              "kamer_id": kamer_a.id, "reason": "request"}]
    privacy.erase_resident(EraseResident(request_id), uow(intake.engine))  # twice is fine, and announced once
    assert len(_erased_events(intake.engine)) == 1


def test_erasing_a_volunteer(client, intake, kamer_a):
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    privacy.erase_volunteer(EraseVolunteer(volunteer_id), uow(intake.engine))
    body = client.get(f"/v1/volunteers/{volunteer_id}", headers=kamer_a.headers).get_json()
    assert (body["name"], body["email"], body["phone"], body["vog_checked_on"]) == ("", None, None, None)
    assert body["home"] == {"lat": 53.201, "lon": 5.8, "precision": "given"}
    assert _erased_events(intake.engine)[0]["subject_kind"] == "volunteer"


# -- erasing a volunteer ends their open assignments ----------------------------------------

PERSONAL = ["Anna", "Vries", "anna@example.org", "+31612345678", "Sjoerd", "Wâldsma", "Skoalstrjitte",
            "Hy hat", "53.20123", "5.79991", "2026-01-02"]


@pytest.fixture
def volunteer(client, kamer_a):
    return client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]


@pytest.fixture
def task(client, intake, kamer_a):
    """A request of kamer A proposed to a volunteer, then taken as far as ``until``."""
    def make(volunteer_id, until="proposed", start=SOON):
        body = {**REQUEST, "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}
        request_id = client.post("/v1/requests", json=body, headers=kamer_a.headers).get_json()["id"]
        assignment_id = propose(intake.engine, request_id, volunteer_id)
        for action in {"proposed": [], "approved": ["approve"], "accepted": ["approve", "accept"]}[until]:
            r = client.post(f"/v1/assignments/{assignment_id}/{action}", json={}, headers=kamer_a.headers)
            assert r.status_code == 200, r.get_json()
        return request_id, assignment_id
    return make


def _outbox(engine, event_type=None):
    query = select(t.outbox.c.event_type, t.outbox.c.body).order_by(t.outbox.c.id)
    if event_type:
        query = query.where(t.outbox.c.event_type == event_type)
    with engine.begin() as tx:
        return tx.execute(query).all()


def _events(engine, event_type):
    return [parse(r.body).data for r in _outbox(engine, event_type)]


def _assignment_statuses(engine, *ids):
    with engine.begin() as tx:
        rows = tx.execute(select(t.assignments.c.id, t.assignments.c.status, t.assignments.c.updated_at)
                          .where(t.assignments.c.id.in_(ids))).all()
    return {r.id: (r.status, r.updated_at) for r in rows}


def _snapshot(engine):
    """Everything an erasure may write, counted and read back."""
    with engine.begin() as tx:
        counts = {table.name: tx.execute(select(func.count()).select_from(table)).scalar_one()
                  for table in (t.outbox, t.history, t.audit_log)}
        assignments = tx.execute(select(t.assignments).order_by(t.assignments.c.id)).all()
        requests = tx.execute(select(t.requests.c.id, t.requests.c.status, t.requests.c.urgent,
                                     t.requests.c.updated_at).order_by(t.requests.c.id)).all()
    return counts, [tuple(r) for r in assignments], [tuple(r) for r in requests]


def test_erasing_a_volunteer_ends_their_open_assignments_and_asks_matching_again(
        client, intake, kamer_a, coordinator, volunteer, task):
    proposed_request, proposed = task(volunteer, "proposed")
    accepted_request, accepted = task(volunteer, "accepted")
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))

    assert {a: s for a, (s, _) in _assignment_statuses(intake.engine, proposed, accepted).items()} == {
        proposed: "declined", accepted: "declined"}
    requeued = client.get(f"/v1/requests/{proposed_request}", headers=kamer_a.headers).get_json()
    declined = client.get(f"/v1/requests/{accepted_request}", headers=kamer_a.headers).get_json()
    assert (requeued["status"], requeued["urgent"]) == ("queued", False)  # back to matching
    assert (declined["status"], declined["urgent"]) == ("declined", False)  # ... queued again, without them
    for body, status in [(requeued, "queued"), (declined, "declined")]:
        assert body["history"][-1]["status"] == status
        assert body["history"][-1]["actor"] == "operator:system"
        assert (body["history"][-1]["note_code"], body["history"][-1]["note"]) == (
            "volunteer_erased", "vrijwilliger uitgeschreven")

    events = _events(intake.engine, "assignment.declined")
    base = {"volunteer_id": volunteer, "kamer_id": kamer_a.id, "region": "leeuwarden", "actor": "operator",
            "category": "buddy", "reason": None, "reason_code": "volunteer_erased", "rematch": True}
    assert [{k: e[k] for k in (*base, "assignment_id", "request_id", "after_accept")} for e in events] == [
        {**base, "assignment_id": proposed, "request_id": proposed_request, "after_accept": False},
        {**base, "assignment_id": accepted, "request_id": accepted_request, "after_accept": True}]
    assert _events(intake.engine, "request.escalated") == []
    # The assignments end before the erasure is announced, and nothing on the bus names anyone.
    kinds = [r.event_type for r in _outbox(intake.engine)]
    assert kinds[-3:] == ["assignment.declined", "assignment.declined", "personal_data.erased"]
    for row in _outbox(intake.engine, "assignment.declined") + _outbox(intake.engine, "personal_data.erased"):
        assert not [word for word in PERSONAL if word in row.body], row.event_type

    audit = client.get(f"/v1/audit?subject_id={accepted}", headers=coordinator).get_json()["items"]
    assert (audit[0]["action"], audit[0]["role"], audit[0]["token_id"]) == (
        "decline:volunteer_erased", "operator", "system")
    assert client.get(f"/v1/audit?subject_id={proposed}", headers=coordinator).get_json()["items"][0][
        "action"] == "decline:volunteer_erased"

    # Matching's next answer moves both on, as after any decline.
    other = client.post("/v1/volunteers", json={**VOLUNTEER, "name": "Pier"}, headers=kamer_a.headers).get_json()
    for request_id in (proposed_request, accepted_request):
        propose(intake.engine, request_id, other["id"])
        assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "proposed"


def test_an_erased_volunteer_with_a_task_within_48_hours_makes_it_urgent(client, intake, kamer_a, volunteer, task):
    request_id, accepted = task(volunteer, "accepted", start=TOMORROW)
    approved_request, approved = task(volunteer, "approved", start=TOMORROW)
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))

    for rid in (request_id, approved_request):
        body = client.get(f"/v1/requests/{rid}", headers=kamer_a.headers).get_json()
        assert (body["status"], body["urgent"]) == ("declined", True)
        assert body["history"][-1]["note_code"] == "volunteer_erased_late"
        assert body["history"][-1]["note"] == "vrijwilliger uitgeschreven; binnen 48 uur: urgent"
        english = client.get(f"/v1/requests/{rid}", headers={**kamer_a.headers, "Accept-Language": "en"}).get_json()
        assert english["history"][-1]["note"] == "volunteer erased; within 48 hours: urgent"
    declined = {e["assignment_id"]: e for e in _events(intake.engine, "assignment.declined")}
    assert set(declined) == {accepted, approved}
    assert declined[accepted]["rematch"] is False and declined[accepted]["after_accept"] is True
    assert declined[approved]["rematch"] is False and declined[approved]["after_accept"] is False
    escalated = _events(intake.engine, "request.escalated")
    assert sorted(escalated, key=lambda e: e["request_id"] != request_id) == [
        {"request_id": rid, "kamer_id": kamer_a.id, "region": "leeuwarden", "reason": "late_decline",
         "urgent": True} for rid in (request_id, approved_request)]


def test_erasing_a_volunteer_leaves_closed_assignments_alone(client, intake, kamer_a, volunteer, task):
    _, rejected = task(volunteer)
    client.post(f"/v1/assignments/{rejected}/reject", json={"reason": "past niet"}, headers=kamer_a.headers)
    _, declined = task(volunteer, "approved")
    client.post(f"/v1/assignments/{declined}/decline", json={}, headers=kamer_a.headers)
    cancelled_request, cancelled = task(volunteer, "accepted")
    client.post(f"/v1/requests/{cancelled_request}/cancel", json={}, headers=kamer_a.headers)
    _, superseded = task(volunteer)
    other = client.post("/v1/volunteers", json={**VOLUNTEER, "name": "Baukje Bouma"},  # not a duplicate of Anna
                        headers=kamer_a.headers).get_json()["id"]
    client.post(f"/v1/assignments/{superseded}/reassign", json={"volunteer_id": other}, headers=kamer_a.headers)
    completed_request, completed = task(volunteer, "accepted")
    with intake.engine.begin() as tx:  # intake has no "completed" action yet; the state can exist
        tx.execute(t.assignments.update().where(t.assignments.c.id == completed).values(status="completed"))
        tx.execute(t.requests.update().where(t.requests.c.id == completed_request).values(status="completed"))
    closed = (rejected, declined, cancelled, superseded, completed)
    before = _assignment_statuses(intake.engine, *closed)
    assert {s for s, _ in before.values()} == {"rejected", "declined", "cancelled", "superseded", "completed"}
    declines_before = len(_events(intake.engine, "assignment.declined"))
    counts_before, _, requests_before = _snapshot(intake.engine)

    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))

    assert _assignment_statuses(intake.engine, *closed) == before
    assert len(_events(intake.engine, "assignment.declined")) == declines_before
    assert _events(intake.engine, "request.escalated") == []
    counts, _, requests = _snapshot(intake.engine)
    assert requests == requests_before
    assert counts == {**counts_before, "intake_outbox": counts_before["intake_outbox"] + 1,  # the erasure only
                      "intake_audit_log": counts_before["intake_audit_log"] + 1}


def test_an_assignment_its_request_no_longer_waits_for_is_only_closed(client, intake, kamer_a, volunteer, task):
    """Every move of a request ends its assignment, so this takes data from elsewhere (an
    older version, a repair by hand): the erasure must not fail on it, nor move the request."""
    request_id, stale = task(volunteer)
    with intake.engine.begin() as tx:
        tx.execute(t.requests.update().where(t.requests.c.id == request_id).values(status="unmatched"))
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))
    assert _assignment_statuses(intake.engine, stale)[stale][0] == "declined"
    body = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert body["status"] == "unmatched" and body["history"][-1]["status"] is None
    assert body["history"][-1]["note_code"] == "volunteer_erased_closed"
    assert body["history"][-1]["note_params"] == {"assignment_status": "proposed", "assignment_id": stale}
    assert body["history"][-1]["note"] == f"vrijwilliger uitgeschreven: voorstel {stale} (voorgesteld) gesloten"
    assert _events(intake.engine, "assignment.declined") == []


def test_erasing_a_volunteer_twice_changes_nothing_more(client, intake, kamer_a, volunteer, task):
    task(volunteer, "proposed")
    task(volunteer, "accepted", start=TOMORROW)
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))
    after_first = _snapshot(intake.engine)
    assert len(_events(intake.engine, "assignment.declined")) == 2
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))
    assert _snapshot(intake.engine) == after_first
    assert len(_erased_events(intake.engine)) == 1


def test_a_proposal_made_before_matching_heard_of_the_erasure_is_ended_as_it_arrives(
        client, intake, kamer_a, volunteer, task):
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))
    request_id, late_proposal = task(volunteer)  # matching had not yet processed personal_data.erased
    assert _assignment_statuses(intake.engine, late_proposal)[late_proposal][0] == "declined"
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "queued"
    [event] = _events(intake.engine, "assignment.declined")
    assert event["assignment_id"] == late_proposal and event["rematch"] is True
    privacy.erase_volunteer(EraseVolunteer(volunteer), uow(intake.engine))  # again: nothing left to end
    assert len(_events(intake.engine, "assignment.declined")) == 1
    assert len(_erased_events(intake.engine)) == 1  # the person was erased once


def test_retention_anonymises_only_what_is_old_and_closed(client, intake, kamer_a):
    old_cancelled = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    client.post(f"/v1/requests/{old_cancelled}/cancel", json={}, headers=kamer_a.headers)
    recent_open = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    later = datetime.now(UTC) + timedelta(days=1)
    assert privacy.apply_retention(ApplyRetention(timedelta(hours=1), at=later), uow(intake.engine)) == 1  # the cancelled one
    assert privacy.apply_retention(ApplyRetention(timedelta(hours=1), at=later), uow(intake.engine)) == 0
    with intake.engine.begin() as tx:
        erased = {r.id for r in tx.execute(select(t.requests.c.id).where(t.requests.c.erased_at.is_not(None)))}
    assert erased == {old_cancelled}
    much_later = SOON + timedelta(days=400)  # the open one's task ended long ago
    assert privacy.apply_retention(ApplyRetention(timedelta(days=365), at=much_later), uow(intake.engine)) == 1
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

    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    _, other = issue_token(intake.engine, Role.COORDINATOR, region="sudwest-fryslan")
    items = client.get("/v1/audit", headers={"Authorization": f"Bearer {other}"}).get_json()["items"]
    assert request_id not in {i["subject_id"] for i in items}
    assert client.get(f"/v1/requests/{request_id}", headers={"Authorization": f"Bearer {other}"}).status_code == 404
