"""The review pages (/review) and the volunteer's link page (/v/<token>) through Flask's
test client, on SQLite and PostgreSQL: sign-in, CSRF, actions, scope, language, audit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, issue_token, uow
from sqlalchemy import select
from ui_support import (
    IN_A_WEEK,
    bearer_token,
    post_form,
    propose_with_explanation,
    proposed_case,
    report_failed_notification,
    report_unmatched,
    request_body,
    sign_in,
    text_of,
    volunteer_body,
)

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.commands import Approve, Decline, RevokeToken
from mienskip_intake.service_layer import handlers, workflow
from mienskip_shared.contracts import parse
from mienskip_shared.links import sign_volunteer_link

TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def case(client, intake, kamer_a):
    """A request of kamer A, proposed to one of its volunteers, with another as runner-up."""
    def make(kamer=kamer_a, start=IN_A_WEEK, category="pets"):
        return proposed_case(client, intake.engine, kamer, start=start, category=category)
    return make


@pytest.fixture
def web(intake):
    """A second browser: its own cookie jar, so sessions never mix."""
    return intake.wsgi_app.test_client()


def _status(engine, request_id):
    with engine.begin() as tx:
        return tx.execute(select(t.requests.c.status).where(t.requests.c.id == request_id)).scalar_one()


def _events(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)).all()
    return [parse(r.body) for r in rows]


def _audit(engine, **where):
    query = select(t.audit_log)
    for name, value in where.items():
        query = query.where(t.audit_log.c[name] == value)
    with engine.begin() as tx:
        return tx.execute(query).all()


# -- signing in and out ------------------------------------------------------------------------

def test_sign_in_keeps_a_httponly_samesite_session_without_the_token(web, coordinator):
    assert web.get("/").headers["Location"].endswith("/review/")
    assert web.get("/review/").headers["Location"].startswith("/login")
    token = bearer_token(coordinator)
    r = sign_in(web, token)
    assert r.status_code == 303 and r.headers["Location"] == "/review/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and token not in cookie
    with web.session_transaction() as session:
        assert set(session) <= {"sid", "csrf", "lang", "_permanent"}  # who it is stays on the server
        assert token not in repr(dict(session))
    assert web.get("/review/").status_code == 200
    assert post_form(web, "/review/logout").status_code == 303
    assert web.get("/review/").status_code == 302


def test_unknown_tokens_operators_and_volunteer_links_cannot_sign_in(web, intake, operator):
    assert sign_in(web, "msk_not-a-token").status_code == 401
    r = sign_in(web, bearer_token(operator))
    assert r.status_code == 403 and "persoonsgegevens" in text_of(r)
    link = sign_volunteer_link(TEST_SECRET, "a", "v", datetime.now(UTC) + timedelta(days=1))
    assert sign_in(web, link).status_code == 401
    assert web.get("/review/").status_code == 302


def test_sign_in_goes_back_to_the_page_asked_for_but_never_elsewhere(web, coordinator):
    assert sign_in(web, bearer_token(coordinator), next="/review/map").headers["Location"] == "/review/map"
    post_form(web, "/review/logout")
    assert sign_in(web, bearer_token(coordinator), next="https://evil.example/").headers["Location"] == "/review/"


def test_a_proposal_says_when_it_keeps_last_times_volunteer(web, intake, client, kamer_a):
    request_id = client.post("/v1/requests", json=request_body(IN_A_WEEK, "pets"),
                             headers=kamer_a.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=volunteer_body(), headers=kamer_a.headers).get_json()["id"]
    propose_with_explanation(intake.engine, request_id, volunteer_id, kamer_id=kamer_a.id, continuity=True)
    sign_in(web, kamer_a.token)
    assert "dezelfde vrijwilliger als vorige keer" in text_of(web.get("/review/"))
    assert "the same volunteer as last time" in text_of(web.get("/review/?lang=en"))


def test_a_revoked_token_ends_its_session(web, intake, kamer_a):
    sign_in(web, kamer_a.token)
    assert web.get("/review/").status_code == 200
    handlers.revoke_token(RevokeToken(kamer_a.token_id), uow(intake.engine))
    assert web.get("/review/").headers["Location"].startswith("/login")


# -- CSRF --------------------------------------------------------------------------------------

def test_posts_without_the_csrf_field_are_403_and_change_nothing(web, intake, coordinator, case):
    ids = case()
    sign_in(web, bearer_token(coordinator))
    assert web.post(f"/review/assignments/{ids['assignment']}/approve").status_code == 403
    assert web.post(f"/review/assignments/{ids['assignment']}/approve", data={"csrf": "forged"}).status_code == 403
    assert _status(intake.engine, ids["request"]) == "proposed"
    fresh = intake.wsgi_app.test_client()  # sign-in itself needs the field too (login CSRF)
    fresh.get("/review/login")
    assert fresh.post("/review/login", data={"token": bearer_token(coordinator)}).status_code == 403


# -- acting on proposals ---------------------------------------------------------------------------

def test_approve_from_the_list_redirects_back_with_a_message(web, intake, coordinator, case):
    ids = case()
    sign_in(web, bearer_token(coordinator))
    page = web.get("/review/")
    assert ids["assignment"] in page.get_data(as_text=True)
    r = post_form(web, f"/review/assignments/{ids['assignment']}/approve", {"next": "/review/?kamer="})
    assert r.status_code == 303 and r.headers["Location"] == "/review/?kamer="
    assert "goedgekeurd" in text_of(web.get("/review/"))
    assert _status(intake.engine, ids["request"]) == "approved"
    [event] = _events(intake.engine, "assignment.approved")
    assert event.data["actor"] == "coordinator"
    post_form(web, f"/review/assignments/{ids['assignment']}/approve")
    assert "409" in text_of(web.get("/review/"))  # approving twice: the conflict is shown, nothing changes


def test_reject_needs_a_reason_then_asks_matching_again(web, intake, kamer_a, case):
    ids = case()
    sign_in(web, kamer_a.token)
    post_form(web, f"/review/assignments/{ids['assignment']}/reject", {"reason": "  "})
    assert _status(intake.engine, ids["request"]) == "proposed"
    assert "reden" in text_of(web.get("/review/")).lower()
    post_form(web, f"/review/assignments/{ids['assignment']}/reject", {"reason": "kent de bewoner"})
    assert _status(intake.engine, ids["request"]) == "rejected"
    [event] = _events(intake.engine, "assignment.rejected")
    assert event.data["reason"] == "kent de bewoner"


def test_reassign_offers_the_runner_up_in_one_click(web, intake, coordinator, case):
    ids = case()
    sign_in(web, bearer_token(coordinator))
    html = web.get("/review/").get_data(as_text=True)
    assert f'name="volunteer_id" value="{ids["runner_up"]}"' in html and "Geef aan Baukje" in html
    post_form(web, f"/review/assignments/{ids['assignment']}/reassign", {"volunteer_id": ids["runner_up"]})
    [event] = _events(intake.engine, "assignment.reassign_requested")
    assert event.data["volunteer_id"] == ids["runner_up"]
    assert _status(intake.engine, ids["request"]) == "queued"


def test_reassign_from_the_detail_page_lists_volunteers_and_takes_a_typed_id(web, intake, coordinator, case):
    ids = case()
    sign_in(web, bearer_token(coordinator))
    html = web.get(f"/review/requests/{ids['request']}").get_data(as_text=True)
    assert f'<option value="{ids["runner_up"]}" selected>' in html
    post_form(web, f"/review/assignments/{ids['assignment']}/reassign", {"volunteer_id_typed": "nobody"})
    assert "niet kiezen" in text_of(web.get("/review/"))
    assert _status(intake.engine, ids["request"]) == "proposed"


def test_bulk_approve_reports_each_outcome(web, intake, kamer_a, case):
    many = [case() for _ in range(3)]
    sign_in(web, kamer_a.token)
    post_form(web, f"/review/assignments/{many[0]['assignment']}/approve")
    r = post_form(web, "/review/assignments/bulk-approve", {"ids": [c["assignment"] for c in many] + ["missing"]})
    assert r.status_code == 303
    assert "2 goedgekeurd, 1 konden niet meer, 1 niet gevonden" in text_of(web.get("/review/"))
    assert {_status(intake.engine, c["request"]) for c in many} == {"approved"}


# -- scope ------------------------------------------------------------------------------------------

def test_another_kamer_sees_nothing_of_kamer_a(web, intake, kamer_a, kamer_b, case):
    mine, theirs = case(kamer=kamer_b), case()
    sign_in(web, kamer_b.token)
    html = web.get("/review/").get_data(as_text=True)
    assert mine["assignment"] in html and theirs["assignment"] not in html
    for path in (f"/review/requests/{theirs['request']}", f"/review/volunteers/{theirs['volunteer']}",
                 f"/review/policy/{kamer_a.id}"):
        r = web.get(path)
        assert r.status_code == 404 and "Niet gevonden" in text_of(r), path
    assert post_form(web, f"/review/assignments/{theirs['assignment']}/approve").status_code == 404
    assert _status(intake.engine, theirs["request"]) == "proposed"
    for page in ("/review/map", "/review/attention", "/review/dashboard", f"/review/map?kamer={kamer_a.id}"):
        body = web.get(page).get_data(as_text=True)
        assert theirs["request"] not in body and "Buurtkamer Bilgaard" not in body, page
    assert web.get("/review/audit").status_code == 403  # the audit log is the coordinator's


def test_list_pages_show_first_names_only_and_detail_pages_write_the_audit_log(web, intake, coordinator, case):
    ids = case()
    sign_in(web, bearer_token(coordinator))
    for page in ("/review/", "/review/map", "/review/attention"):
        text = text_of(web.get(page))
        for private in ("Hoekstra", "Tsjerkepaed", "+31587123456", "Rustige herder", "de Vries"):
            assert private not in text, (page, private)
    assert "Jan" in text_of(web.get("/review/"))
    with intake.engine.begin() as tx:
        token_id = tx.execute(select(t.tokens.c.id).where(t.tokens.c.role == "coordinator")).scalar_one()
    assert _audit(intake.engine, token_id=token_id) == []  # list pages read no full record
    detail = text_of(web.get(f"/review/requests/{ids['request']}"))
    assert "Jan Hoekstra" in detail and "Tsjerkepaed 3" in detail and "Rustige herder" in detail
    assert "Anna de Vries" in text_of(web.get(f"/review/volunteers/{ids['volunteer']}"))
    reads = {(row.action, row.subject_kind, row.subject_id) for row in _audit(intake.engine, token_id=token_id)}
    assert reads == {("read", "request", ids["request"]), ("read", "volunteer", ids["volunteer"])}
    assert f"/review/requests/{ids['request']}" in web.get("/review/audit").get_data(as_text=True)


# -- language -----------------------------------------------------------------------------------------

def test_dutch_by_default_english_and_frisian_on_request(web, coordinator):
    sign_in(web, bearer_token(coordinator))
    assert "<h1>Voorstellen" in web.get("/review/").get_data(as_text=True)
    html = web.get("/review/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html and "<h1>Proposals" in html
    assert "<h1>Dashboard" in web.get("/review/dashboard").get_data(as_text=True)  # it sticks
    assert "<h1>Foarstellen" in web.get("/review/?lang=fy").get_data(as_text=True)
    assert "<h1>Foarstellen" in web.get("/review/?lang=xx").get_data(as_text=True)  # unknown: unchanged
    post_form(web, "/review/logout")
    assert "Oanmelde" in web.get("/review/login").get_data(as_text=True)  # kept across sign-out



# -- overviews -----------------------------------------------------------------------------------------

def test_attention_lists_unmatched_urgent_and_failed_with_a_next_step(web, intake, kamer_a, coordinator, case):
    lonely = web.post("/v1/requests", json=request_body(category="paperwork"), headers=kamer_a.headers).get_json()
    report_unmatched(intake.engine, lonely["id"], kamer_a.id, {"skills": 3, "distance": 2})
    late = case(start=TOMORROW)
    kamer_staff = handlers.authenticate(kamer_a.token, uow(intake.engine))
    workflow.approve(Approve(kamer_staff, late["assignment"]), uow(intake.engine))
    workflow.decline(Decline(kamer_staff, late["assignment"], "ziek"), uow(intake.engine))
    failed = case()
    report_failed_notification(intake.engine, failed["request"], "volunteer")
    sign_in(web, bearer_token(coordinator))
    html = web.get("/review/attention").get_data(as_text=True)
    text = text_of(web.get("/review/attention"))
    assert f'data-request-id="{lonely["id"]}"' in html and "3 × mist de vaardigheid, 2 × te ver weg" in text
    assert f'data-request-id="{late["request"]}"' in html and "kies nu zelf een andere vrijwilliger" in text
    assert "MISLUKT: offer aan vrijwilliger per e-mail, na 5 pogingen — 550 mailbox unavailable" in text
    assert "bel de vrijwilliger" in text
    detail = web.get(f"/review/requests/{late['request']}").get_data(as_text=True)
    assert 'id="h-reassign"' in detail and f'<option value="{late["runner_up"]}" selected>' in detail


def test_dashboard_counts_per_kamer_and_the_median_time_to_approval(web, intake, kamer_a, kamer_b, coordinator, case):
    approved, waiting, elsewhere = case(), case(), case(kamer=kamer_b)
    sign_in(web, bearer_token(coordinator))
    post_form(web, f"/review/assignments/{approved['assignment']}/approve")
    html = web.get("/review/dashboard").get_data(as_text=True)
    rows = {m.group(1): [c for c in re.findall(r"<td>([^<]*)</td>", m.group(2))]
            for m in re.finditer(r'<th scope="row"><a [^>]*>([^<]+)</a></th>(.*?)</tr>', html, re.S)}
    # open, in matching, proposed, approved, unmatched, new this week, approved this week, median
    assert rows["Buurtkamer Bilgaard"][:4] == ["2", "0", "1", "1"]
    assert rows["Buurtkamer Bilgaard"][6] == "1" and rows["Buurtkamer Bilgaard"][7].isdigit()
    assert rows["Dorpskamer De Wjukken"][:4] == ["1", "0", "1", "0"]
    assert waiting and elsewhere


def test_the_map_draws_requests_volunteers_and_links_and_filters_by_kamer(web, intake, kamer_a, kamer_b,
                                                                          coordinator, case):
    a, b = case(), case(kamer=kamer_b)
    sign_in(web, bearer_token(coordinator))
    html = web.get("/review/map").get_data(as_text=True)
    drawing = re.search(r'<svg class="region-map".*?</svg>', html, re.S).group(0)  # not the legend
    assert drawing.count('class="req m-proposed') == 2 and drawing.count('class="link l-proposed"') == 2
    assert drawing.count('class="vol"') == 4
    assert "Grou" in drawing and "Mantgum" in drawing  # places from the packaged data
    only_b = web.get(f"/review/map?kamer={kamer_b.id}").get_data(as_text=True)
    assert b["request"] in only_b and a["request"] not in only_b
    city = web.get("/review/map?zoom=city").get_data(as_text=True)
    assert "Bilgaard" in city and "Transvaalwijk" in city


def test_policy_page_is_set_by_the_coordinator_and_read_by_the_kamer(web, intake, kamer_a, coordinator):
    sign_in(web, bearer_token(coordinator))
    post_form(web, f"/review/policy/{kamer_a.id}", {"categories": ["pets", "shopping", "nonsense"]})
    coordinator_api = {"Authorization": coordinator["Authorization"]}
    assert web.get(f"/v1/kamers/{kamer_a.id}/auto-approve", headers=coordinator_api).get_json() == {
        "categories": ["pets", "shopping"]}
    kamer = intake.wsgi_app.test_client()
    sign_in(kamer, kamer_a.token)
    html = kamer.get(f"/review/policy/{kamer_a.id}").get_data(as_text=True)
    assert 'value="pets" checked' in html and "<fieldset disabled>" in html
    assert post_form(kamer, f"/review/policy/{kamer_a.id}", {"categories": []}).status_code == 403


def test_pages_load_nothing_from_elsewhere_and_forbid_framing(web, coordinator, case):
    case()
    sign_in(web, bearer_token(coordinator))
    for page in ("/review/", "/review/map", "/review/dashboard", "/review/attention", "/review/login"):
        r = web.get(page)
        assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["Cache-Control"] == "no-store"
        assert not re.search(r'(src|href)="(https?:)?//', r.get_data(as_text=True)), page
    assert web.get("/review/static/review.css").status_code == 200


# -- the volunteer's link ------------------------------------------------------------------------------

def _link(ids, days=3):
    return sign_volunteer_link(TEST_SECRET, ids["assignment"], ids["volunteer"],
                               datetime.now(UTC) + timedelta(days=days))


def test_a_volunteer_link_shows_the_task_then_the_address_after_accepting(web, intake, kamer_a, case):
    ids = case()
    kamer_staff = handlers.authenticate(kamer_a.token, uow(intake.engine))
    workflow.approve(Approve(kamer_staff, ids["assignment"]), uow(intake.engine))
    token = _link(ids)
    page = web.get(f"/v/{token}")
    assert "Set-Cookie" not in page.headers  # no session for a volunteer
    text = text_of(page)
    assert page.status_code == 200 and "Jan" in text and "Grou" in text
    assert "Hoekstra" not in text and "Tsjerkepaed" not in text and "+31587123456" not in text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert web.post(f"/v/{token}/accept", data={"check": "forged"}).status_code == 403
    check = re.search(r'name="check" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    r = web.post(f"/v/{token}/accept", data={"check": check, "lang": "en"})
    assert r.status_code == 303 and "done=accepted" in r.headers["Location"]
    after = text_of(web.get(r.headers["Location"]))
    assert "Tsjerkepaed 3" in after and "+31587123456" in after and "Thank you" in after
    assert _status(intake.engine, ids["request"]) == "accepted"
    assert _audit(intake.engine, role="volunteer", action="read", subject_id=ids["request"])
    again = web.post(f"/v/{token}/accept", data={"check": check})
    assert "done=conflict" in again.headers["Location"]


def test_a_volunteer_link_declines_and_bad_links_are_404(web, intake, kamer_a, case):
    ids, other = case(), case()
    principal = handlers.authenticate(kamer_a.token, uow(intake.engine))
    workflow.approve(Approve(principal, ids["assignment"]), uow(intake.engine))
    token = _link(ids)
    check = re.search(r'name="check" value="([^"]+)"', web.get(f"/v/{token}").get_data(as_text=True)).group(1)
    r = web.post(f"/v/{token}/decline", data={"check": check, "reason": "op vakantie"})
    assert "done=declined" in r.headers["Location"]
    assert _status(intake.engine, ids["request"]) == "declined"
    [event] = _events(intake.engine, "assignment.declined")
    assert event.data["reason"] == "op vakantie"
    assert web.get(f"/v/{token[:-2]}xx").status_code == 404
    assert web.get(f"/v/{_link(ids, days=-1)}").status_code == 404
    mixed = sign_volunteer_link(TEST_SECRET, other["assignment"], ids["volunteer"], IN_A_WEEK)
    assert web.get(f"/v/{mixed}").status_code == 404  # a link names one volunteer and one assignment
    assert web.get(f"/v/{token}?lang=fy").status_code == 200


def test_a_link_page_speaks_the_volunteers_language(web, intake, kamer_a, client):
    volunteer = client.post("/v1/volunteers", json={**volunteer_body("Hiltsje Bouma"), "language": "fy"},
                            headers=kamer_a.headers).get_json()["id"]
    request_id = client.post("/v1/requests", json=request_body(), headers=kamer_a.headers).get_json()["id"]
    assignment = propose_with_explanation(intake.engine, request_id, volunteer, kamer_id=kamer_a.id)
    workflow.approve(Approve(handlers.authenticate(kamer_a.token, uow(intake.engine)), assignment), uow(intake.engine))
    token = sign_volunteer_link(TEST_SECRET, assignment, volunteer, IN_A_WEEK)
    html = web.get(f"/v/{token}").get_data(as_text=True)
    assert '<html lang="fy">' in html and "Wolle jo helpe?" in html
    assert "Would you like to help?" in web.get(f"/v/{token}?lang=en").get_data(as_text=True)


def test_attention_shows_dead_letters_to_coordinators(intake, tmp_path):
    """The in-process bus's dead-letter queue, counted on the coordinator's attention page."""
    from kombu import Connection, Producer

    from mienskip_intake.bootstrap import build
    from mienskip_intake.settings import Settings
    from mienskip_shared.messaging.topology import SUBSCRIPTIONS, dead_letter_exchange, dead_letter_queue

    service = build(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'dl.sqlite3'}", data_dir=tmp_path,
                                      secret_key="s"), with_workers=False)
    sub = SUBSCRIPTIONS[0]
    with Connection("memory://") as conn:
        dead_letter_exchange(conn.default_channel).declare()
        dead_letter_queue(sub)(conn.default_channel).declare()
        Producer(conn.default_channel).publish(b"{}", exchange=dead_letter_exchange.name,
                                               routing_key=sub.dead_letter_queue_name)
    from mienskip_intake.domain.model import Role

    _, token = issue_token(service.engine, Role.COORDINATOR, region="leeuwarden")
    client = service.wsgi_app.test_client()
    sign_in(client, token)
    page = client.get("/review/attention").get_data(as_text=True)
    assert sub.dead_letter_queue_name in page and f"mienskip dlq replay {sub.dead_letter_queue_name}" in page
    service.dispose()


def test_proposals_are_listed_by_when_the_task_is_soonest_first(client, web, intake, kamer_a, case):
    later = case(start=IN_A_WEEK + timedelta(days=3))
    sooner = case(start=IN_A_WEEK)
    sign_in(web, kamer_a.token)
    html = web.get("/review/").get_data(as_text=True)
    assert html.index(sooner["assignment"]) < html.index(later["assignment"])
