"""The review pages about providers and referrals (issue 13): a coordinator registers a
provider on the page, refers an unmatched request from its page, sees it waiting, notes
an answer given by phone; the attention page lists overdue and declined referrals."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from intake_support import PROVIDER, TEST_SECRET, propose, provider_headers, register_provider, unmatch, uow
from sqlalchemy import select
from ui_support import bearer_token, post_form, sign_in

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain import referral_commands as rc
from mienskip_intake.service_layer import referrals
from mienskip_shared.links import sign_volunteer_link

IN_A_WEEK = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
REQUEST = {"resident": {"name": "Sjoukje Dijkstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "buddy",
           "window": {"start": IN_A_WEEK.isoformat(), "end": (IN_A_WEEK + timedelta(hours=1)).isoformat()}}


def test_a_coordinator_registers_a_provider_on_the_page(client, coordinator):
    sign_in(client, bearer_token(coordinator))
    assert client.get("/review/providers/new").status_code == 200
    refused = post_form(client, "/review/providers/new", {"name": "Schuldhulp Leeuwarden", "kind": "schuldhulp",
                                                          "webhook_url": "http://example.org/x"})
    assert refused.status_code == 422 and 'data-testid="form-errors"' in refused.get_data(as_text=True)
    saved = post_form(client, "/review/providers/new", {
        "name": "Schuldhulp Leeuwarden", "kind": "schuldhulp", "email": "schuldhulp@example.org",
        "categories": ["paperwork"], "language": "nl", "answer_within_days": "3", "active": "yes"})
    assert saved.status_code == 303
    listing = client.get("/review/providers").get_data(as_text=True)
    assert "Schuldhulp Leeuwarden" in listing and 'data-stat="taken">0<' in listing


def test_a_kamer_reads_the_providers_but_cannot_register_one(client, coordinator, kamer_a):
    register_provider(client, coordinator)
    sign_in(client, kamer_a.token)
    assert PROVIDER["name"] in client.get("/review/providers").get_data(as_text=True)
    assert client.get("/review/providers/new").status_code == 403


def test_an_unmatched_request_is_referred_from_its_page_and_a_phoned_decline_shows_choose_another(
        client, intake, coordinator, kamer_a):
    provider_id = register_provider(client, coordinator)
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer_a.headers).get_json()["id"]
    unmatch(intake.engine, request_id)
    sign_in(client, bearer_token(coordinator))
    page = client.get(f"/review/requests/{request_id}").get_data(as_text=True)
    assert 'data-testid="refer-form"' in page and PROVIDER["name"] in page
    post_form(client, f"/review/requests/{request_id}/refer", {"provider_id": provider_id, "note": "Graag bellen"})
    listing = client.get("/review/providers").get_data(as_text=True)
    assert 'data-testid="referrals-waiting"' in listing and "Sjoukje" in listing
    referral_id = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["referral"]["id"]
    post_form(client, f"/review/referrals/{referral_id}/phoned-decline", {"reason": "Vol"})
    page = client.get(f"/review/requests/{request_id}").get_data(as_text=True)
    assert 'data-testid="choose-another"' in page and 'data-testid="refer-form"' in page
    attention = client.get("/review/attention").get_data(as_text=True)
    assert f'data-referral-id="{referral_id}"' in attention
    sign_in(client, kamer_a.token)  # the kamer's desk says so too
    desk = client.get("/desk").get_data(as_text=True)
    assert 'data-testid="declined-referrals"' in desk and f'data-referral-id="{referral_id}"' in desk


def test_an_overdue_referral_is_on_the_attention_page(client, intake, coordinator, kamer_a):
    provider_id = register_provider(client, coordinator)
    client.post("/v1/requests", json={**REQUEST, "helper": "professional", "provider_id": provider_id},
                headers=kamer_a.headers)
    referrals.mark_overdue(rc.MarkOverdueReferrals(now=datetime.now(UTC) + timedelta(days=10)), uow(intake.engine))
    sign_in(client, bearer_token(coordinator))
    attention = client.get("/review/attention").get_data(as_text=True)
    assert 'id="h-referrals-overdue"' in attention and "Sjoukje" in attention


def test_the_request_page_shows_the_accepted_part(client, intake, coordinator, kamer_a):
    provider_id = register_provider(client, coordinator)
    request_id = client.post("/v1/requests", json={**REQUEST, "helper": "both", "provider_id": provider_id},
                             headers=kamer_a.headers).get_json()["id"]
    referral_id = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["referral"]["id"]
    client.post(f"/v1/referrals/{referral_id}/accept", json={"who": "Marrit"},
                headers=provider_headers(referral_id, provider_id))
    sign_in(client, kamer_a.token)
    page = client.get(f"/review/requests/{request_id}").get_data(as_text=True)
    assert 'data-testid="referral-who">Marrit' in page and 'data-testid="refer-form"' not in page


def test_the_desk_form_sends_a_professional_request_to_its_provider(client, intake, coordinator, kamer_a):
    provider_id = register_provider(client, coordinator)
    sign_in(client, kamer_a.token)
    day = (IN_A_WEEK + timedelta(days=1)).date().isoformat()
    form = {"name": "Durk Postma", "language": "fy", "postcode": "9001ab", "house_number": "3", "category": "buddy",
            "when": "once", "date": day, "start": "10:00", "end": "11:00", "urgency": "normal",
            "helper": "professional", "provider_id": provider_id}
    page = client.get("/desk/requests/new").get_data(as_text=True)
    assert PROVIDER["name"] in page
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)
    post_form(client, "/desk/requests/new", {**form, "key": key, "action": "look_up"})
    saved = post_form(client, "/desk/requests/new", {**form, "key": key, "confirmed": "9001AB 3", "action": "save"})
    assert saved.status_code == 303, saved.get_data(as_text=True)[:500]
    with intake.engine.begin() as tx:
        request = tx.execute(select(t.requests)).one()
        referral = tx.execute(select(t.referrals)).one()
    assert (request.helper, referral.provider_id, referral.status) == ("professional", provider_id, "sent")


def test_a_combined_requests_proposal_link_page_and_map_say_a_professional_is_involved(client, intake, coordinator,
                                                                                        kamer_a):
    provider_id = register_provider(client, coordinator)
    request_id = client.post("/v1/requests", json={**REQUEST, "helper": "both", "provider_id": provider_id},
                             headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json={"name": "Anna de Vries", "home": {"lat": 53.2, "lon": 5.8},
                                                       "skills": ["buddy"], "availability": []},
                               headers=kamer_a.headers).get_json()["id"]
    assignment_id = propose(intake.engine, request_id, volunteer_id)
    sign_in(client, kamer_a.token)
    assert 'data-testid="professional-too"' in client.get("/review/").get_data(as_text=True)
    assert "circle class=\"req m-proposed referred\"" in client.get("/review/map").get_data(as_text=True)
    client.post(f"/v1/assignments/{assignment_id}/approve", headers=kamer_a.headers)
    token = sign_volunteer_link(TEST_SECRET, assignment_id, volunteer_id, datetime.now(UTC) + timedelta(days=3))
    assert 'data-testid="professional-too"' in client.get(f"/v/{token}").get_data(as_text=True)


def test_a_professional_request_without_a_provider_waits_on_the_attention_page(client, coordinator, kamer_a):
    register_provider(client, coordinator)
    request_id = client.post("/v1/requests", json={**REQUEST, "helper": "professional"},
                             headers=kamer_a.headers).get_json()["id"]
    sign_in(client, bearer_token(coordinator))
    attention = client.get("/review/attention").get_data(as_text=True)
    assert 'id="h-referrals-missing"' in attention and f'data-request-id="{request_id}"' in attention
