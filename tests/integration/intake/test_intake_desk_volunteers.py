"""The desk's volunteer pages (/desk/volunteers) through Flask's test client, on SQLite and
PostgreSQL: register by postcode with a weekly grid, errors in place, the duplicate
warning, editing, away periods, pause and stop, the VOG list; another kamer sees nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from ui_support import post_form, sign_in, text_of

from mienskip_intake.adapters.read_models import AMSTERDAM

TODAY = datetime.now(UTC).astimezone(AMSTERDAM).date()
FORM = {"name": "Hiltsje Bouma", "phone": "06 12345678", "email": "", "language": "fy", "languages": ["nl"],
        "postcode": "9001 AB", "house_number": "3", "addition": "", "skills": ["pets", "buddy"],
        "slots": ["tue-morning", "tue-afternoon", "sat-evening"], "has_car": "on", "max_tasks_per_week": "2",
        "max_distance_km": "7,5", "vog_checked_on": ""}


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _register(web, form=FORM):
    return post_form(web, "/desk/volunteers/new", form)


def _volunteer(client, kamer, volunteer_id):
    return client.get(f"/v1/volunteers/{volunteer_id}", headers=kamer.headers).get_json()


def test_registering_by_postcode_with_the_weekly_grid(web, client, kamer_a):
    sign_in(web, kamer_a.token)
    saved = _register(web)
    assert saved.status_code == 303, text_of(saved)
    volunteer_id = saved.headers["Location"].rsplit("/", 1)[-1]
    body = _volunteer(client, kamer_a, volunteer_id)
    assert body["availability"] == [{"day": "tue", "from": "08:00", "to": "12:00"},
                                    {"day": "tue", "from": "12:00", "to": "17:00"},
                                    {"day": "sat", "from": "17:00", "to": "21:00"}]
    assert (body["language"], body["languages"], body["skills"]) == ("fy", ["fy", "nl"], ["pets", "buddy"])
    assert (body["max_distance_km"], body["has_car"], body["home"]["precision"]) == (7.5, True, "postcode4")
    page = web.get(f"/desk/volunteers/{volunteer_id}?lang=fy")
    assert 'value="tue-morning" id="slot-tue-morning" checked' in page.get_data(as_text=True)
    assert "Hiltsje Bouma" in text_of(page) and "Fuort" in text_of(page)


def test_errors_are_shown_next_to_their_field_in_the_readers_language(web, kamer_a):
    sign_in(web, kamer_a.token)
    bad = {**FORM, "name": "", "postcode": "", "house_number": "", "skills": [], "max_tasks_per_week": "veel",
           "phone": "bel mij"}
    page = post_form(web, "/desk/volunteers/new?lang=fy", bad)
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    for field in ("name", "phone", "postcode", "skills", "max_tasks_per_week"):
        assert f'id="err-{field}"' in html, field
    assert "kies op syn minst ien" in text_of(page)  # Frisian, naming the skills


def test_the_same_person_again_is_shown_and_asked_about_first(web, client, kamer_a):
    sign_in(web, kamer_a.token)
    first = _register(web).headers["Location"].rsplit("/", 1)[-1]
    again = _register(web, {**FORM, "phone": "+31 6 1234 5678"})
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert f"/desk/volunteers/{first}" in html and 'name="allow_duplicate" value="yes"' in html
    forced = _register(web, {**FORM, "allow_duplicate": "yes"})
    assert forced.status_code == 303 and forced.headers["Location"].rsplit("/", 1)[-1] != first


def test_editing_away_periods_pause_resume_and_stop(web, client, kamer_a):
    sign_in(web, kamer_a.token)
    volunteer_id = _register(web).headers["Location"].rsplit("/", 1)[-1]
    page = f"/desk/volunteers/{volunteer_id}"

    edited = post_form(web, page, {**FORM, "postcode": "", "house_number": "", "max_tasks_per_week": "4",
                                   "slots": ["wed-evening"]})
    assert edited.status_code == 303
    body = _volunteer(client, kamer_a, volunteer_id)
    assert body["max_tasks_per_week"] == 4 and body["availability"] == [{"day": "wed", "from": "17:00", "to": "21:00"}]
    assert body["home"]["precision"] == "postcode4"  # left empty: the home stays

    first, last = TODAY + timedelta(days=10), TODAY + timedelta(days=20)
    post_form(web, f"{page}/away", {"from": first.isoformat(), "to": last.isoformat()})
    assert _volunteer(client, kamer_a, volunteer_id)["away"] == [{"from": first.isoformat(), "to": last.isoformat()}]
    refused = post_form(web, f"{page}/away", {"from": last.isoformat(), "to": first.isoformat()}, follow_redirects=True)
    assert "kloppen niet" in text_of(refused)
    post_form(web, f"{page}/away/remove", {"from": first.isoformat(), "to": last.isoformat()})
    assert _volunteer(client, kamer_a, volunteer_id)["away"] == []

    post_form(web, f"{page}/pause")
    assert _volunteer(client, kamer_a, volunteer_id)["status"] == "paused"
    post_form(web, f"{page}/resume")
    assert _volunteer(client, kamer_a, volunteer_id)["status"] == "active"
    post_form(web, f"{page}/stop")
    assert _volunteer(client, kamer_a, volunteer_id)["status"] == "stopped"


def test_the_list_searches_filters_and_names_whose_vog_expires_soon(web, client, kamer_a):
    sign_in(web, kamer_a.token)
    soon = date(TODAY.year - 3, TODAY.month, min(TODAY.day, 28)) + timedelta(days=20)
    _register(web, {**FORM, "name": "Sjoerd de Vries", "vog_checked_on": soon.isoformat(), "phone": "0611111111"})
    _register(web, {**FORM, "name": "Baukje Bouma", "vog_checked_on": TODAY.isoformat(), "phone": "0622222222"})
    listing = web.get("/desk/volunteers")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    expiring = html.split('data-testid="vog-expiring"')[1].split("</section>")[0]
    assert "Sjoerd de Vries" in expiring and "Baukje Bouma" not in expiring
    found = text_of(web.get("/desk/volunteers?q=bouma"))
    assert "Baukje Bouma" in found and "Sjoerd de Vries" not in found.split("Zoek op naam")[1]


def test_another_kamers_staff_sees_none_of_it(web, client, kamer_a, kamer_b):
    sign_in(web, kamer_a.token)
    volunteer_id = _register(web).headers["Location"].rsplit("/", 1)[-1]
    other = kamer_b.token
    web_b = client.application.test_client()
    sign_in(web_b, other)
    assert "Hiltsje" not in text_of(web_b.get("/desk/volunteers"))
    assert web_b.get(f"/desk/volunteers/{volunteer_id}").status_code == 404
    assert post_form(web_b, f"/desk/volunteers/{volunteer_id}/pause").status_code in (303, 404)
    assert _volunteer(client, kamer_a, volunteer_id)["status"] == "active"
    assert post_form(web_b, f"/desk/volunteers/{volunteer_id}/away",
                     {"from": TODAY.isoformat(), "to": TODAY.isoformat()}).status_code == 404


def test_the_volunteer_phoned_yes_or_no_from_the_request_page(web, client, intake, kamer_a, kamer_b):
    from intake_support import propose

    sign_in(web, kamer_a.token)
    volunteer_id = _register(web).headers["Location"].rsplit("/", 1)[-1]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    body = {"resident": {"name": "Durk Postma"}, "location": {"lat": 53.09, "lon": 5.83}, "category": "pets",
            "notes": "De hûn hjit Bello", "window": {"start": start.isoformat(),
                                                     "end": (start + timedelta(hours=1)).isoformat()}}

    def approved_task():
        request_id = client.post("/v1/requests", json=body, headers=kamer_a.headers).get_json()["id"]
        assignment_id = propose(intake.engine, request_id, volunteer_id)
        client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=kamer_a.headers)
        return request_id, assignment_id

    request_id, assignment_id = approved_task()
    page = web.get(f"/review/requests/{request_id}")
    assert 'data-testid="phoned"' in page.get_data(as_text=True)
    here = f"/review/requests/{request_id}"
    said_yes = post_form(web, f"/desk/assignments/{assignment_id}/phoned/accept", {"next": here})
    assert said_yes.status_code == 303 and said_yes.headers["Location"].endswith(here)
    assert client.get(here.replace("/review", "/v1"), headers=kamer_a.headers).get_json()["status"] == "accepted"

    request_id, assignment_id = approved_task()
    post_form(web, f"/desk/assignments/{assignment_id}/phoned/decline", {"reason": "siik"})
    shown = client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()
    assert shown["status"] == "declined" and shown["history"][-1]["note"] == "siik"

    web_b = client.application.test_client()
    sign_in(web_b, kamer_b.token)
    request_id, assignment_id = approved_task()
    post_form(web_b, f"/desk/assignments/{assignment_id}/phoned/accept")
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "approved"


# -- the volunteer's own page, through their link ------------------------------------------------

def test_the_volunteers_own_page_shows_notes_the_kamers_phone_and_changes_their_week(web, client, intake, kamer_a):
    import re

    from intake_support import TEST_SECRET, propose
    from sqlalchemy import update

    from mienskip_intake.adapters import tables as t
    from mienskip_shared.links import sign_volunteer_link

    with intake.engine.begin() as tx:
        tx.execute(update(t.kamers).where(t.kamers.c.id == kamer_a.id).values(phone="058 212 00 00"))
    sign_in(web, kamer_a.token)
    volunteer_id = _register(web).headers["Location"].rsplit("/", 1)[-1]
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
    body = {"resident": {"name": "Durk Postma", "address": "Tsjerkepaed 3, 9001 AB Grou"},
            "location": {"lat": 53.09, "lon": 5.83}, "category": "pets", "notes": "De hûn hjit Bello",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}
    request_id = client.post("/v1/requests", json=body, headers=kamer_a.headers).get_json()["id"]
    assignment_id = propose(intake.engine, request_id, volunteer_id)
    client.post(f"/v1/assignments/{assignment_id}/approve", json={}, headers=kamer_a.headers)
    token = sign_volunteer_link(TEST_SECRET, assignment_id, volunteer_id, datetime.now(UTC) + timedelta(days=3))
    visitor = client.application.test_client()  # no session: the link is the credential

    page = visitor.get(f"/v/{token}?lang=fy")
    text = text_of(page)
    assert "De hûn hjit Bello" in text and "058 212 00 00" in text  # notes before saying yes; whom to call
    assert "Tsjerkepaed" not in text  # the address only after
    assert "Durk" in text.split("Jo kommende taken")[1]  # the offer waiting is among their tasks to come
    check = re.search(r'name="check" value="([^"]+)"', page.get_data(as_text=True)).group(1)

    assert visitor.post(f"/v/{token}/availability", data={"check": "forged", "slots": ["mon-morning"]}).status_code == 403
    saved = visitor.post(f"/v/{token}/availability", data={"check": check, "slots": ["mon-morning", "fri-evening"]})
    assert saved.status_code == 303 and "done=availability" in saved.headers["Location"]
    assert _volunteer(client, kamer_a, volunteer_id)["availability"] == [
        {"day": "mon", "from": "08:00", "to": "12:00"}, {"day": "fri", "from": "17:00", "to": "21:00"}]

    first = (start + timedelta(days=30)).astimezone(AMSTERDAM).date()
    visitor.post(f"/v/{token}/away", data={"check": check, "from": first.isoformat(), "to": first.isoformat()})
    assert _volunteer(client, kamer_a, volunteer_id)["away"] == [{"from": first.isoformat(), "to": first.isoformat()}]
    wrong = visitor.post(f"/v/{token}/away", data={"check": check, "from": first.isoformat(), "to": "gisteren"})
    assert "done=invalid" in wrong.headers["Location"]

    stopped = visitor.post(f"/v/{token}/stop", data={"check": check})
    assert "done=stopped" in stopped.headers["Location"]
    assert _volunteer(client, kamer_a, volunteer_id)["status"] == "stopped"
    assert client.get(f"/v1/requests/{request_id}", headers=kamer_a.headers).get_json()["status"] == "declined"
    assert 'data-testid="own-stopped"' in visitor.get(f"/v/{token}").get_data(as_text=True)
