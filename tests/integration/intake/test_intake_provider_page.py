"""The provider's link page /p/<token> (issue 13): what it shows before and after
accepting, its form check, its language, and a clear page for a bad link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, register_provider

from mienskip_shared.links import sign_referral_link

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
REQUEST = {"resident": {"name": "Sjoukje Dijkstra", "phone": "+31612345678",
                        "address": "Tjerk Hiddesstraat 3, 8921 AB Leeuwarden"},
           "location": {"lat": 53.2, "lon": 5.8}, "category": "paperwork", "helper": "both",
           "window": {"start": IN_A_WEEK.isoformat(), "end": (IN_A_WEEK + timedelta(hours=1)).isoformat()}}


@pytest.fixture
def referral(client, coordinator, kamer_a):
    provider_id = register_provider(client, coordinator, language="fy")
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    referral_id = client.post(f"/v1/requests/{request_id}/refer", json={"provider_id": provider_id,
                                                                        "note": "Graag eerst bellen"},
                              headers=kamer_a.headers).get_json()["id"]
    token = sign_referral_link(TEST_SECRET, referral_id, provider_id, datetime.now(UTC) + timedelta(days=14))
    return {"token": token, "referral_id": referral_id, "provider_id": provider_id, "request_id": request_id}


def _check(html: str) -> str:
    return re.search(r'name="check" value="([0-9a-f]+)"', html).group(1)


def test_the_page_shows_the_least_then_the_address_after_accepting(client, kamer_a, referral):
    page = client.get(f"/p/{referral['token']}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'lang="fy"' in html  # the provider's language
    assert "Sjoukje" in html and "Dijkstra" not in html and "Tjerk Hiddesstraat" not in html
    assert "Graag eerst bellen" in html and "Buurtkamer Bilgaard" in html
    assert 'data-testid="volunteer-too"' in html
    answered = client.post(f"/p/{referral['token']}/accept", data={"check": _check(html), "who": "Marrit",
                                                                   "when": "2026-12-20T10:00", "lang": "en"})
    assert answered.status_code == 303 and "lang=en" in answered.headers["Location"]
    after = client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "Tjerk Hiddesstraat 3" in after and "+31612345678" in after and 'lang="en"' in after
    shown = client.get(f"/v1/requests/{referral['request_id']}", headers=kamer_a.headers).get_json()
    assert shown["referral"]["status"] == "accepted" and shown["referral"]["who"] == "Marrit"
    assert datetime.fromisoformat(shown["referral"]["when"]) == datetime(2026, 12, 20, 9, 0, tzinfo=UTC)  # 10:00 local


def test_a_decline_without_a_reason_is_refused_and_a_form_without_the_check_does_nothing(client, kamer_a, referral):
    html = client.get(f"/p/{referral['token']}").get_data(as_text=True)
    empty = client.post(f"/p/{referral['token']}/decline", data={"check": _check(html), "reason": " "})
    assert "done=invalid" in empty.headers["Location"]
    forged = client.post(f"/p/{referral['token']}/decline", data={"check": "0" * 64, "reason": "nee"})
    assert forged.status_code == 404
    shown = client.get(f"/v1/requests/{referral['request_id']}", headers=kamer_a.headers).get_json()
    assert shown["referral"]["status"] == "sent"
    client.post(f"/p/{referral['token']}/decline", data={"check": _check(html), "reason": "Geen plek"})
    assert client.get(f"/v1/requests/{referral['request_id']}", headers=kamer_a.headers).get_json()[
        "referral"]["status"] == "declined"


@pytest.mark.parametrize("spoil", [lambda t: t[:-2] + "xx", lambda t: "rl1.nonsense",
                                   lambda t: sign_referral_link(TEST_SECRET, "x", "y", datetime.now(UTC) - timedelta(1))])
def test_a_bad_or_expired_link_gets_a_clear_page_and_no_detail(client, referral, spoil):
    page = client.get(f"/p/{spoil(referral['token'])}")
    html = page.get_data(as_text=True)
    assert page.status_code == 404 and 'data-testid="link-invalid"' in html
    assert "Sjoukje" not in html and "Buurtkamer" not in html
