"""The region pool as a matching process keeps it between solves (``PoolCache``), on SQLite
and PostgreSQL: after every kind of change it reads exactly what a fresh read gives, the
version included; and the region lock that keeps two processes from solving one region at
the same time (PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from mienskip_matching.adapters.repository import (
    PoolCache,
    ProposalRepository,
    SqlUnitOfWork,
    VolunteerRepository,
    region_lock_key,
)
from mienskip_matching.domain.model import Window
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.db import make_engine

CONFIG = SolverConfig()
TUESDAY_9 = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # the week of conftest's requests


def fresh_read(engine, region="leeuwarden", vog_valid_years=3):
    with engine.connect() as conn:
        return VolunteerRepository(conn).in_region(region, vog_valid_years)


def cached_read(engine, cache, region="leeuwarden", vog_valid_years=3):
    with engine.connect() as conn:
        return VolunteerRepository(conn, cache).in_region(region, vog_valid_years)


def run(engine, envelope, cache=None):
    return handlers.handle(envelope, SqlUnitOfWork(engine, pool_cache=cache), CONFIG)


def erased(volunteer_id):
    data = {"subject_kind": "volunteer", "subject_id": volunteer_id, "kamer_id": "kamer-bilgaard",
            "reason": "request"}
    return parse(new_event("personal_data.erased", data, correlation_id=volunteer_id,
                           kamer_id="kamer-bilgaard").to_json())


def test_the_cached_pool_equals_a_fresh_read_after_every_change(matching_engine, events):
    cache = PoolCache()
    run(matching_engine, events.volunteer_registered("vol-1", revision=0), cache)
    run(matching_engine, events.volunteer_registered("vol-2", north_km=2.0, revision=0), cache)
    first = cached_read(matching_engine, cache)
    assert [v.id for v in first] == ["vol-1", "vol-2"]
    assert cached_read(matching_engine, cache) == fresh_read(matching_engine)

    # A booking bumps the version (the optimistic lock): the cache must hand out the new one.
    run(matching_engine, events.request_submitted("req-1"), cache)
    booked = {v.id: v.version for v in cached_read(matching_engine, cache)}
    assert booked == {v.id: v.version for v in fresh_read(matching_engine)}
    assert booked != {v.id: v.version for v in first}

    # Changed data (a newer revision) is decoded again; unchanged volunteers are the same objects.
    unchanged = {v.id: v for v in cached_read(matching_engine, cache)}
    run(matching_engine, events.volunteer_registered("vol-2", north_km=2.0, revision=1, skills=["garden"],
                                                      vog_checked_on=date(2025, 1, 2)), cache)
    after = {v.id: v for v in cached_read(matching_engine, cache)}
    assert after["vol-2"].skills == frozenset({"garden"})
    assert after["vol-2"].vog_checked_on == date(2025, 1, 2)
    assert list(after.values()) == fresh_read(matching_engine)
    assert after["vol-1"] is unchanged["vol-1"] or after["vol-1"].version != unchanged["vol-1"].version

    # A new volunteer joins; an erased one is gone at once.
    run(matching_engine, events.volunteer_registered("vol-3", north_km=3.0, revision=0), cache)
    run(matching_engine, erased("vol-1"), cache)
    assert [v.id for v in cached_read(matching_engine, cache)] == ["vol-2", "vol-3"]
    assert cached_read(matching_engine, cache) == fresh_read(matching_engine)


def test_the_region_rule_and_the_region_are_part_of_what_is_cached(matching_engine, events):
    cache = PoolCache()
    run(matching_engine, events.volunteer_registered("vol-1", revision=0))
    assert [v.vog_valid_years for v in cached_read(matching_engine, cache, vog_valid_years=3)] == [3]
    assert [v.vog_valid_years for v in cached_read(matching_engine, cache, vog_valid_years=5)] == [5]
    assert cached_read(matching_engine, cache, region="smallingerland") == []


def test_a_change_written_by_another_process_reaches_the_cache(matching_engine, events):
    """Two matching processes: the volunteer event reaches one; the other's cache sees it."""
    cache_here = PoolCache()
    run(matching_engine, events.volunteer_registered("vol-1", revision=0), cache_here)
    assert [v.max_tasks_per_week for v in cached_read(matching_engine, cache_here)] == [3]
    run(matching_engine, events.volunteer_registered("vol-1", revision=1, max_tasks_per_week=7))  # elsewhere
    assert [v.max_tasks_per_week for v in cached_read(matching_engine, cache_here)] == [7]


def test_one_solve_per_region_at_a_time_across_connections(postgres_url):
    """The lock is held to the end of the taking transaction; another region is free."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as holder, engine.connect() as other:
            with holder.begin():
                VolunteerRepository(holder).lock_region("leeuwarden")
                with other.begin():
                    assert not _try(other, "leeuwarden")
                    assert _try(other, "smallingerland")
            with other.begin():
                assert _try(other, "leeuwarden")
    finally:
        engine.dispose()


def _try(conn, region: str) -> bool:
    return conn.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": region_lock_key(region)}).scalar_one()


def bookings(engine, cache=None):
    """The active bookings around the test week, as a solve reads them (sorted: no order is promised)."""
    with engine.connect() as conn:
        around = Window(TUESDAY_9, TUESDAY_9 + timedelta(hours=1))
        return sorted(ProposalRepository(conn, cache).active_bookings("leeuwarden", around),
                      key=lambda b: b.request_id)


def test_the_cached_bookings_equal_a_fresh_read_as_proposals_come_and_end(matching_engine, events):
    cache, elsewhere = PoolCache(), PoolCache()  # this process's, and another matching process's
    for n in range(3):
        run(matching_engine, events.volunteer_registered(f"vol-{n}", north_km=1.0 + n), cache)
    first = run(matching_engine, events.request_submitted("req-1"), cache)
    assert [b.request_id for b in bookings(matching_engine, cache)] == ["req-1"]
    run(matching_engine, events.request_submitted("req-2", hour=1), elsewhere)  # booked by the other process
    run(matching_engine, events.request_submitted("req-3", hour=2), cache)
    assert bookings(matching_engine, cache) == bookings(matching_engine) == bookings(matching_engine, elsewhere)
    assert len(bookings(matching_engine)) == 3

    run(matching_engine, events.request_cancelled("req-3"), elsewhere)  # cancelled: books nobody
    second = run(matching_engine, events.workflow("assignment.rejected", first, reason="kent de bewoner"), elsewhere)
    assert second.assignment_id != first.assignment_id  # req-1's new proposal, another volunteer
    assert bookings(matching_engine, cache) == bookings(matching_engine)
    assert [(b.request_id, b.volunteer_id) for b in bookings(matching_engine, cache)] == [
        ("req-1", second.volunteer_id), ("req-2", bookings(matching_engine)[1].volunteer_id)]
