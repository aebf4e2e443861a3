"""Every documented /v1 operation, every method: kamer B reaching kamer A's records
gets 404 (or 403 where its role may not act at all) and never A's data; no token,
a wrong one or a revoked one gets 401. The operations come from /openapi.json, so a
new endpoint is covered the day it is added."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_support import PROVIDER, issue_token, propose, provider_headers, register_provider, uow

from mienskip_intake.domain.commands import RevokeToken
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
SECRET_NAME = "Geartsje Secret-Visser"
REQUEST = {"resident": {"name": SECRET_NAME, "phone": "+31611111111"}, "location": {"lat": 53.2, "lon": 5.8},
           "category": "buddy", "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
VOLUNTEER = {"name": SECRET_NAME, "home": {"lat": 53.2, "lon": 5.8}, "skills": ["buddy"],
             "availability": [{"day": "mon", "from": "09:00", "to": "17:00"}]}
BODIES = {"reject": {"reason": "x"}, "decline": {"reason": "x"}, "reassign": {"volunteer_id": "x"},
          "bulk-approve": {"ids": ["x"]}, "auto-approve": {"categories": ["pets"]}, "requests": REQUEST,
          "volunteers": VOLUNTEER, "validate": REQUEST, "{volunteer_id}": {"max_tasks_per_week": 1},
          "complete": {"done": True, "km": 3},
          "providers": PROVIDER, "{provider_id}": {"name": "x"}, "refer": {"provider_id": "x"}}


@pytest.fixture
def records_of_a(client, intake, kamer_a):
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer_a.headers).get_json()["id"]
    assignment_id = propose(intake.engine, request_id, volunteer_id)
    _, token = issue_token(intake.engine, Role.COORDINATOR, region="leeuwarden")
    provider_id = register_provider(client, {"Authorization": f"Bearer {token}"}, kamer_ids=[kamer_a.id])
    referred = client.post("/v1/requests", json={**REQUEST, "helper": "professional", "provider_id": provider_id},
                           headers=kamer_a.headers).get_json()["id"]
    referral_id = client.get(f"/v1/requests/{referred}", headers=kamer_a.headers).get_json()["referral"]["id"]
    return {"request_id": request_id, "volunteer_id": volunteer_id, "assignment_id": assignment_id,
            "kamer_id": kamer_a.id, "provider_id": provider_id, "referral_id": referral_id, "referred": referred}


def _operations(client):
    spec = client.get("/openapi.json").get_json()
    for path, methods in spec["paths"].items():
        if path.startswith("/v1"):
            for method in methods:
                if method in ("get", "post", "put", "patch", "delete"):
                    yield path, method


def _call(client, method, path, ids, headers):
    url = path.format(**ids)
    body = BODIES.get(path.rstrip("/").rsplit("/", 1)[-1])
    return getattr(client, method)(url, json=body if method != "get" else None, headers=headers)


def test_kamer_b_never_reaches_kamer_as_records(client, kamer_b, records_of_a):
    operations = list(_operations(client))
    assert len(operations) >= 15
    leaks = []
    for path, method in operations:
        if "{" not in path:
            continue  # collections: checked below
        response = _call(client, method, path, records_of_a, kamer_b.headers)
        if response.status_code not in (403, 404) or SECRET_NAME.encode() in response.data:
            leaks.append((method.upper(), path, response.status_code))
    assert leaks == []


def test_kamer_bs_collections_hold_nothing_of_a(client, kamer_b, records_of_a):
    listed = client.get("/v1/assignments?limit=200", headers=kamer_b.headers)
    assert listed.status_code == 200 and listed.get_json()["items"] == []
    volunteers = client.get("/v1/volunteers?limit=200", headers=kamer_b.headers)
    assert volunteers.status_code == 200 and volunteers.get_json()["items"] == []
    for query in ("", "?q=Geartsje", "?status=received", "?status=queued"):
        requests = client.get(f"/v1/requests{query}", headers=kamer_b.headers)
        assert requests.status_code == 200 and requests.get_json()["items"] == [], query
        assert SECRET_NAME.split()[0].encode() not in requests.data
    approve_all = client.post("/v1/assignments/bulk-approve", json={"ids": [records_of_a["assignment_id"]]},
                              headers=kamer_b.headers)
    assert approve_all.get_json()["results"] == [{"id": records_of_a["assignment_id"], "status": 404}]


@pytest.mark.parametrize("token", [None, "msk_not-a-real-token", "revoked"])
def test_every_operation_needs_a_valid_token(client, intake, kamer_a, records_of_a, token):
    if token == "revoked":
        handlers.revoke_token(RevokeToken(kamer_a.token_id), uow(intake.engine))
        headers = kamer_a.headers
    else:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
    answers = {(method, path): _call(client, method, path, records_of_a, headers).status_code
               for path, method in _operations(client)}
    assert set(answers.values()) == {401}, answers


def test_kamer_b_never_reads_kamer_as_monthly_report(client, kamer_b, records_of_a):
    month = SOON.strftime("%Y-%m")
    theirs = client.get(f"/v1/reports/monthly?month={month}&kamer_id={records_of_a['kamer_id']}",
                        headers=kamer_b.headers)
    assert theirs.status_code == 404
    own = client.get(f"/v1/reports/monthly?month={month}", headers=kamer_b.headers)
    assert own.status_code == 200 and own.get_json()["total"]["requests"] == 0
    assert [k["id"] for k in own.get_json()["kamers"]] == [kamer_b.id]
def test_a_providers_link_reaches_its_one_referral_and_nothing_else(client, intake, kamer_a, records_of_a):
    """Every operation with a provider's signed link: only GET, accept and decline of its
    own referral answer; the rest is 403 (not its role) or 404, and never the resident."""
    link = provider_headers(records_of_a["referral_id"], records_of_a["provider_id"])
    own = {("get", "/v1/referrals/{referral_id}"), ("post", "/v1/referrals/{referral_id}/accept"),
           ("post", "/v1/referrals/{referral_id}/decline")}
    leaks = []
    for path, method in _operations(client):
        if (method, path) in own:
            continue
        response = _call(client, method, path, records_of_a, link)
        if response.status_code not in (403, 404) or SECRET_NAME.encode() in response.data:
            leaks.append((method.upper(), path, response.status_code))
    assert leaks == []
    assert client.get(f"/v1/referrals/{records_of_a['referral_id']}", headers=link).status_code == 200
    elsewhere = provider_headers(records_of_a["referral_id"], "another-provider")
    assert client.get(f"/v1/referrals/{records_of_a['referral_id']}", headers=elsewhere).status_code == 404


def test_another_regions_coordinator_reaches_nothing_of_a(client, intake, records_of_a):
    _, token = issue_token(intake.engine, Role.COORDINATOR, region="sudwest-fryslan")
    other = {"Authorization": f"Bearer {token}"}
    leaks = []
    for path, method in _operations(client):
        if "{" not in path:
            continue
        response = _call(client, method, path, records_of_a, other)
        if response.status_code not in (403, 404) or SECRET_NAME.encode() in response.data:
            leaks.append((method.upper(), path, response.status_code))
    assert leaks == []
    assert client.get("/v1/providers", headers=other).get_json()["items"] == []
