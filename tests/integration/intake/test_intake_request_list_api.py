"""GET /v1/requests (API.md, Additions): the kamer's own requests, or the coordinator's
region; newest first; by status and part of the resident's name; a cursor at a time.
On SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from intake_support import issue_token

from mienskip_intake.domain.model import Role

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)


def _request(name: str, **changes) -> dict:
    body = {"resident": {"name": name, "language": "nl"}, "location": {"lat": 53.2012, "lon": 5.7999},
            "category": "shopping",
            "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
    body.update(changes)
    return body


def _submit(client, kamer, name, **changes) -> str:
    answer = client.post("/v1/requests", json=_request(name, **changes), headers=kamer.headers)
    assert answer.status_code == 202, answer.json
    return answer.json["id"]


def test_a_kamer_lists_its_own_newest_first_and_another_kamer_sees_nothing(client, kamer_a, kamer_b):
    first = _submit(client, kamer_a, "Sjoukje Dijkstra")
    second = _submit(client, kamer_a, "Pieter Bakker",
                     address={"postcode": "9001 AB", "house_number": "3"}, location=None)
    listed = client.get("/v1/requests", headers=kamer_a.headers)
    assert listed.status_code == 200
    items = listed.json["items"]
    assert [item["id"] for item in items] == [second, first]
    assert "next" not in listed.json
    newest = items[0]
    assert newest["resident"] == {"first_name": "Pieter"}  # a list shows first names only
    assert newest["location"] == {"precision": "postcode4"} and newest["place"]
    assert newest["kamer_id"] == kamer_a.id and newest["status"] in ("received", "queued")
    start = datetime.fromisoformat(newest["window"]["start"])
    assert start.utcoffset() is not None and start == SOON
    assert datetime.fromisoformat(newest["created_at"]).utcoffset() is not None
    assert client.get("/v1/requests", headers=kamer_b.headers).json == {"items": []}


def test_a_coordinator_sees_the_region(client, kamer_a, kamer_b, coordinator, intake):
    ids = {_submit(client, kamer_a, "Anna"), _submit(client, kamer_b, "Baukje")}
    assert {item["id"] for item in client.get("/v1/requests", headers=coordinator).json["items"]} == ids
    _, other = issue_token(intake.engine, Role.COORDINATOR, region="sudwest-fryslan")
    assert client.get("/v1/requests", headers={"Authorization": f"Bearer {other}"}).json["items"] == []


def test_by_status_and_part_of_the_name(client, kamer_a):
    kept = _submit(client, kamer_a, "Geeske van der Meer")
    cancelled = _submit(client, kamer_a, "Gerrit Meerstra")
    client.post(f"/v1/requests/{cancelled}/cancel", headers=kamer_a.headers)
    by_name = client.get("/v1/requests?q=MEER", headers=kamer_a.headers).json["items"]
    assert {item["id"] for item in by_name} == {kept, cancelled}
    by_status = client.get("/v1/requests?status=cancelled", headers=kamer_a.headers).json["items"]
    assert [item["id"] for item in by_status] == [cancelled]
    assert client.get("/v1/requests?q=100%25", headers=kamer_a.headers).json["items"] == []  # % is literal


def test_pages_follow_the_cursor_without_gaps_or_repeats(client, kamer_a):
    ids = [_submit(client, kamer_a, f"Bewoner {n}") for n in range(5)]
    seen, url = [], "/v1/requests?limit=2"
    while url:
        page = client.get(url, headers=kamer_a.headers).json
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        url = f"/v1/requests?limit=2&cursor={page['next']}" if "next" in page else None
    assert seen == list(reversed(ids))


def test_bad_queries_are_422s_naming_the_field(client, kamer_a):
    naive = base64.urlsafe_b64encode(json.dumps(["2026-12-01T10:00:00", "x"]).encode()).decode()
    for query, field in (("cursor=nonsense", "cursor"), (f"cursor={naive}", "cursor"), ("status=asleep", "status"),
                         ("limit=0", "limit"), ("limit=500", "limit")):
        answer = client.get(f"/v1/requests?{query}", headers=kamer_a.headers)
        assert answer.status_code == 422, query
        assert field in answer.json["errors"], query


def test_a_naive_cursor_is_refused_on_the_assignments_list_too(client, kamer_a):
    naive = base64.urlsafe_b64encode(json.dumps(["2026-12-01T10:00:00", "x"]).encode()).decode()
    answer = client.get(f"/v1/assignments?cursor={naive}", headers=kamer_a.headers)
    assert answer.status_code == 422 and "cursor" in answer.json["errors"]


def test_operators_and_strangers_may_not_list(client, operator):
    assert client.get("/v1/requests", headers=operator).status_code == 403
    assert client.get("/v1/requests").status_code == 401
