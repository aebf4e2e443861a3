"""Staff of several kamers choose the kamer the pages act for (issue 16): a chooser in the
header, kept in the server-side session, only the person's own kamers; every desk page
and action follows it; a record of another of their kamers opened by link switches to
that kamer, while a form posted for it, and anything of a kamer not theirs, is a 404.
Flask's test client on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from account_support import browser, log_in, person_of
from intake_support import Kamer
from sqlalchemy import select
from ui_support import post_form, request_body, text_of, volunteer_body

from mienskip_intake.adapters import tables as t


@pytest.fixture
def kamer_c(intake):
    return Kamer(intake.engine, "Dorpskamer Grou", 53.0946, 5.8374)


def request_of(client, kamer, resident: str) -> str:
    body = request_body()
    body["resident"]["name"] = resident
    return client.post("/v1/requests", json=body, headers=kamer.headers).get_json()["id"]


def volunteer_of(client, kamer, name: str) -> str:
    return client.post("/v1/volunteers", json=volunteer_body(name), headers=kamer.headers).get_json()["id"]


def chosen_kamer(intake, user_id) -> set[str]:
    with intake.engine.begin() as tx:
        return {r.kamer_id for r in tx.execute(select(t.web_sessions.c.kamer_id).where(
            t.web_sessions.c.user_id == user_id, t.web_sessions.c.ended_at.is_(None)))}


def test_staff_of_two_kamers_choose_one_and_every_desk_page_and_action_follows(intake, client, kamer_a, kamer_b,
                                                                              kamer_c):
    ours_a, ours_b = request_of(client, kamer_a, "Sieds Visser"), request_of(client, kamer_b, "Tjitske Kuipers")
    volunteer_of(client, kamer_a, "Anna de Vries")
    volunteer_of(client, kamer_b, "Baukje Bouma")
    user_id, web = person_of(intake, kamer_ids=(kamer_a.id, kamer_b.id), display_name="Hiltsje")

    desk = text_of(web.get("/desk"))  # the first kamer, until another is chosen
    assert "Sieds" in desk and "Tjitske" not in desk
    page = web.get("/desk").get_data(as_text=True)
    assert 'id="kamer-choice"' in page and "Dorpskamer De Wjukken" in page and "Dorpskamer Grou" not in page

    chosen = post_form(web, "/account/kamer", {"kamer": kamer_b.id, "next": "/desk/volunteers"})
    assert chosen.status_code == 303 and chosen.headers["Location"] == "/desk/volunteers"
    assert chosen_kamer(intake, user_id) == {kamer_b.id}  # on the server, not in the cookie
    with web.session_transaction() as stored:
        assert set(stored) <= {"sid", "csrf", "lang", "_flashes", "_permanent"}
    volunteers = text_of(web.get("/desk/volunteers"))
    assert "Baukje" in volunteers and "Anna" not in volunteers
    desk = text_of(web.get("/desk"))
    assert "Tjitske" in desk and "Sieds" not in desk and "Dorpskamer De Wjukken" in desk
    assert post_form(web, f"/review/requests/{ours_b}/cancel").status_code == 303  # an action: the chosen kamer's
    assert post_form(web, f"/review/requests/{ours_a}/cancel").status_code == 404  # a form never switches
    with intake.engine.begin() as tx:
        statuses = dict(tx.execute(select(t.requests.c.id, t.requests.c.status)).all())
    assert statuses[ours_b] == "cancelled" and statuses[ours_a] != "cancelled"
    assert chosen_kamer(intake, user_id) == {kamer_b.id}

    other = browser(intake)  # a new sign-in starts at the first kamer again; this session keeps its choice
    assert log_in(other, "anna@example.org").status_code == 303
    assert "Sieds" in text_of(other.get("/desk"))
    assert "Tjitske" in text_of(web.get("/desk"))


def test_only_the_persons_own_kamers_can_be_chosen(intake, client, kamer_a, kamer_b, kamer_c):
    user_id, web = person_of(intake, kamer_ids=(kamer_a.id, kamer_b.id))
    assert post_form(web, "/account/kamer", {"kamer": kamer_c.id}).status_code == 403
    assert post_form(web, "/account/kamer", {"kamer": "no-such-kamer"}).status_code == 403
    assert chosen_kamer(intake, user_id) == {kamer_a.id}
    _, single = person_of(intake, "baukje@example.org", kamer_ids=(kamer_a.id,))
    assert 'id="kamer-choice"' not in single.get("/desk").get_data(as_text=True)  # one kamer: nothing to choose
    assert post_form(single, "/account/kamer", {"kamer": kamer_b.id}).status_code == 403
    _, coordinator = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden")
    assert post_form(coordinator, "/account/kamer", {"kamer": kamer_a.id}).status_code == 403


def test_a_record_of_another_of_their_kamers_opened_by_link_switches_and_says_so(intake, client, kamer_a, kamer_b,
                                                                                 kamer_c):
    ours_b, theirs = request_of(client, kamer_b, "Tjitske Kuipers"), request_of(client, kamer_c, "Durk Postma")
    volunteer_b = volunteer_of(client, kamer_b, "Baukje Bouma")
    user_id, web = person_of(intake, kamer_ids=(kamer_a.id, kamer_b.id))

    opened = web.get(f"/review/requests/{ours_b}?from=mail")
    assert opened.status_code == 303 and opened.headers["Location"] == f"/review/requests/{ours_b}?from=mail"
    shown = web.get(opened.headers["Location"])
    assert shown.status_code == 200 and "Dorpskamer De Wjukken" in text_of(shown)
    assert "u werkt nu voor Dorpskamer De Wjukken" in text_of(shown)
    assert chosen_kamer(intake, user_id) == {kamer_b.id}

    post_form(web, "/account/kamer", {"kamer": kamer_a.id})
    assert web.get(f"/desk/volunteers/{volunteer_b}").status_code == 303  # a volunteer's page likewise
    assert web.get(f"/desk/volunteers/{volunteer_b}").status_code == 200
    assert chosen_kamer(intake, user_id) == {kamer_b.id}

    assert web.get(f"/review/requests/{theirs}").status_code == 404  # not a kamer of theirs: as if missing
    assert web.get("/review/requests/no-such-request").status_code == 404
    assert chosen_kamer(intake, user_id) == {kamer_b.id}
    _, single = person_of(intake, "baukje@example.org", kamer_ids=(kamer_a.id,))
    assert single.get(f"/review/requests/{ours_b}").status_code == 404
