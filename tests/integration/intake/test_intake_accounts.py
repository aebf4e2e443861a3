"""People's own accounts on the pages, through Flask's test client on SQLite and
PostgreSQL: invitation, password, sign-in, server-side sessions (logout, sign out
everywhere, deactivation, revocation, inactivity), lockout and slow-down, the
forgotten-password answer, rate limits per client address, and the CLI's invite."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from account_support import COOKIE, PASSWORD, browser, invite, log_in, path_of, person_of, set_password
from intake_support import TEST_SECRET, uow
from sqlalchemy import select
from ui_support import IN_A_WEEK, bearer_token, csrf_of, post_form, proposed_case, sign_in, text_of

from mienskip_intake.adapters import tables as t
from mienskip_intake.bootstrap import build
from mienskip_intake.domain.commands import DeactivatePerson, RevokeToken
from mienskip_intake.service_layer import accounts, handlers
from mienskip_intake.settings import Settings
from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import parse


class Clock:
    """The pages' clock, moved by the test."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(intake):
    clock = Clock()
    intake.wsgi_app.config["MIENSKIP_CLOCK"] = clock
    return clock


@pytest.fixture
def slept(intake):
    """The slow-down each failed sign-in asked for, recorded instead of slept."""
    pauses: list[float] = []
    intake.wsgi_app.config["MIENSKIP_SLEEP"] = pauses.append
    return pauses


def copy_of(intake, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = browser(intake)
    thief.set_cookie(COOKIE, client.get_cookie(COOKIE).value)
    return thief


def outbox(engine, event_type):
    with engine.begin() as tx:
        rows = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == event_type)).all()
    return [parse(r.body) for r in rows]


def status_of(engine, request_id):
    with engine.begin() as tx:
        return tx.execute(select(t.requests.c.status).where(t.requests.c.id == request_id)).scalar_one()


# -- invitation, password, sign-in, sign-out ---------------------------------------------------------------

def test_invite_set_password_sign_in_logout_and_a_copied_cookie_is_refused(intake, client, kamer_a, slept):
    case = proposed_case(client, intake.engine, kamer_a, start=IN_A_WEEK)
    invited = invite(intake, "Anna@Example.org", kamer_ids=(kamer_a.id,), display_name="Anna")
    [mail] = outbox(intake.engine, "user.invited")
    assert mail.data["email"] == "anna@example.org" and mail.data["link"] == invited.link
    assert invited.expires_at - utcnow() > timedelta(days=6, hours=23)
    with intake.engine.begin() as tx:  # only the link's hash is stored
        assert invited.link.rsplit("/", 1)[1] not in str(tx.execute(select(t.account_links)).all())

    web = browser(intake)
    assert "anna@example.org" in text_of(web.get(path_of(invited)))
    weak = set_password(web, invited, "wachtwoord1234")
    assert weak.status_code == 422 and "veel gebruikt" in text_of(weak)
    assert set_password(web, invited, PASSWORD, "something else").status_code == 422
    done = set_password(web, invited)
    assert done.status_code == 303 and done.headers["Location"] == "/login"
    assert web.get(path_of(invited)).status_code == 404  # single use

    signed = log_in(web, "ANNA@example.org ", next="/review/map")
    assert signed.status_code == 303 and signed.headers["Location"] == "/review/map"
    assert "Anna" in text_of(web.get("/review/"))
    thief, poster = copy_of(intake, web), copy_of(intake, web)
    assert thief.get("/review/").status_code == 200  # a copy works while the session is open...

    assert post_form(web, "/logout").status_code == 303
    assert web.get("/review/").headers["Location"].startswith("/login")
    # ...and not after: neither a page nor a form post with the copied session's CSRF token
    assert thief.get("/review/").headers["Location"].startswith("/login")
    refused = poster.post(f"/review/assignments/{case['assignment']}/approve", data={"csrf": csrf_of(poster)})
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/login")
    assert status_of(intake.engine, case["request"]) == "proposed"
    assert slept == []


def test_a_person_is_named_in_history_and_the_audit_log(intake, client, kamer_a):
    case = proposed_case(client, intake.engine, kamer_a, start=IN_A_WEEK)
    user_id, web = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden",
                             display_name="Durk")
    assert web.get(f"/review/requests/{case['request']}").status_code == 200  # an audited read
    post_form(web, f"/review/assignments/{case['assignment']}/approve")
    assert status_of(intake.engine, case["request"]) == "approved"
    with intake.engine.begin() as tx:
        actors = {r.actor for r in tx.execute(select(t.history.c.actor).where(t.history.c.request_id == case["request"]))}
        audited = tx.execute(select(t.audit_log).where(t.audit_log.c.user_id == user_id)).all()
    assert f"user:{user_id}" in actors
    assert audited and all(row.token_id is None for row in audited)
    assert "Durk" in text_of(web.get("/review/audit"))


