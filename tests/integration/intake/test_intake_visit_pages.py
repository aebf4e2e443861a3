"""The visit on the pages, on SQLite and PostgreSQL: the volunteer's "how did it go?"
(errors in place, in their language), kamer staff recording it for them, the attention
page's "visit not done", the kamer's settings, and the calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from intake_support import TEST_SECRET
from sqlalchemy import select
from ui_support import csrf_of, post_form, proposed_case, sign_in, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.entrypoints.web.calendar_feed import sign_feed
from mienskip_shared.contracts import parse
from mienskip_shared.links import sign_volunteer_link

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


@pytest.fixture
def clock(intake):
    class Clock:
        now = START + timedelta(hours=3)

    moved = Clock()
    intake.wsgi_app.config["MIENSKIP_CLOCK"] = lambda: moved.now
    return moved


@pytest.fixture
def accepted(client, intake, kamer_a):
    """A request of kamer A accepted by Anna; its ids and Anna's link path."""
    def make(start=START):
        case = proposed_case(client, intake.engine, kamer_a, start=start)
        for step in ("approve", "accept"):
            assert client.post(f"/v1/assignments/{case['assignment']}/{step}", json={},
                               headers=kamer_a.headers).status_code == 200
        token = sign_volunteer_link(TEST_SECRET, case["assignment"], case["volunteer"],
                                    datetime.now(UTC) + timedelta(days=30))
        return {**case, "token": token}
    return make


def _check(web, token):
    """The link page's own form check, as the page renders it."""
    html = web.get(f"/v/{token}").get_data(as_text=True)
    return html.split('name="check" value="', 1)[1].split('"', 1)[0]


def _visits(engine):
    with engine.begin() as tx:
        return tx.execute(select(t.visits)).all()


def test_the_volunteer_page_asks_only_after_the_start(web, intake, clock, accepted):
    case = accepted()
    clock.now = START - timedelta(minutes=5)
    assert 'data-testid="visit-form"' not in web.get(f"/v/{case['token']}").get_data(as_text=True)
    clock.now = START + timedelta(minutes=5)
    assert 'data-testid="visit-form"' in web.get(f"/v/{case['token']}").get_data(as_text=True)


def test_the_volunteer_records_a_visit_and_sees_it_afterwards(web, intake, clock, accepted):
    case = accepted()
    token = case["token"]
    answer = web.post(f"/v/{token}/visit", data={"check": _check(web, token), "lang": "fy", "done": "yes",
                                                 "hours": "1,5", "km": "12,4", "note": "Goed gien"})
    assert answer.status_code == 303 and "done=visit_done" in answer.headers["Location"]
    [visit] = _visits(intake.engine)
    assert (visit.done, visit.hours, visit.km, visit.note) == (True, 1.5, 12.4, "Goed gien")
    page = web.get(answer.headers["Location"])
    text = text_of(page)
    assert "Tige tank! De besite is fêstlein." in text and "1,5 oere" in text and "12,4 km" in text
    assert 'data-testid="visit-form"' not in page.get_data(as_text=True)


def test_errors_show_in_place_naming_the_field_and_keep_what_was_typed(web, intake, clock, accepted):
    case = accepted()
    token = case["token"]
    answer = web.post(f"/v/{token}/visit", data={"check": _check(web, token), "lang": "en", "done": "no",
                                                 "note": "rang twice"})
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert 'id="err-visit-reason"' in html and "say why the visit did not happen" in html
    assert 'aria-invalid="true" aria-describedby="err-visit-reason"' in html and "rang twice" in html
    bad_number = web.post(f"/v/{token}/visit", data={"check": _check(web, token), "lang": "nl", "done": "yes",
                                                     "km": "twaalf"})
    assert bad_number.status_code == 422 and "vul een getal in" in bad_number.get_data(as_text=True)
    nothing = web.post(f"/v/{token}/visit", data={"check": _check(web, token)})
    assert nothing.status_code == 422 and 'id="err-visit-done"' in nothing.get_data(as_text=True)
    assert _visits(intake.engine) == []


def test_the_form_needs_the_links_own_check(web, intake, clock, accepted):
    case = accepted()
    assert web.post(f"/v/{case['token']}/visit", data={"check": "forged", "done": "yes"}).status_code == 403
    assert _visits(intake.engine) == []


def test_staff_record_for_the_volunteer_and_a_visit_not_done_needs_attention(web, intake, kamer_a, clock, accepted):
    case = accepted()
    sign_in(web, kamer_a.token)
    page = web.get(f"/review/requests/{case['request']}?lang=en")
    assert 'data-testid="visit-form"' in page.get_data(as_text=True)
    forged = web.post(f"/desk/assignments/{case['assignment']}/visit", data={"done": "no", "reason": "x",
                                                                             "request_id": case["request"]})
    assert forged.status_code == 403
    answer = post_form(web, f"/desk/assignments/{case['assignment']}/visit",
                       {"done": "no", "reason": "Nobody home", "request_id": case["request"]})
    assert answer.status_code == 303
    [visit] = _visits(intake.engine)
    assert visit.done is False and visit.recorded_by == f"kamer:{kamer_a.token_id}"
    attention = web.get("/review/attention").get_data(as_text=True)
    assert f'data-request-id="{case["request"]}" data-testid="visit-not-done"' in attention
    assert "Nobody home" in attention
    # the kamer asks for a new match (the volunteer's no): the item leaves the list
    post_form(web, f"/desk/assignments/{case['assignment']}/phoned/decline", {"reason": "not home"})
    assert 'data-testid="visit-not-done"' not in web.get("/review/attention").get_data(as_text=True)


