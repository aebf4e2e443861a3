"""The desk's new-request form (/desk/requests/new) through Flask's test client, on SQLite
and PostgreSQL: look up, confirm, save through the API's own rules; errors next to their
field in the reader's language; a double click or a resend makes one request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import Kamer
from sqlalchemy import func, select
from ui_support import post_form, sign_in, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters.read_models import AMSTERDAM

NEXT_WEEK = (datetime.now(UTC) + timedelta(days=7)).astimezone(AMSTERDAM).date()
FORM = {"name": "Durk Postma", "phone": "058 123 4567", "email": "", "language": "fy", "postcode": "9001ab",
        "house_number": "3", "addition": "a", "category": "shopping", "skills": ["buddy"], "needs_car": "on",
        "needs_language": "fy", "when": "once", "date": NEXT_WEEK.isoformat(), "day": "", "start": "10:00",
        "end": "11:30", "urgency": "normal", "notes": "Boodskippen by de Poiesz"}


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _key(page) -> str:
    return re.search(r'name="key" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def _count(engine) -> int:
    with engine.begin() as tx:
        return tx.execute(select(func.count()).select_from(t.requests)).scalar_one()


def _look_up(web, form):
    key = _key(web.get("/desk/requests/new"))
    return key, post_form(web, "/desk/requests/new", {**form, "key": key, "action": "look_up"})


def test_look_up_shows_the_place_then_save_makes_the_request_and_opens_it(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, looked = _look_up(web, FORM)
    assert looked.status_code == 200
    text = text_of(looked)
    assert "postcode area 9001 (Grou)".lower() in text.lower() or "postcodegebied 9001 (Grou)" in text
    assert 'value="9001AB 3 A"' in looked.get_data(as_text=True)  # the confirmed address travels along
    assert _count(intake.engine) == 0  # looking up saves nothing

    saved = post_form(web, "/desk/requests/new", {**FORM, "key": key, "confirmed": "9001AB 3 A", "action": "save"})
    assert saved.status_code == 303
    request_id = saved.headers["Location"].rsplit("/", 1)[-1]
    with intake.engine.begin() as tx:
        row = tx.execute(select(t.requests).where(t.requests.c.id == request_id)).one()
    assert row.kamer_id == kamer_a.id and row.resident_name == "Durk Postma"
    assert (row.lat, row.lon, row.location_precision) == (53.09276, 5.83689, "postcode4")
    assert row.resident_address == "3a, 9001 AB Grou" and row.resident_language == "fy"
    assert set(row.skills) == {"shopping", "buddy", "transport"}  # a car: transport
    assert row.needs_language == "fy" and row.recurrence is None
    start = row.window_start.astimezone(AMSTERDAM)
    assert (start.date(), start.hour, start.minute) == (NEXT_WEEK, 10, 0)
    detail = web.get(saved.headers["Location"])
    assert detail.status_code == 200 and "Durk Postma" in text_of(detail)
    assert 'data-precision="postcode4"' in detail.get_data(as_text=True)
    listed = web.get("/desk").get_data(as_text=True)  # "our requests" marks an approximate place
    assert request_id in listed and 'data-precision="postcode4"' in listed


def test_a_double_click_or_a_resend_makes_one_request(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    data = {**FORM, "key": key, "confirmed": "9001AB 3 A", "action": "save"}
    first = post_form(web, "/desk/requests/new", data)
    second = post_form(web, "/desk/requests/new", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert _count(intake.engine) == 1
    changed = post_form(web, "/desk/requests/new", {**data, "notes": "something else"})
    assert changed.status_code == 422 and _count(intake.engine) == 1


def test_saving_an_address_not_looked_up_shows_it_first(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    moved = post_form(web, "/desk/requests/new", {**FORM, "house_number": "5", "key": key,
                                                  "confirmed": "9001AB 3 A", "action": "save"})
    assert moved.status_code == 200 and 'value="9001AB 5 A"' in moved.get_data(as_text=True)
    assert _count(intake.engine) == 0


@pytest.mark.parametrize(("language", "words"), [("nl", "Postcode: deze postcode"), ("fy", "Postkoade: dizze postkoade"),
                                                 ("en", "Postcode: we do not know")])
def test_an_unknown_postcode_is_named_next_to_its_field_in_the_readers_language(web, kamer_a, language, words):
    sign_in(web, kamer_a.token)
    web.get(f"/desk/requests/new?lang={language}")
    _, answer = _look_up(web, {**FORM, "postcode": "1012 AB"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="err-postcode"' in html and 'aria-describedby="postcode-hint err-postcode"' in html
    assert words in text_of(answer)


def test_field_errors_from_the_apis_rules_are_shown_in_place(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    past = (datetime.now(UTC) - timedelta(days=2)).astimezone(AMSTERDAM).date().isoformat()
    answer = post_form(web, "/desk/requests/new", {**FORM, "name": "", "phone": "bel me", "category": "",
                                                   "date": past, "key": key, "confirmed": "9001AB 3 A",
                                                   "action": "save"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    for field in ("name", "phone", "category"):
        assert f'id="err-{field}"' in html, field
    assert 'id="name" name="name" aria-invalid="true"' in html
    again = post_form(web, "/desk/requests/new", {**FORM, "date": past, "key": key, "confirmed": "9001AB 3 A",
                                                  "action": "save"})
    assert 'id="err-date"' in again.get_data(as_text=True)  # the domain's rule: the window lies in the past
    assert _count(intake.engine) == 0


def test_weekly_on_a_day_makes_a_recurring_request_on_the_next_such_day(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    saved = post_form(web, "/desk/requests/new", {**FORM, "when": "weekly", "date": "", "day": "thu", "key": key,
                                                  "confirmed": "9001AB 3 A", "action": "save"})
    assert saved.status_code == 303
    with intake.engine.begin() as tx:
        row = tx.execute(select(t.requests)).one()
    start = row.window_start.astimezone(AMSTERDAM)
    assert row.recurrence == "weekly" and start.weekday() == 3 and start.hour == 10
    assert start > datetime.now(UTC) and start - datetime.now(UTC) <= timedelta(days=7)


def test_only_a_kamers_staff_enter_requests_and_signed_out_goes_to_sign_in(web, intake, coordinator):
    assert web.get("/desk/requests/new").status_code == 302
    sign_in(web, coordinator["Authorization"].split(" ", 1)[1])
    page = web.get("/desk/requests/new")
    assert page.status_code == 200 and 'name="action"' not in page.get_data(as_text=True)
    assert post_form(web, "/desk/requests/new", {**FORM, "action": "save"}).status_code == 403
    assert _count(intake.engine) == 0


def test_the_request_lands_in_its_own_kamer_only(web, intake, kamer_a):
    other = Kamer(intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    post_form(web, "/desk/requests/new", {**FORM, "key": key, "confirmed": "9001AB 3 A", "action": "save"})
    listed = intake.wsgi_app.test_client().get("/v1/requests", headers=other.headers).get_json()
    assert listed == {"items": []}


def test_a_missing_time_is_named_on_its_own_field_only(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    key, _ = _look_up(web, FORM)
    answer = post_form(web, "/desk/requests/new", {**FORM, "start": "", "key": key, "confirmed": "9001AB 3 A",
                                                   "action": "save"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="err-start"' in html
    assert 'id="err-date"' not in html and 'id="err-end"' not in html