def test_signing_out_everywhere_ends_every_session_of_the_person(intake):
    user_id, laptop = person_of(intake, "anna@example.org", "coordinator", region="leeuwarden")
    phone = browser(intake)
    assert log_in(phone, "anna@example.org").status_code == 303
    page = text_of(laptop.get("/account/sessions"))
    assert page.count("deze browser") == 1
    assert len(accounts.sessions_of(user_id, uow(intake.engine), utcnow())) == 2
    assert post_form(laptop, "/account/sessions/end-all").status_code == 303
    for client in (laptop, phone):
        assert client.get("/review/").headers["Location"].startswith("/login")


def test_deactivating_a_person_ends_their_sessions_and_their_sign_in(intake, kamer_a, slept):
    user_id, web = person_of(intake, kamer_ids=(kamer_a.id,))
    accounts.deactivate(DeactivatePerson(user_id), uow(intake.engine), utcnow())
    assert web.get("/review/").headers["Location"].startswith("/login")
    assert log_in(browser(intake), "anna@example.org").status_code == 401


def test_a_revoked_token_ends_its_server_side_session_and_logout_ends_a_copy(intake, kamer_a):
    web = browser(intake)
    sign_in(web, kamer_a.token)
    thief = copy_of(intake, web)
    handlers.revoke_token(RevokeToken(kamer_a.token_id), uow(intake.engine))
    for client in (web, thief):
        assert client.get("/review/").headers["Location"].startswith("/login")
    with intake.engine.begin() as tx:
        assert tx.execute(select(t.web_sessions.c.ended_at)).scalar_one() is not None


def test_a_token_session_copied_before_logout_is_refused_after_it(intake, coordinator):
    web = browser(intake)
    sign_in(web, bearer_token(coordinator))
    thief = copy_of(intake, web)
    post_form(web, "/review/logout")
    assert thief.get("/review/").status_code == 302


def test_a_new_session_id_at_every_sign_in(intake, kamer_a):
    user_id, web = person_of(intake, kamer_ids=(kamer_a.id,))
    before = web.get_cookie(COOKIE).value
    with web.session_transaction() as stored:
        first = stored["sid"]
    log_in(web, "anna@example.org")
    with web.session_transaction() as stored:
        assert stored["sid"] != first  # no fixation: a planted id never becomes a signed-in one
    assert web.get_cookie(COOKIE).value != before
    assert len(accounts.sessions_of(user_id, uow(intake.engine), utcnow())) == 1  # the old one ended


def test_a_session_ends_after_thirty_idle_minutes_and_after_eight_hours(intake, kamer_a, clock):
    _, web = person_of(intake, kamer_ids=(kamer_a.id,))
    clock.advance(minutes=29)
    assert web.get("/review/").status_code == 200  # in use: kept alive
    clock.advance(minutes=29)
    assert web.get("/review/").status_code == 200
    clock.advance(minutes=31)
    assert web.get("/review/").headers["Location"].startswith("/login")  # idle for 31 minutes

    _, busy = person_of(intake, "baukje@example.org", kamer_ids=(kamer_a.id,))
    for _ in range(19):  # 19 x 25 minutes: never idle, but 7 h 55 in all
        clock.advance(minutes=25)
        assert busy.get("/review/").status_code == 200
    clock.advance(minutes=6)
    assert busy.get("/review/").headers["Location"].startswith("/login")


# -- guessing ------------------------------------------------------------------------------------------------

def test_five_failures_lock_the_account_for_fifteen_minutes_with_growing_delays(intake, kamer_a, clock, slept):
    person_of(intake, kamer_ids=(kamer_a.id,))
    web = browser(intake)
    answers = [log_in(web, "anna@example.org", "not the password") for _ in range(5)]
    assert {a.status_code for a in answers} == {401}
    assert slept == [0.25, 0.5, 1.0, 2.0, 2.0]  # slowed more each time, never beyond 2 s
    locked = log_in(web, "anna@example.org")  # the right password, while locked
    assert locked.status_code == 401 and text_of(locked) == text_of(answers[0])
    clock.advance(minutes=16)
    assert log_in(web, "anna@example.org").status_code == 303


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(intake, kamer_a, slept):
    person_of(intake, kamer_ids=(kamer_a.id,))
    known = log_in(browser(intake), "anna@example.org", "not the password")
    unknown = log_in(browser(intake), "nobody@example.org", "not the password")
    assert known.status_code == unknown.status_code == 401
    assert text_of(known).replace("anna@", "X@") == text_of(unknown).replace("nobody@", "X@")