def test_another_kamer_cannot_record_from_the_desk(web, intake, kamer_b, clock, accepted):
    case = accepted()
    sign_in(web, kamer_b.token)
    post_form(web, f"/desk/assignments/{case['assignment']}/visit", {"done": "yes", "request_id": case["request"]})
    assert _visits(intake.engine) == []


def test_settings_save_and_announce_the_kamer_again(web, intake, kamer_a, coordinator):
    sign_in(web, kamer_a.token)
    assert web.get("/desk/settings").status_code == 403  # staff without the lead's say
    web.post("/review/logout", data={"csrf": csrf_of(web)})
    sign_in(web, coordinator["Authorization"].split()[1])
    page = web.get(f"/desk/settings?kamer={kamer_a.id}&lang=en")
    assert page.status_code == 200 and 'value="0,30"' in page.get_data(as_text=True)
    bad = post_form(web, "/desk/settings", {"kamer_id": kamer_a.id, "phone": "call me", "rate": "abc",
                                            "reminder_time": "25:00", "follow_up_days": "0"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    for field in ("phone", "rate", "reminder_time", "follow_up_days"):
        assert f'id="err-{field}"' in html
    saved = post_form(web, "/desk/settings", {"kamer_id": kamer_a.id, "phone": "058 212 00 00", "rate": "0,35",
                                              "reminder_time": "17:30", "follow_up_days": "5"})
    assert saved.status_code == 303
    with intake.engine.begin() as tx:
        kamer = tx.execute(select(t.kamers).where(t.kamers.c.id == kamer_a.id)).one()
        bodies = [r.body for r in tx.execute(select(t.outbox.c.body).where(
            t.outbox.c.event_type == "kamer.registered").order_by(t.outbox.c.id))]
    assert (kamer.phone, kamer.mileage_rate_cents, kamer.reminder_time, kamer.follow_up_days) == (
        "058 212 00 00", 35, "17:30", 5)
    last = parse(bodies[-1])
    assert last.data["kamer_id"] == kamer_a.id and last.data["reminder_time"] == "17:30"
    assert last.data["follow_up_days"] == 5 and last.data["phone"] == "058 212 00 00"


def test_the_calendar_feed_holds_only_that_volunteers_tasks_and_a_new_link_revokes_it(web, intake, kamer_a,
                                                                                      client, clock, accepted):
    mine = accepted()
    theirs = accepted(START + timedelta(days=1))
    offered = proposed_case(client, intake.engine, kamer_a, start=START + timedelta(days=3))
    with intake.engine.begin() as tx:  # the offer goes to the first volunteer too
        tx.execute(t.assignments.update().where(t.assignments.c.id == offered["assignment"])
                   .values(volunteer_id=mine["volunteer"]))
    client.post(f"/v1/assignments/{offered['assignment']}/approve", json={}, headers=kamer_a.headers)
    clock.now = START - timedelta(hours=1)
    html = web.get(f"/v/{mine['token']}").get_data(as_text=True)
    url = html.split('data-testid="calendar-url"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    path = url.split("127.0.0.1:8000", 1)[1]
    feed = web.get(path)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = Calendar.from_ical(feed.data).walk("VEVENT")
    assert sorted(str(e["UID"]) for e in events) == sorted([f"{mine['assignment']}@mienskip",
                                                            f"{offered['assignment']}@mienskip"])
    by_uid = {str(e["UID"]).split("@")[0]: e for e in events}
    accepted_event, offered_event = by_uid[mine["assignment"]], by_uid[offered["assignment"]]
    assert str(accepted_event["LOCATION"]) == "Tsjerkepaed 3, 9001 AB Grou"
    assert "LOCATION" not in offered_event and str(offered_event["STATUS"]) == "TENTATIVE"
    assert str(accepted_event["SUMMARY"]) == "Huisdieren · Buurtkamer Bilgaard"
    assert accepted_event.decoded("DTSTART") == START
    assert b"Jan" not in feed.data and b"+31587123456" not in feed.data and b"Rustige" not in feed.data
    assert theirs["assignment"] not in feed.get_data(as_text=True)
    with intake.engine.begin() as tx:  # the address shown is a read of personal data: audited
        audited = tx.execute(select(t.audit_log.c.subject_id).where(t.audit_log.c.action == "read:calendar")).all()
    assert {row.subject_id for row in audited} == {mine["request"]}
    # cancelled tasks leave the feed
    client.post(f"/v1/requests/{offered['request']}/cancel", json={}, headers=kamer_a.headers)
    assert offered["assignment"] not in web.get(path).get_data(as_text=True)
    # a new link: the old URL is a 404, the new one works
    renewed = web.post(f"/v/{mine['token']}/calendar/new", data={"check": _check(web, mine["token"])})
    assert renewed.status_code == 303
    assert web.get(path).status_code == 404
    new_path = f"/calendar/{sign_feed(TEST_SECRET, mine['volunteer'], 1)}.ics"
    assert web.get(new_path).status_code == 200
    assert web.get(f"/calendar/{sign_feed('another secret', mine['volunteer'], 1)}.ics").status_code == 404
    assert web.get("/calendar/nonsense.ics").status_code == 404
