"""Codes into words at intake's edges, on SQLite and PostgreSQL: matching's runner-up and
unmatched reasons on the pages, and the request history's notes on the pages and in the
API, each in its reader's language; entries from before codes as they were."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from intake_support import uow
from ui_support import (
    bearer_token,
    proposed_case,
    report_failed_notification,
    report_unmatched,
    request_body,
    sign_in,
    text_of,
)

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain.commands import Approve, Decline, Reassign
from mienskip_intake.service_layer import handlers, workflow

TOMORROW = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def case(client, intake, kamer_a):
    """A request of kamer A proposed to Anna, with Baukje as runner-up, 1.2 km further."""
    return lambda **kwargs: proposed_case(client, intake.engine, kamer_a, **kwargs)


@pytest.fixture
def web(intake):
    return intake.wsgi_app.test_client()


def _history(client, headers, request_id, language=None):
    extra = {"Accept-Language": language} if language else {}
    return client.get(f"/v1/requests/{request_id}", headers={**headers, **extra}).get_json()["history"]


# -- matching's reasons on the pages ------------------------------------------------------------

def test_the_runner_up_is_worded_from_matchings_codes_in_the_pages_language(web, intake, coordinator, case):
    ids = case()  # the runner-up is 1.2 km further
    sign_in(web, bearer_token(coordinator))
    assert "Baukje · 2,4 km — 1,2 km fierder" in text_of(web.get("/review/?lang=fy"))
    assert "Baukje · 2.4 km — 1.2 km further" in text_of(web.get(f"/review/requests/{ids['request']}?lang=en"))
    assert "Baukje · 2,4 km — 1,2 km verder" in text_of(web.get("/review/?lang=nl"))
    stopped = case()
    with intake.engine.begin() as tx:  # a runner-up a hard rule stopped
        tx.execute(t.assignments.update().where(t.assignments.c.id == stopped["assignment"]).values(explanation={
            "distance_km": 1.2, "runner_up": {"volunteer_id": stopped["runner_up"], "distance_km": 12.0,
                                              "reason": {"code": "distance"}, "rule": "distance"}}))
    assert "12,0 km — te fier fuort" in text_of(web.get(f"/review/requests/{stopped['request']}?lang=fy"))


def test_an_explanation_stored_before_codes_keeps_its_sentence(web, intake, coordinator, case):
    ids = case()
    with intake.engine.begin() as tx:
        tx.execute(t.assignments.update().where(t.assignments.c.id == ids["assignment"]).values(explanation={
            "distance_km": 1.2, "runner_up": {"volunteer_id": ids["runner_up"], "distance_km": 2.4,
                                              "why": "1.2 km verder / 1.2 km further", "rule": None}}))
    sign_in(web, bearer_token(coordinator))
    assert "2,4 km — 1.2 km verder / 1.2 km further" in text_of(web.get(f"/review/requests/{ids['request']}"))


def test_an_unmatched_request_says_why_in_the_readers_language(web, intake, kamer_a, coordinator):
    lonely = web.post("/v1/requests", json=request_body(category="paperwork"), headers=kamer_a.headers).get_json()
    report_unmatched(intake.engine, lonely["id"], kamer_a.id, {"region": 2, "skills": 3, "distance": 1}, considered=6)
    sign_in(web, bearer_token(coordinator))
    assert "1 vrijwilliger heeft de vaardigheid; 1 × te ver weg" in text_of(web.get(f"/review/requests/{lonely['id']}"))
    assert "1 frijwilliger hat de feardichheid; 1 × te fier fuort" in text_of(web.get("/review/attention?lang=fy"))
    assert "1 volunteer has the skill; 1 × too far" in text_of(web.get("/review/attention?lang=en"))
    assert "geen match: 1 vrijwilliger heeft de vaardigheid; 1 × te ver weg" in text_of(
        web.get(f"/review/requests/{lonely['id']}?lang=nl"))  # its history
    [entry] = _history(web, kamer_a.headers, lonely["id"], "en")[-1:]
    assert (entry["status"], entry["note_code"], entry["note"]) == (
        "unmatched", "unmatched", "unmatched: 1 volunteer has the skill; 1 × too far")
    assert entry["note_params"] == {"reasons": {"region": 2, "skills": 3, "distance": 1}, "considered": 6}


# -- the history's notes -------------------------------------------------------------------------

def test_history_notes_are_codes_worded_in_the_readers_language(client, intake, kamer_a, coordinator, web, case):
    ids = case()
    staff = handlers.authenticate(kamer_a.token, uow(intake.engine))
    workflow.approve(Approve(staff, ids["assignment"]), uow(intake.engine))
    report_failed_notification(intake.engine, ids["request"], "volunteer")

    coded = [(h["note_code"], h["note_params"]) for h in _history(client, kamer_a.headers, ids["request"])]
    assert coded[0] == ("submitted", None)
    assert coded[-1] == ("notification_failed", {"template": "offer", "recipient_kind": "volunteer",
                                                 "channel": "email", "attempts": 5})
    english = [h["note"] for h in _history(client, kamer_a.headers, ids["request"], "en")]
    dutch = [h["note"] for h in _history(client, kamer_a.headers, ids["request"], "nl")]
    assert (english[0], dutch[0]) == ("submitted", "ingediend")
    assert english[-1] == "FAILED: offer to volunteer by email after 5 attempts — 550 mailbox unavailable"
    assert dutch[-1] == "MISLUKT: offer aan vrijwilliger per e-mail, na 5 pogingen — 550 mailbox unavailable"
    assert [h["note"] for h in _history(client, kamer_a.headers, ids["request"], "de, en;q=0.5")] == english
    assert [h["note"] for h in _history(client, kamer_a.headers, ids["request"], "de")] == dutch  # by default

    sign_in(web, bearer_token(coordinator))
    assert dutch[-1] in text_of(web.get(f"/review/requests/{ids['request']}"))
    frisian = text_of(web.get(f"/review/requests/{ids['request']}?lang=fy"))
    assert "yntsjinne" in frisian and "MISLUKT: offer oan frijwilliger per e-mail, nei 5 besykjen" in frisian


def test_what_a_person_typed_stays_beside_what_intake_says(client, intake, kamer_a, case):
    late, later = case(start=TOMORROW), case()
    staff = handlers.authenticate(kamer_a.token, uow(intake.engine))
    workflow.approve(Approve(staff, late["assignment"]), uow(intake.engine))
    workflow.decline(Decline(staff, late["assignment"], "ziek"), uow(intake.engine))
    [last] = _history(client, kamer_a.headers, late["request"], "en")[-1:]
    assert (last["note_code"], last["note"]) == ("late_decline", "within 48 hours: urgent — ziek")
    assert _history(client, kamer_a.headers, late["request"])[-1]["note"] == "binnen 48 uur: urgent — ziek"

    workflow.reassign(Reassign(staff, later["assignment"], later["runner_up"]), uow(intake.engine))
    [last] = _history(client, kamer_a.headers, later["request"], "en")[-1:]
    assert (last["note_code"], last["note_params"]) == ("reassigned", {"volunteer_id": later["runner_up"]})
    assert last["note"] == f"reassigned to {later['runner_up']}"


def test_a_history_entry_from_before_codes_keeps_its_sentence(client, intake, kamer_a, coordinator, web, case):
    ids = case()
    sentence = "FAILED: offer to volunteer by email after 5 attempts (550 mailbox unavailable)"
    with intake.engine.begin() as tx:
        tx.execute(t.history.insert().values(request_id=ids["request"], at=datetime.now(UTC), status=None,
                                             actor="notify", note=sentence))
    [old] = [h for h in _history(client, kamer_a.headers, ids["request"], "fy") if h["actor"] == "notify"]
    assert (old["note_code"], old["note_params"], old["note"]) == (None, None, sentence)
    sign_in(web, bearer_token(coordinator))
    page = web.get(f"/review/requests/{ids['request']}?lang=en").get_data(as_text=True)
    assert 'class="row-failed"' in page and sentence in page
    assert "call the volunteer" in text_of(web.get("/review/attention"))  # still found as a failed delivery


# -- the API's answers ---------------------------------------------------------------------------

def test_error_messages_are_in_the_callers_language_and_the_rest_stays(client, kamer_a, case):
    def ask(language, *args, **kwargs):
        headers = {**kamer_a.headers, **({"Accept-Language": language} if language else {})}
        return client.post(*args, headers=headers, **kwargs)

    missing = {language: client.get("/v1/requests/nope", headers={**kamer_a.headers, "Accept-Language": language})
               for language in ("fy", "en", "nl")}
    assert {language: r.get_json() for language, r in missing.items()} == {
        "fy": {"code": "not_found", "message": "Net fûn"}, "en": {"code": "not_found", "message": "Not found"},
        "nl": {"code": "not_found", "message": "Niet gevonden"}}
    assert missing["fy"].headers["Content-Language"] == "fy" and "Accept-Language" in missing["fy"].headers["Vary"]

    invalid = {language: ask(language, "/v1/requests", json={**request_body(), "category": "x"}).get_json()
               for language in ("fy-NL", None)}
    assert invalid["fy-NL"]["message"] == "Guon fjilden binne net jildich"
    assert invalid[None]["message"] == "Sommige velden zijn ongeldig"  # Dutch by default
    assert invalid["fy-NL"]["code"] == invalid[None]["code"] == "invalid_field"
    assert invalid["fy-NL"]["errors"] == invalid[None]["errors"] == {"category": ["Must be one of: transport, buddy, "
        "shopping, odd_jobs, paperwork, garden, digital, pets, language, respite, meals, other."]}

    ids = case()
    client.post(f"/v1/requests/{ids['request']}/cancel", json={}, headers=kamer_a.headers)
    refused = ask("en", f"/v1/assignments/{ids['assignment']}/approve", json={})
    assert refused.status_code == 409 and refused.get_json() == {
        "code": "conflict", "message": "Conflicts with the current state: a request that is cancelled cannot "
                                       "become approved"}
    assert ask("fy", f"/v1/assignments/{ids['assignment']}/approve", json={}).get_json()["message"] == (
        "Botst mei de hjoeddeiske status: in helpfraach dy't annulearre is, kin net goedkard wurde")
    bulk = ask("nl", "/v1/assignments/bulk-approve", json={"ids": [ids["assignment"]]}).get_json()
    assert bulk == {"results": [{"id": ids["assignment"], "status": 409,
                                 "message": "een hulpvraag die geannuleerd is, kan niet goedgekeurd worden"}]}
    assert client.get("/v1/requests/nope", headers={"Accept-Language": "en"}).get_json() == {
        "code": "unauthorized", "message": "Missing, unknown or revoked token"}


def test_the_api_adds_the_runner_ups_why_in_the_callers_language(client, intake, kamer_a, case):
    ids = case()
    frisian = client.get("/v1/assignments?status=proposed", headers={**kamer_a.headers, "Accept-Language": "fy"})
    [item] = [i for i in frisian.get_json()["items"] if i["id"] == ids["assignment"]]
    assert item["explanation"]["runner_up"] == {"volunteer_id": ids["runner_up"], "distance_km": 2.4,
                                                "reason": {"code": "further", "km": 1.2}, "rule": None,
                                                "why": "1,2 km fierder"}
    english = client.get(f"/v1/requests/{ids['request']}", headers={**kamer_a.headers, "Accept-Language": "en"})
    assert english.get_json()["assignment"]["explanation"]["runner_up"]["why"] == "1.2 km further"
    with intake.engine.begin() as tx:  # stored before codes: its sentence, as it was
        tx.execute(t.assignments.update().where(t.assignments.c.id == ids["assignment"]).values(explanation={
            "runner_up": {"volunteer_id": ids["runner_up"], "distance_km": 2.4, "why": "1.2 km verder / 1.2 km "
                                                                                        "further", "rule": None}}))
    old = client.get(f"/v1/requests/{ids['request']}", headers={**kamer_a.headers, "Accept-Language": "fy"})
    assert old.get_json()["assignment"]["explanation"]["runner_up"]["why"] == "1.2 km verder / 1.2 km further"