def test_an_address_is_capped_over_all_accounts(intake, slept):
    person_of(intake, "anna@example.org", "coordinator", region="leeuwarden")
    web = browser(intake)
    for i in range(20):  # one guess each at twenty accounts: no account locks, the address does
        log_in(web, f"guess{i}@example.org", "not the password")
    assert log_in(web, "anna@example.org").status_code == 401  # even the right password, from here, for now
    elsewhere = intake.wsgi_app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert log_in(elsewhere, "anna@example.org").status_code == 303


def test_forgot_password_answers_the_same_for_known_and_unknown_addresses(intake, kamer_a, clock):
    person_of(intake, kamer_ids=(kamer_a.id,))
    answers = []
    for email in ("anna@example.org", "nobody@example.org"):
        web = browser(intake)
        web.get("/account/forgot")
        answers.append(post_form(web, "/account/forgot", {"email": email}))
    assert answers[0].status_code == answers[1].status_code == 200
    assert answers[0].get_data() == answers[1].get_data()
    [reset] = outbox(intake.engine, "user.password_reset")  # only the known one gets a link
    assert reset.data["email"] == "anna@example.org"
    link = reset.data["link"].removeprefix("http://127.0.0.1:8000")
    web = browser(intake)
    web.get(link)
    assert post_form(web, link, {"password": "Nij wachtwurd 2026", "repeat": "Nij wachtwurd 2026"}).status_code == 303
    assert log_in(browser(intake), "anna@example.org").status_code == 401  # the old password is gone
    assert log_in(browser(intake), "anna@example.org", "Nij wachtwurd 2026").status_code == 303
    clock.advance(hours=2)
    web.get("/account/forgot")
    post_form(web, "/account/forgot", {"email": "anna@example.org"})
    late = outbox(intake.engine, "user.password_reset")[-1].data["link"].removeprefix("http://127.0.0.1:8000")
    clock.advance(minutes=61)
    assert web.get(late).status_code == 404  # a reset link lasts an hour


def test_sign_in_next_stays_on_our_pages_and_never_splits_a_header(intake, kamer_a):
    person_of(intake, kamer_ids=(kamer_a.id,))
    for evil in ("https://evil.example/", "//evil.example", "/review/\r\nSet-Cookie: x=1", "/review/%0d%0a"):
        answer = log_in(browser(intake), "anna@example.org", next=evil)
        assert answer.status_code == 303 and answer.headers["Location"] in ("/review/", "/review/%0d%0a")


# -- inviting from the pages --------------------------------------------------------------------------------

def test_a_coordinator_invites_staff_of_their_region_and_a_lead_their_own_kamer(intake, kamer_a, kamer_b):
    _, coordinator = person_of(intake, "coordinator@example.org", "coordinator", region="leeuwarden")
    coordinator.get("/account/invite")
    sent = post_form(coordinator, "/account/invite", {"email": "lead@example.org", "kamer": kamer_a.id,
                                                      "language": "fy"})
    assert sent.status_code == 303
    mail = outbox(intake.engine, "user.invited")[-1]
    assert mail.data["email"] == "lead@example.org" and mail.data["language"] == "fy"
    bad = post_form(coordinator, "/account/invite", {"email": "not-an-address", "kamer": kamer_a.id})
    assert bad.status_code == 422 and 'aria-invalid="true"' in bad.get_data(as_text=True)

    _, staff = person_of(intake, "staff@example.org", kamer_ids=(kamer_a.id,))
    assert staff.get("/account/invite").status_code == 200
    assert post_form(staff, "/account/invite", {"email": "x@example.org", "kamer": kamer_a.id}).status_code == 403
    lead_id, lead = person_of(intake, "lead2@example.org", kamer_ids=(kamer_a.id,), lead=True)
    assert post_form(lead, "/account/invite", {"email": "new@example.org", "kamer": kamer_a.id}).status_code == 303
    assert post_form(lead, "/account/invite", {"email": "other@example.org", "kamer": kamer_b.id}).status_code == 403


# -- rate limits per client address (issue 18, defect 2) -------------------------------------------------------

@pytest.fixture
def strict(sqlite_url, tmp_path):
    service = build(Settings.from_env({}, database_url=sqlite_url, data_dir=tmp_path, secret_key=TEST_SECRET,
                                      unauthenticated_rate_limit="5 per minute", sign_in_rate_limit="3 per minute",
                                      sign_in_max_delay_s=0), with_workers=False)
    yield service
    service.dispose()


