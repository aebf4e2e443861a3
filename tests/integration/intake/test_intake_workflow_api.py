"""The review workflow over HTTP: approve, reject, accept, decline, reassign, bulk,
auto-approve policy, volunteer links -- on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, propose, uow
from sqlalchemy import select

from mienskip_intake.adapters import tables as t
from mienskip_shared.contracts import parse
from mienskip_shared.links import sign_volunteer_link

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


def _request_body(start=IN_A_WEEK, category="pets"):
    return {"resident": {"name": "Jan Hoekstra", "language": "fy"}, "location": {"lat": 53.2251, "lon": 5.7530},
            "category": category, "window": {"start": start.isoformat(),
                                             "end": (start + timedelta(hours=1)).isoformat()}}


VOLUNTEER = {"name": "Anna de Vries", "language": "nl", "home": {"lat": 53.2012, "lon": 5.7999},
             "skills": ["pets", "shopping"], "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}


@pytest.fixture
def case(client, intake, kamer_a):
    """A request of kamer A with a proposal for one of its volunteers."""
    def make(start=IN_A_WEEK, category="pets"):
        request_id = client.post("/v1/requests", json=_request_body(start, category),
                                 headers=kamer_a.headers).get_json()["id"]
        volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
        return request_id, volunteer_id, propose(intake.engine, request_id, volunteer_id)
    return make


def _events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)
                          .order_by(t.outbox.c.id)).all()
    return [parse(r.body) for r in rows]


def _status(client, headers, request_id):
    return client.get(f"/v1/requests/{request_id}", headers=headers).get_json()


def test_approve_then_accept_then_repeat_is_409(client, intake, kamer_a, coordinator, case):
    request_id, volunteer_id, assignment_id = case()
    approved = client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=coordinator)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    again = client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=coordinator)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    [event] = _events(intake.engine, "assignment.approved")
    assert event.data["volunteer_id"] == volunteer_id and event.data["actor"] == "coordinator"
    assert client.post(f"/v1/assignments/{assignment_id}/accept", json={},
                       headers=kamer_a.headers).status_code == 200
    assert client.post(f"/v1/assignments/{assignment_id}/accept", json={},
                       headers=kamer_a.headers).status_code == 409
    body = _status(client, kamer_a.headers, request_id)
    assert body["status"] == "accepted"
    assert [h["status"] for h in body["history"] if h["status"]] == ["received", "proposed", "approved", "accepted"]


def test_approving_a_cancelled_request_is_409_and_changes_nothing(client, intake, kamer_a, case):
    request_id, _, assignment_id = case()
    assert client.post(f"/v1/requests/{request_id}/cancel", json={}, headers=kamer_a.headers).status_code == 200
    r = client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=kamer_a.headers)
    assert r.status_code == 409
    assert _status(client, kamer_a.headers, request_id)["status"] == "cancelled"
    assert _events(intake.engine, "assignment.approved") == []


def test_reject_needs_a_reason_and_asks_matching_again(client, intake, kamer_a, case):
    request_id, volunteer_id, assignment_id = case()
    missing = client.post(f"/v1/assignments/{assignment_id}/reject", json={}, headers=kamer_a.headers)
    assert missing.status_code == 422 and "reason" in missing.get_json()["errors"]
    r = client.post(f"/v1/assignments/{assignment_id}/reject", json={"reason": "kent de bewoner niet"},
                    headers=kamer_a.headers)
    assert r.status_code == 200 and r.get_json()["status"] == "rejected"
    [event] = _events(intake.engine, "assignment.rejected")
    assert event.data["reason"] == "kent de bewoner niet" and event.data["volunteer_id"] == volunteer_id
    new_volunteer = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    propose(intake.engine, request_id, new_volunteer)  # matching's next answer moves it on
    assert _status(client, kamer_a.headers, request_id)["status"] == "proposed"


def test_a_volunteer_link_accepts_only_its_own_assignment(client, intake, kamer_a, coordinator, case):
    _, volunteer_id, assignment_id = case()
    _, other_volunteer, other_assignment = case()
    client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=coordinator)
    client.post(f"/v1/assignments/{other_assignment}/approve", json={}, headers=coordinator)
    secret = TEST_SECRET
    link = sign_volunteer_link(secret, assignment_id, volunteer_id, datetime.now(UTC) + timedelta(days=3))
    as_volunteer = {"Authorization": f"Bearer {link}"}
    assert client.post(f"/v1/assignments/{other_assignment}/accept", json={}, headers=as_volunteer).status_code == 404
    assert client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=as_volunteer).status_code == 403
    assert client.get("/v1/assignments", headers=as_volunteer).status_code == 403
    ok = client.post(f"/v1/assignments/{assignment_id}/accept", json={}, headers=as_volunteer)
    assert ok.status_code == 200 and ok.get_json()["status"] == "accepted"
    forged = link[:-3] + ("xyz" if not link.endswith("xyz") else "abc")
    assert client.post(f"/v1/assignments/{assignment_id}/decline", json={},
                       headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    expired = sign_volunteer_link(secret, assignment_id, volunteer_id, datetime.now(UTC) - timedelta(seconds=1))
    assert client.post(f"/v1/assignments/{assignment_id}/decline", json={},
                       headers={"Authorization": f"Bearer {expired}"}).status_code == 401


def test_declining_long_before_rematches(client, intake, kamer_a, case):
    request_id, _, assignment_id = case(start=IN_A_WEEK)
    client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=kamer_a.headers)
    r = client.post(f"/v1/assignments/{assignment_id}/decline", json={"reason": "ziek"}, headers=kamer_a.headers)
    assert r.status_code == 200
    [event] = _events(intake.engine, "assignment.declined")
    assert event.data["rematch"] is True and event.data["after_accept"] is False
    assert _events(intake.engine, "request.escalated") == []
    assert _status(client, kamer_a.headers, request_id)["status"] == "declined"


def test_backing_out_within_48_hours_is_urgent_for_the_coordinator(client, intake, kamer_a, coordinator, case):
    request_id, _, assignment_id = case(start=TOMORROW)
    client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=coordinator)
    client.post(f"/v1/assignments/{assignment_id}/accept", json={}, headers=kamer_a.headers)
    r = client.post(f"/v1/assignments/{assignment_id}/decline", json={"reason": "auto kapot"},
                    headers=kamer_a.headers)
    assert r.status_code == 200 and r.get_json()["request"]["urgent"] is True
    [declined] = _events(intake.engine, "assignment.declined")
    assert declined.data["rematch"] is False and declined.data["after_accept"] is True
    [escalated] = _events(intake.engine, "request.escalated")
    assert escalated.data == {"request_id": request_id, "kamer_id": kamer_a.id, "region": "leeuwarden",
                              "reason": "late_decline", "urgent": True}


def test_reassign_supersedes_and_asks_matching_for_the_chosen_one(client, intake, kamer_a, kamer_b, case):
    request_id, _, assignment_id = case()
    other = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_b.headers).get_json()["id"]
    r = client.post(f"/v1/assignments/{assignment_id}/reassign", json={"volunteer_id": other},
                    headers=kamer_a.headers)
    assert r.status_code == 200 and r.get_json()["status"] == "superseded"
    [event] = _events(intake.engine, "assignment.reassign_requested")
    assert event.data["volunteer_id"] == other and event.data["replaces_assignment_id"] == assignment_id
    assert _status(client, kamer_a.headers, request_id)["status"] == "queued"
    unknown = client.post(f"/v1/assignments/{assignment_id}/reassign", json={"volunteer_id": "nobody"},
                          headers=kamer_a.headers)
    assert unknown.status_code == 422 and "volunteer_id" in unknown.get_json()["errors"]


def test_bulk_approve_answers_for_each(client, kamer_a, coordinator, case):
    ids = [case()[2] for _ in range(3)]
    client.post(f"/v1/assignments/{ids[0]}/approve", json={}, headers=coordinator)
    r = client.post("/v1/assignments/bulk-approve", json={"ids": [*ids, "missing"]}, headers=kamer_a.headers)
    assert [x["status"] for x in r.get_json()["results"]] == [409, 200, 200, 404]


def test_auto_approve_policy_is_the_coordinators_and_works_at_once(client, intake, kamer_a, coordinator, case):
    assert client.put(f"/v1/kamers/{kamer_a.id}/auto-approve", json={"categories": ["pets"]},
                      headers=kamer_a.headers).status_code == 403
    r = client.put(f"/v1/kamers/{kamer_a.id}/auto-approve", json={"categories": ["pets", "shopping"]},
                   headers=coordinator)
    assert r.get_json() == {"categories": ["pets", "shopping"]}
    assert client.get(f"/v1/kamers/{kamer_a.id}/auto-approve", headers=kamer_a.headers).get_json() == r.get_json()
    request_id, _, assignment_id = case(category="pets")
    assert _status(client, kamer_a.headers, request_id)["status"] == "approved"
    [event] = _events(intake.engine, "assignment.approved")
    assert event.data["auto"] is True and event.data["actor"] == "policy"
    assert event.data["assignment_id"] == assignment_id
    assert _events(intake.engine, "assignment.review_requested") == []  # nobody needs to look at it


def test_respite_is_not_approved_without_a_person(client, intake, kamer_a, coordinator, case):
    client.put(f"/v1/kamers/{kamer_a.id}/auto-approve", json={"categories": ["pets"]}, headers=coordinator)
    request_id, volunteer_id, assignment_id = case(category="respite")
    assert _status(client, kamer_a.headers, request_id)["status"] == "proposed"
    assert _events(intake.engine, "assignment.approved") == []
    [review] = _events(intake.engine, "assignment.review_requested")  # notify tells the kamer
    assert (review.data["assignment_id"], review.data["request_id"], review.data["volunteer_id"]) == (
        assignment_id, request_id, volunteer_id)
    assert (review.data["kamer_id"], review.kamer_id, review.data["distance_km"]) == (kamer_a.id, kamer_a.id, 1.2)
    assert review.data["explanation"] == {"distance_km": 1.2}  # matching's explanation, as the contract has it


def test_assignments_list_pages_and_stays_within_the_kamer(client, kamer_a, kamer_b, coordinator, case):
    ids = {case()[2] for _ in range(5)}
    seen, cursor = [], None
    while True:
        url = "/v1/assignments?status=proposed&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=kamer_a.headers).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page.get("next")
        if not cursor:
            break
    assert set(seen) == ids and len(seen) == 5
    assert client.get("/v1/assignments", headers=kamer_b.headers).get_json()["items"] == []
    assert len(client.get("/v1/assignments?limit=200", headers=coordinator).get_json()["items"]) == 5
    assert client.get("/v1/assignments?cursor=bogus", headers=kamer_a.headers).status_code == 422


def test_another_kamers_assignment_is_404_for_every_action(client, kamer_b, case):
    _, _, assignment_id = case()
    for action, body in [("approve", {}), ("reject", {"reason": "x"}), ("accept", {}), ("decline", {}),
                         ("reassign", {"volunteer_id": "x"})]:
        r = client.post(f"/v1/assignments/{assignment_id}/{action}", json=copy.deepcopy(body),
                        headers=kamer_b.headers)
        assert r.status_code == 404, action


def test_a_decision_overtaken_by_a_newer_one_is_ignored(client, intake, kamer_a):
    from mienskip_intake.service_layer import events
    from mienskip_shared.contracts import new_event

    request_id = client.post("/v1/requests", json=_request_body(), headers=kamer_a.headers).get_json()["id"]
    base = {"request_id": request_id, "kamer_id": kamer_a.id, "region": "leeuwarden"}
    proposed = new_event("assignment.proposed", {**base, "assignment_id": "a-2", "volunteer_id": "v-2",
                                                 "distance_km": 1.0, "explanation": {}, "decision": 2},
                         correlation_id=request_id)
    unmatched = new_event("request.unmatched", {**base, "reasons": {"skills": 3}, "considered": 3,
                                                "decision": 1}, correlation_id=request_id)
    events.on_assignment_proposed(parse(proposed.to_json()), uow(intake.engine))
    events.on_request_unmatched(parse(unmatched.to_json()), uow(intake.engine))  # arrives late: older news
    body = _status(client, {**kamer_a.headers, "Accept-Language": "en"}, request_id)
    assert body["status"] == "proposed" and body["assignment"]["id"] == "a-2"
    assert any(h["note"] == "ignored decision 1: a newer one came first" for h in body["history"])
    assert any((h["note_code"], h["note_params"]) == ("decision_overtaken", {"decision": 1}) for h in body["history"])
