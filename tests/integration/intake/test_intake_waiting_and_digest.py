""""Waiting too long" on the attention page (kamer staff: their own; coordinator: the
region), with each item's age, and the weekly attention.digest: one per active coordinator
of a region, written once per (region, week) even when run twice or by two workers at once."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import uow
from sqlalchemy import insert, select
from ui_support import bearer_token, sign_in, text_of

from mienskip_intake.adapters import past_records as past
from mienskip_intake.adapters import tables as t
from mienskip_intake.adapters import waiting
from mienskip_intake.domain.commands import RegisterKamer
from mienskip_intake.domain.waiting import Thresholds, week_of
from mienskip_intake.service_layer import digest, handlers
from mienskip_shared.contracts import parse

NOW = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)  # a Wednesday
HOUR = timedelta(hours=1)


@pytest.fixture
def stuck(intake, kamer_a, kamer_b):
    """Kamer A: a proposal 30 h unreviewed, an offer 3 days unanswered, a task ended 2 days
    ago without a visit record, a "more" from the resident; and what is not stuck yet.
    Kamer B: one proposal 26 h old."""
    with intake.engine.begin() as tx:
        vol = past.add_volunteer(tx, kamer_a.id, "leeuwarden", NOW - timedelta(days=100))
        a = kamer_a.id

        def add(category, steps, **kw):
            return past.add_request(tx, a, "leeuwarden", category, NOW - timedelta(days=10), steps, volunteer_id=vol,
                                    **kw)
        ids = {
            "proposal": add("pets", [("proposed", NOW - 30 * HOUR)]),
            "fresh_proposal": add("pets", [("proposed", NOW - 2 * HOUR)]),
            "offer": add("buddy", [("proposed", NOW - 4 * 24 * HOUR), ("approved", NOW - 3 * 24 * HOUR)]),
            "visit": add("garden", [("accepted", NOW - 5 * 24 * HOUR)], window_start=NOW - 2 * 24 * HOUR - HOUR),
            "recorded": add("garden", [("accepted", NOW - 5 * 24 * HOUR)], window_start=NOW - 3 * 24 * HOUR),
            "more": add("shopping", [("accepted", NOW - 8 * 24 * HOUR)], window_start=NOW - 7 * 24 * HOUR),
        }
        # the assignments' own times: when they were proposed, approved
        for name, since in (("proposal", NOW - 30 * HOUR), ("fresh_proposal", NOW - 2 * HOUR),
                            ("offer", NOW - 3 * 24 * HOUR)):
            tx.execute(t.assignments.update().where(t.assignments.c.id == ids[name][1])
                       .values(created_at=since, updated_at=since))
        past.add_visit(tx, ids["recorded"][1], ids["recorded"][0], vol, a, NOW - 3 * 24 * HOUR, hours=1, km=2)
        past.add_visit(tx, ids["more"][1], ids["more"][0], vol, a, NOW - 7 * 24 * HOUR, hours=1, km=2)
        tx.execute(insert(t.follow_ups).values(request_id=ids["more"][0], assignment_id=ids["more"][1], kamer_id=a,
                                               answer="more", text=None, answered_at=NOW - 5 * HOUR))
        vol_b = past.add_volunteer(tx, kamer_b.id, "leeuwarden", NOW - timedelta(days=100))
        b_id, b_assignment = past.add_request(tx, kamer_b.id, "leeuwarden", "meals", NOW - timedelta(days=3),
                                              [("proposed", NOW - 26 * HOUR)], volunteer_id=vol_b)
        tx.execute(t.assignments.update().where(t.assignments.c.id == b_assignment)
                   .values(created_at=NOW - 26 * HOUR, updated_at=NOW - 26 * HOUR))
    return {name: value[0] for name, value in ids.items()} | {"kamer_b": b_id}


def _ids(shown, kind):
    return [item["request_id"] for item in shown[kind]]


def test_what_waits_too_long_per_kind_with_age(intake, kamer_a, stuck):
    from mienskip_intake.domain.model import Principal, Role
    staff = Principal(token_id="t", role=Role.KAMER, kamer_id=kamer_a.id)
    shown = waiting.waiting_too_long(intake.engine, staff, NOW, Thresholds())
    assert _ids(shown, "proposals_unreviewed") == [stuck["proposal"]]
    assert shown["proposals_unreviewed"][0]["age_hours"] == 30.0
    assert _ids(shown, "offers_unanswered") == [stuck["offer"]] and shown["offers_unanswered"][0]["age_hours"] == 72
    assert _ids(shown, "visits_unrecorded") == [stuck["visit"]]
    assert _ids(shown, "follow_ups_open") == [stuck["more"]] and shown["follow_ups_open"][0]["answer"] == "more"
    assert shown["referrals_unanswered"] == []
    stricter = waiting.waiting_too_long(intake.engine, staff, NOW, Thresholds(proposal_hours=1))
    assert set(_ids(stricter, "proposals_unreviewed")) == {stuck["proposal"], stuck["fresh_proposal"]}
    coordinator = Principal(token_id="t", role=Role.COORDINATOR, region="leeuwarden")
    region = waiting.waiting_too_long(intake.engine, coordinator, NOW, Thresholds())
    assert _ids(region, "proposals_unreviewed") == [stuck["proposal"], stuck["kamer_b"]]


def test_the_attention_page_lists_them_for_the_kamer_only(client, intake, kamer_a, kamer_b, stuck):
    intake.wsgi_app.config["MIENSKIP_CLOCK"] = lambda: NOW
    other = intake.wsgi_app.test_client()
    sign_in(other, bearer_token(kamer_b.headers))
    theirs = other.get("/review/attention").get_data(as_text=True)
    assert stuck["kamer_b"] in theirs and stuck["proposal"] not in theirs
    sign_in(client, bearer_token(kamer_a.headers))
    page = client.get("/review/attention")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-testid="waiting-too-long"' in html
    for name in ("proposal", "offer", "visit", "more"):
        assert f'data-request-id="{stuck[name]}"' in html, name
    assert stuck["kamer_b"] not in html and stuck["fresh_proposal"] not in html
    assert "30 uur" in text_of(page) and "3 dagen" in text_of(page)


def _coordinator(tx, email, region, active=True, password="x"):
    tx.execute(insert(t.users).values(id=str(uuid.uuid4()), email=email, role="coordinator", region=region,
                                      password_hash=password, active=active, created_at=NOW))


@pytest.fixture
def coordinators(intake, stuck):
    handlers.register_kamer(RegisterKamer(name="Dorpskamer Drachten", lat=53.1, lon=6.1, region="fryslan",
                                          language="fy"), uow(intake.engine))
    with intake.engine.begin() as tx:
        _coordinator(tx, "anna@leeuwarden.example", "leeuwarden")
        _coordinator(tx, "pieter@leeuwarden.example", "leeuwarden")
        _coordinator(tx, "former@leeuwarden.example", "leeuwarden", active=False)
        _coordinator(tx, "invited@leeuwarden.example", "leeuwarden", password=None)
        _coordinator(tx, "sjoukje@fryslan.example", "fryslan")


def _digests(engine):
    with engine.begin() as tx:
        return [parse(row.body) for row in tx.execute(select(t.outbox.c.body).where(
            t.outbox.c.event_type == "attention.digest"))]


def _run(intake, at):
    return digest.send_weekly_digests(lambda: uow(intake.engine),
                                      waiting.counts_by_region(intake.engine, at, Thresholds()), at,
                                      "http://127.0.0.1:8000/review/attention")


def test_one_digest_per_coordinator_once_a_week(intake, coordinators):
    assert _run(intake, NOW) == 3
    assert _run(intake, NOW + timedelta(days=2)) == 0  # the same week: nothing more
    sent = {event.data["email"]: event.data for event in _digests(intake.engine)}
    assert set(sent) == {"anna@leeuwarden.example", "pieter@leeuwarden.example", "sjoukje@fryslan.example"}
    anna = sent["anna@leeuwarden.example"]
    assert str(anna["week"]) == "2026-12-07" and anna["region"] == "leeuwarden" and anna["language"] == "nl"
    assert anna["counts"] == {"proposals_unreviewed": 2, "offers_unanswered": 1, "referrals_unanswered": 0,
                              "visits_unrecorded": 1, "follow_ups_open": 1, "oldest_hours": 72.0}
    assert anna["link"].endswith("/review/attention")
    assert sent["sjoukje@fryslan.example"]["language"] == "fy"
    assert sent["sjoukje@fryslan.example"]["counts"]["proposals_unreviewed"] == 0
    assert _run(intake, NOW + timedelta(days=5)) == 3  # the next Monday's week
    assert len(_digests(intake.engine)) == 6


def test_two_workers_at_once_write_the_week_once(intake, coordinators):
    start = threading.Barrier(2)
    results, errors = [], []

    def worker():
        try:
            start.wait()
            results.append(_run(intake, NOW))
        except Exception as exc:  # noqa: BLE001 -- reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and sorted(results) in ([0, 3], [1, 2])
    assert len(_digests(intake.engine)) == 3
    with intake.engine.begin() as tx:
        assert sorted((row.region, row.week) for row in tx.execute(select(t.digest_runs))) == \
            [("fryslan", week_of(NOW)), ("leeuwarden", week_of(NOW))]


def test_the_digest_workers_with_the_clock_moved_write_each_week_once(intake, coordinators):
    from polling import eventually

    from mienskip_intake.entrypoints.workers import digest_worker

    now = [NOW]
    stop = threading.Event()
    workers = [digest_worker(lambda: uow(intake.engine), intake.engine, Thresholds(), "http://127.0.0.1:8000",
                             clock=lambda: now[0], every=timedelta(milliseconds=20)) for _ in range(2)]
    threads = [threading.Thread(target=worker.run, args=(stop,)) for worker in workers]
    for thread in threads:
        thread.start()
    try:
        eventually(lambda: len(_digests(intake.engine)) == 3)
        now[0] = NOW + timedelta(days=7)  # next week
        eventually(lambda: len(_digests(intake.engine)) == 6)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    weeks = sorted(str(event.data["week"]) for event in _digests(intake.engine))
    assert weeks == ["2026-12-07"] * 3 + ["2026-12-14"] * 3


def test_a_referral_past_its_providers_answer_time_waits_too_long(intake, client, coordinator, kamer_a):
    """The provider's own answer time (due_at, in working days) is the threshold: before it,
    nothing waits; after it, the referral does, aged from when it was sent (issue 13)."""
    from intake_support import register_provider

    from mienskip_intake.domain.model import Principal, Role

    provider_id = register_provider(client, coordinator, kamer_ids=[kamer_a.id])
    start = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    request_id = client.post("/v1/requests", headers=kamer_a.headers, json={
        "resident": {"name": "Jan Hoekstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "paperwork",
        "helper": "professional", "provider_id": provider_id,
        "window": {"start": start.isoformat(), "end": (start + HOUR).isoformat()}}).get_json()["id"]
    with intake.engine.connect() as db:
        sent_at, due_at = db.execute(select(t.referrals.c.sent_at, t.referrals.c.due_at)
                                     .where(t.referrals.c.request_id == request_id)).one()
    staff = Principal(token_id="t", role=Role.KAMER, kamer_id=kamer_a.id)
    assert waiting.waiting_too_long(intake.engine, staff, due_at - HOUR, Thresholds())["referrals_unanswered"] == []
    shown = waiting.waiting_too_long(intake.engine, staff, due_at + HOUR, Thresholds())["referrals_unanswered"]
    assert [item["request_id"] for item in shown] == [request_id]
    assert shown[0]["age_hours"] == round((due_at + HOUR - sent_at).total_seconds() / 3600, 1)
    counts = waiting.counts_by_region(intake.engine, due_at + HOUR, Thresholds())
    assert counts["leeuwarden"]["referrals_unanswered"] == 1
