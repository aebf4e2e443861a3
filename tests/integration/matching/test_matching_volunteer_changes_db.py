"""A volunteer's changes in matching, on SQLite and PostgreSQL: ``volunteer.updated`` keeps
the newest revision whatever order the events come in, and paused, away or an aged VOG
keep a volunteer from being proposed, with the rule named in the unmatched reasons."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from mienskip_matching.adapters.repository import SqlUnitOfWork
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.contracts import new_event, parse

CONFIG = SolverConfig()
TUESDAY = date(2025, 7, 1)  # the conftest's requests are on Tuesday 1 July 2025, 09:00 local


def run(engine, envelope, config=CONFIG):
    return handlers.handle(envelope, SqlUnitOfWork(engine), config)


def volunteer_event(event_type="volunteer.updated", revision=1, **changes):
    data = {"volunteer_id": "vol-1", "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
            "home": {"lat": 53.21, "lon": 5.7999}, "languages": ["nl"], "skills": ["buddy"], "has_car": True,
            "vog_checked_on": date(2024, 5, 1), "availability": [{"day": "tue", "start": "09:00", "end": "12:00"}],
            "max_tasks_per_week": 3, "max_distance_km": 10.0, "revision": revision, **changes}
    return parse(new_event(event_type, data, correlation_id="corr-vol-1", kamer_id="kamer-bilgaard").to_json())


def reasons_for(result):
    return getattr(result, "reasons", None)


def test_a_paused_volunteer_is_not_proposed_and_the_reason_says_so(matching_engine, events):
    run(matching_engine, volunteer_event("volunteer.registered", revision=0))
    run(matching_engine, volunteer_event(revision=1, active=False))
    result = run(matching_engine, events.request_submitted("req-1"))
    assert reasons_for(result) == {"inactive": 1}


def _next_tuesday_morning() -> datetime:
    now = datetime.now(UTC)
    day = now + timedelta(days=(1 - now.weekday()) % 7 or 7)
    return day.replace(hour=8, minute=30, second=0, microsecond=0)  # 09:30 or 10:30 local


def test_resuming_offers_them_to_the_requests_that_waited(matching_engine, events):
    run(matching_engine, volunteer_event(revision=1, active=False))
    start = _next_tuesday_morning()
    run(matching_engine, events.request_submitted("req-1", window={"start": start, "end": start + timedelta(hours=1)}))
    run(matching_engine, volunteer_event(revision=2, active=True))
    with SqlUnitOfWork(matching_engine) as uow:
        assert uow.proposals.for_request("req-1").volunteer_id == "vol-1"


def test_an_older_event_never_overwrites_a_newer_one(matching_engine, events):
    away = [{"start": TUESDAY, "end": date(2025, 7, 6)}]
    run(matching_engine, volunteer_event(revision=2, away=away))  # overtook the registration
    run(matching_engine, volunteer_event("volunteer.registered", revision=0))
    run(matching_engine, volunteer_event(revision=1, away=[]))
    result = run(matching_engine, events.request_submitted("req-1"))
    assert reasons_for(result) == {"away": 1}


def test_a_vog_older_than_the_regions_period_does_not_count(matching_engine, events):
    run(matching_engine, volunteer_event("volunteer.registered", revision=0, vog_checked_on=date(2022, 6, 30)))
    result = run(matching_engine, events.request_submitted("req-1", needs_vog=True))
    assert reasons_for(result) == {"vog": 1}
    five_years_here = SolverConfig(vog_valid_years_by_region=(("leeuwarden", 5),))
    result = run(matching_engine, events.request_submitted("req-2", needs_vog=True), five_years_here)
    assert result.volunteer_id == "vol-1"