def test_a_fresh_random_token_per_call_does_not_escape_the_limit(strict):
    from intake_support import Kamer

    kamer = Kamer(strict.engine, "Buurtkamer Bilgaard")
    attacker = strict.wsgi_app.test_client()
    codes = [attacker.get("/v1/requests/x", headers={"Authorization": f"Bearer msk_random{i}"}).status_code
             for i in range(8)]
    assert codes == [401] * 5 + [429] * 3
    assert attacker.get("/v1/requests/x").status_code == 429  # no token at all: the same address
    neighbour = strict.wsgi_app.test_client()
    neighbour.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert neighbour.get("/v1/requests/x", headers=kamer.headers).status_code == 404  # others keep working


def test_the_sign_in_forms_are_limited_per_address(strict):
    web = strict.wsgi_app.test_client()
    codes = [log_in(web, f"guess{i}@example.org", "x").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    web.get("/review/login")
    assert post_form(web, "/review/login", {"token": "msk_guess"}).status_code == 429


# -- the command line ---------------------------------------------------------------------------------------------

def _mienskip(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ}
    env.pop("MIENSKIP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "mienskip_cli.main", *args, "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120, check=True)


def test_user_invite_prints_the_id_and_a_link_that_works(tmp_path):
    kamer = json.loads(_mienskip(tmp_path, "kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.09",
                                 "--lon", "5.83", "--json").stdout)
    answer = json.loads(_mienskip(tmp_path, "user", "invite", "--email", "hiltsje@example.org", "--kamer",
                                  kamer["id"], "--role", "staff", "--json").stdout)
    assert {"id", "invite_url"} <= set(answer)
    assert re.fullmatch(r"http://127\.0\.0\.1:8000/account/password/[A-Za-z0-9_-]{43}", answer["invite_url"])
    service = build(Settings.from_env({}, data_dir=tmp_path, secret_key=TEST_SECRET), with_workers=False)
    try:
        web = service.wsgi_app.test_client()
        path = answer["invite_url"].removeprefix("http://127.0.0.1:8000")
        web.get(path)
        assert post_form(web, path, {"password": PASSWORD, "repeat": PASSWORD}).status_code == 303
        assert log_in(web, "hiltsje@example.org").status_code == 303
    finally:
        service.dispose()
    refused = subprocess.run([sys.executable, "-m", "mienskip_cli.main", "user", "invite", "--email", "x@example.org",
                              "--role", "staff", "--data-dir", str(tmp_path)], capture_output=True, text=True)
    assert refused.returncode == 2 and "--kamer ID or --region R" in refused.stderr


def test_a_hash_made_with_older_argon2_parameters_is_renewed_at_sign_in(intake):
    from argon2 import PasswordHasher

    from mienskip_intake.adapters.accounts import Argon2Passwords
    from mienskip_intake.domain.accounts import LockoutPolicy
    from mienskip_intake.domain.commands import SetPassword, SignIn

    invited = invite(intake, "coordinator@example.org", "coordinator", region="leeuwarden")
    old = Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    accounts.set_password(SetPassword(invited.link.rsplit("/", 1)[1], PASSWORD), uow(intake.engine), old, utcnow())

    def stored():
        with intake.engine.begin() as tx:
            return tx.execute(select(t.users.c.password_hash)).scalar_one()
    assert stored().startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    current = Argon2Passwords()
    signed = accounts.sign_in(SignIn("coordinator@example.org", PASSWORD, "127.0.0.1"), uow(intake.engine),
                              current, LockoutPolicy(), utcnow())
    assert signed.session_id is not None
    assert not current.needs_rehash(stored()) and stored() != old.hash(PASSWORD)
    assert PASSWORD not in stored()


def test_an_operator_is_told_the_pages_are_not_for_them_and_nothing_is_counted(intake, slept):
    invited = invite(intake, "operator@example.org", "operator")
    web = browser(intake)
    set_password(web, invited)
    refused = log_in(web, "operator@example.org")
    assert refused.status_code == 403 and "Beheerders" in text_of(refused)
    assert slept == [] and web.get("/review/").status_code == 302


def test_dead_sessions_and_links_are_deleted_after_a_day_and_live_ones_kept(intake, kamer_a):
    _, web = person_of(intake, kamer_ids=(kamer_a.id,))
    invite(intake, "baukje@example.org", kamer_ids=(kamer_a.id,))
    _, other = person_of(intake, "durk@example.org", kamer_ids=(kamer_a.id,))
    post_form(other, "/logout")

    def count(table):
        with intake.engine.begin() as tx:
            return len(tx.execute(select(table)).all())
    assert accounts.forget_dead_sessions_and_links(uow(intake.engine), utcnow()) == 0  # nothing a day old yet
    assert accounts.forget_dead_sessions_and_links(uow(intake.engine), utcnow() + timedelta(days=9)) == 5
    assert count(t.web_sessions) == 0 and count(t.account_links) == 0
