"""The monthly report against a seeded November 2026 whose true counts this test knows:
"< 5" everywhere (JSON and CSV), Europe/Amsterdam month boundaries (a request at 23:30
on the last day counts; one at 00:30 on the 1st does not), scope (kamer own, coordinator
region or one kamer of it, another region's kamer 404), on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pytest
from report_support import seed_november


@pytest.fixture
def seeded(intake, kamer_a, kamer_b):
    return seed_november(intake, kamer_a, kamer_b)


def _report(client, headers, query="month=2026-11", accept="application/json"):
    return client.get(f"/v1/reports/monthly?{query}", headers={**headers, "Accept": accept})


def test_a_kamer_sees_its_month_with_small_counts_hidden(client, kamer_a, seeded):
    response = _report(client, kamer_a.headers)
    assert response.status_code == 200
    report = response.get_json()
    assert report["month"] == "2026-11" and [k["id"] for k in report["kamers"]] == [kamer_a.id]
    total = report["total"]
    # 6 transport + 2 pets + the buddy at 23:30 on 30 November (the 1 December and 31 October ones: not)
    assert total["requests"] == 9
    assert total["by_category"] == {"buddy": "< 5", "pets": "< 5", "transport": 6}
    assert total["outcomes"] == {"volunteer": 6, "professional": 0, "both": 0, "none": "< 5", "open": "< 5"}
    assert total["median_hours_to_match"] == 2.0
    assert total["median_hours_to_answer"] == 2.0  # 6 accepts and 5 declines, each 2 h after approval
    assert total["declines"] == 5 and total["back_outs"] == "< 5"
    assert total["visits_done"] == 6 and total["hours"] == 9.0 and total["km"] == 24.0
    assert total["volunteers_active"] == 6 and total["volunteers_new"] == 5
    assert report["start"] == "2026-10-31T23:00:00+00:00" and report["end"] == "2026-11-30T23:00:00+00:00"


def test_a_coordinator_sees_the_region_per_kamer_and_in_total(client, coordinator, kamer_a, kamer_b, seeded):
    report = _report(client, coordinator).get_json()
    assert {k["id"] for k in report["kamers"]} == {kamer_a.id, kamer_b.id}
    assert report["total"]["requests"] == 11 and "meals" not in report["total"]["by_category"]
    assert report["total"]["outcomes"]["volunteer"] == 8  # 6 of A's and B's 2: each "< 5" alone
    of_b = next(k for k in report["kamers"] if k["id"] == kamer_b.id)
    assert of_b["requests"] == "< 5" and of_b["outcomes"]["volunteer"] == "< 5"
    assert of_b["median_hours_to_match"] == "< 5" and of_b["hours"] == 0
    one = _report(client, coordinator, f"month=2026-11&kamer_id={kamer_b.id}").get_json()
    assert [k["id"] for k in one["kamers"]] == [kamer_b.id] and one["total"]["requests"] == "< 5"


def test_other_kamers_and_regions_are_not_found(client, coordinator, kamer_a, kamer_b, operator, seeded):
    assert _report(client, kamer_a.headers, f"month=2026-11&kamer_id={kamer_b.id}").status_code == 404
    assert _report(client, coordinator, f"month=2026-11&kamer_id={seeded['other_id']}").status_code == 404
    assert _report(client, seeded["other_headers"], f"month=2026-11&kamer_id={kamer_a.id}").status_code == 404
    assert _report(client, operator).status_code == 403
    theirs = _report(client, seeded["other_headers"]).get_json()
    assert theirs["total"]["requests"] == 7 and theirs["total"]["by_category"] == {"meals": 7}


@pytest.mark.parametrize("month", ["", "2026-13", "2026-1", "november", "1999-12", "2026-11-01"])
def test_a_bad_month_is_a_422_naming_month(client, kamer_a, month):
    response = _report(client, kamer_a.headers, f"month={month}")
    assert response.status_code == 422 and "month" in response.get_json()["errors"]
    missing = client.get("/v1/reports/monthly", headers=kamer_a.headers)
    assert missing.status_code == 422 and "month" in missing.get_json()["errors"]


def test_csv_says_the_same_with_small_counts_hidden(client, coordinator, kamer_a, kamer_b, seeded):
    response = _report(client, coordinator, accept="text/csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_name = {row["kamer"]: row for row in rows}
    assert set(by_name) == {"Buurtkamer Bilgaard", "Dorpskamer De Wjukken", "total"}
    a = by_name["Buurtkamer Bilgaard"]
    assert (a["requests"], a["outcomes.none"], a["category.transport"], a["category.pets"], a["km"]) == \
        ("9", "< 5", "6", "< 5", "24.0")
    assert by_name["total"]["requests"] == "11" and by_name["Dorpskamer De Wjukken"]["requests"] == "< 5"
    assert all(cell not in ("1", "2", "3", "4") for row in rows for cell in row.values())


def test_an_empty_month_is_all_zero(client, kamer_a):
    total = _report(client, kamer_a.headers, "month=2026-02").get_json()["total"]
    assert total["requests"] == 0 and total["median_hours_to_match"] is None and total["hours"] == 0


def test_the_report_is_in_the_openapi_document(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/v1/reports/monthly"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"month", "kamer_id"}



def test_requests_a_care_provider_took_count_as_professional_or_both(client, intake, coordinator, kamer_a):
    """Five "professional" requests whose referral a provider accepted, and five "both" whose
    referral was accepted before any volunteer: the month's outcomes say so (issue 13)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from intake_support import provider_headers, register_provider

    provider_id = register_provider(client, coordinator, kamer_ids=[kamer_a.id])
    start = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    body = {"resident": {"name": "Jan Hoekstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "paperwork",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}
    for helper in ["professional"] * 5 + ["both"] * 5:
        request_id = client.post("/v1/requests", json={**body, "helper": helper, "provider_id": provider_id},
                                 headers=kamer_a.headers).get_json()["id"]
        referral = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["referral"]
        accepted = client.post(f"/v1/referrals/{referral['id']}/accept", json={"who": "Sanne"},
                               headers=provider_headers(referral["id"], provider_id))
        assert accepted.status_code == 200, accepted.get_json()
    month = datetime.now(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m")
    outcomes = _report(client, kamer_a.headers, f"month={month}").get_json()["total"]["outcomes"]
    assert outcomes["professional"] == 10  # the "both" ones have no volunteer yet: a professional helps
    assert outcomes["both"] == 0 and outcomes["volunteer"] == 0
