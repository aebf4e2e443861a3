"""Matching's handlers against real SQLite and PostgreSQL: one transaction per event,
idempotent redelivery, optimistic locking, and migrations that match the tables."""

from __future__ import annotations

import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update

from mienskip_matching.adapters import tables
from mienskip_matching.adapters.repository import (
    CapacityConflict,
    ProposalRepository,
    RequestRepository,
    SqlUnitOfWork,
    VolunteerRepository,
)
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.contracts import new_event, parse

CONFIG = SolverConfig()


def run(engine, envelope, uow=None):
    return handlers.handle(envelope, uow or SqlUnitOfWork(engine), CONFIG)


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def outbox_events(engine):
    with engine.connect() as conn:
        rows = conn.execute(select(tables.outbox.c.body).order_by(tables.outbox.c.id)).all()
    return [parse(row.body) for row in rows]


def test_a_submitted_request_gets_one_proposal_and_one_outbox_event(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("far", north_km=3.0))
    submitted = events.request_submitted("req-1")

    stored = run(matching_engine, submitted)

    assert stored.volunteer_id == "near"
    assert count(matching_engine, tables.proposals) == 1
    [event] = outbox_events(matching_engine)
    assert event.event_type == "assignment.proposed"
    assert event.correlation_id == submitted.correlation_id
    assert event.kamer_id == "kamer-bilgaard"
    assert event.data["assignment_id"] == stored.assignment_id
    assert event.data["volunteer_id"] == "near"
    assert event.data["distance_km"] == 1.3
    assert event.data["explanation"]["availability"] == "tue 09:00-12:00"
    assert event.data["explanation"]["runner_up"]["volunteer_id"] == "far"
    with matching_engine.connect() as conn:
        status = conn.execute(select(tables.requests.c.status)).scalar()
    assert status == "proposed"


def test_the_same_event_twice_still_gives_one_proposal_and_one_outbox_row(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    submitted = events.request_submitted("req-1")

    first = run(matching_engine, submitted)
    again = run(matching_engine, submitted)
    # A new event for the same request (say intake re-sent it) keeps the first answer too.
    run(matching_engine, events.volunteer_registered("v0-nearer", north_km=0.1))
    resent = run(matching_engine, events.request_submitted("req-1"))

    assert first == again == resent
    assert count(matching_engine, tables.proposals) == 1
    assert count(matching_engine, tables.outbox) == 1


def test_nobody_suitable_stores_unmatched_and_announces_the_reasons(matching_engine, events):
    run(matching_engine, events.volunteer_registered("far-1", north_km=9.0, max_distance_km=5.0))
    run(matching_engine, events.volunteer_registered("far-2", north_km=8.0, max_distance_km=5.0))
    run(matching_engine, events.volunteer_registered("no-skill", skills=["garden"]))

    result = run(matching_engine, events.request_submitted("req-1"))

    assert result.reasons == {"skills": 1, "distance": 2}
    [event] = outbox_events(matching_engine)
    assert event.event_type == "request.unmatched"
    assert event.data["reasons"] == {"skills": 1, "distance": 2}
    assert event.data["considered"] == 3
    assert count(matching_engine, tables.unmatched) == 1
    assert count(matching_engine, tables.proposals) == 0


def test_a_stale_volunteer_version_raises_and_leaves_nothing_behind(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))

    class StaleRepository(VolunteerRepository):
        """Reads the volunteer as another process saw them before it booked them."""

        def in_region(self, region, vog_valid_years=3):
            from dataclasses import replace
            return [replace(v, version=v.version - 1) for v in super().in_region(region, vog_valid_years)]

    class StaleUnitOfWork(SqlUnitOfWork):
        def __enter__(self):
            super().__enter__()
            self.volunteers = StaleRepository(self.volunteers.conn)
            return self

    submitted = events.request_submitted("req-1")
    with pytest.raises(CapacityConflict):
        run(matching_engine, submitted, StaleUnitOfWork(matching_engine))

    assert count(matching_engine, tables.proposals) == 0
    assert count(matching_engine, tables.outbox) == 0
    assert count(matching_engine, tables.inbox) == 1  # only the volunteer event
    # The consumer's retry re-reads fresh data and succeeds.
    assert run(matching_engine, submitted).volunteer_id == "v1"


def test_claiming_a_volunteer_with_an_old_version_conflicts(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    with matching_engine.begin() as conn:
        seen = VolunteerRepository(conn).in_region("leeuwarden")[0].version
    with matching_engine.begin() as conn:  # another process books the volunteer
        conn.execute(update(tables.volunteers).values(version=tables.volunteers.c.version + 1))
    with matching_engine.begin() as conn, pytest.raises(CapacityConflict):
        VolunteerRepository(conn).claim("v1", seen)
    with matching_engine.begin() as conn:
        VolunteerRepository(conn).claim("v1", seen + 1)  # the fresh version works


def test_cancelling_frees_the_volunteers_week(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1", max_tasks_per_week=1))
    assert run(matching_engine, events.request_submitted("req-a", hour=0)).volunteer_id == "v1"
    assert run(matching_engine, events.request_submitted("req-b", hour=1)).reasons == {"capacity": 1}

    run(matching_engine, events.request_cancelled("req-a"))
    assert run(matching_engine, events.request_submitted("req-c", hour=2)).volunteer_id == "v1"

    with matching_engine.connect() as conn:
        statuses = dict(conn.execute(select(tables.proposals.c.request_id, tables.proposals.c.status)).all())
    assert statuses == {"req-a": "cancelled", "req-c": "proposed"}


def test_a_cancellation_before_its_request_is_retried_later(matching_engine, events):
    with pytest.raises(handlers.RequestNotYetKnown):
        run(matching_engine, events.request_cancelled("req-unknown"))
    assert count(matching_engine, tables.inbox) == 0


def test_a_cancelled_request_is_not_matched_when_its_submission_arrives_again(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    run(matching_engine, events.request_submitted("req-1"))
    run(matching_engine, events.request_cancelled("req-1"))
    run(matching_engine, events.request_submitted("req-1"))  # a new event id, same request
    assert count(matching_engine, tables.proposals, tables.proposals.c.status == "proposed") == 0


def test_an_older_volunteer_event_does_not_overwrite_a_newer_one(matching_engine, events):
    older = events.volunteer_registered("v1", max_tasks_per_week=5)
    newer = events.volunteer_registered("v1", max_tasks_per_week=2)
    run(matching_engine, newer)
    run(matching_engine, older)
    with matching_engine.connect() as conn:
        assert conn.execute(select(tables.volunteers.c.max_tasks_per_week)).scalar() == 2


def test_volunteer_read_model_round_trips(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1", vog_checked_on=None, languages=["ar", "nl"]))
    with matching_engine.connect() as conn:
        [volunteer] = VolunteerRepository(conn).in_region("leeuwarden")
    assert volunteer.vog_checked_on is None
    assert volunteer.languages == {"ar", "nl"}
    assert [s.label() for s in volunteer.availability] == ["tue 09:00-12:00"]


def test_migrations_create_exactly_the_tables_the_code_uses(matching_engine):
    with matching_engine.connect() as conn:
        ours = {"include_name": lambda name, type_, _parent: type_ != "table" or name.startswith("matching_")}
        diff = compare_metadata(MigrationContext.configure(conn, opts=ours), tables.metadata)
    assert diff == [], json.dumps([str(d) for d in diff])


FUTURE_TUESDAY = 17_640  # hours after TUESDAY_9: Tuesday 6 July 2027, 09:00 in Amsterdam


def test_a_new_volunteer_is_offered_to_requests_that_found_nobody(matching_engine, events):
    run(matching_engine, events.volunteer_registered("gardener", skills=["garden"]))
    waiting = run(matching_engine, events.request_submitted("req-1", hour=FUTURE_TUESDAY))
    assert waiting.reasons == {"skills": 1}

    run(matching_engine, events.volunteer_registered("buddy", north_km=0.5))

    with matching_engine.connect() as conn:
        proposal = ProposalRepository(conn).for_request("req-1")
    assert proposal.volunteer_id == "buddy"
    assert [e.event_type for e in outbox_events(matching_engine)] == ["request.unmatched", "assignment.proposed"]
    proposed = outbox_events(matching_engine)[-1]
    assert proposed.correlation_id == "req-1" and proposed.data["request_id"] == "req-1"
    # a volunteer who cannot help changes nothing and announces nothing
    run(matching_engine, events.volunteer_registered("another-gardener", skills=["garden"]))
    assert count(matching_engine, tables.outbox) == 2


def test_past_requests_are_not_rematched(matching_engine, events):
    run(matching_engine, events.request_submitted("req-old"))  # TUESDAY_9 lies in the past
    run(matching_engine, events.volunteer_registered("buddy"))
    assert count(matching_engine, tables.proposals) == 0


def test_a_rejected_proposal_goes_to_the_next_volunteer_never_back(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("far", north_km=3.0))
    first = run(matching_engine, events.request_submitted("req-1"))
    assert first.volunteer_id == "near"

    second = run(matching_engine, events.workflow("assignment.rejected", first, reason="kent de bewoner"))
    assert second.volunteer_id == "far" and second.assignment_id != first.assignment_id
    third = run(matching_engine, events.workflow("assignment.declined", second, rematch=True))
    assert third.reasons == {"excluded": 2}  # nobody left: both said no before
    assert [e.event_type for e in outbox_events(matching_engine)] == [
        "assignment.proposed", "assignment.proposed", "request.unmatched"]
    assert count(matching_engine, tables.exclusions) == 2
    assert count(matching_engine, tables.proposals) == 0  # nobody is booked any more


def test_a_late_decline_waits_for_the_coordinator(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("far", north_km=3.0))
    first = run(matching_engine, events.request_submitted("req-1"))
    assert run(matching_engine, events.workflow("assignment.declined", first, rematch=False)) is None
    assert [e.event_type for e in outbox_events(matching_engine)] == ["assignment.proposed"]
    with matching_engine.connect() as conn:
        assert RequestRepository(conn).status("req-1") == "escalated"


def test_reassign_proposes_the_chosen_volunteer_or_says_why_not(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("far", north_km=3.0))
    run(matching_engine, events.volunteer_registered("gardener", north_km=0.5, skills=["garden"]))
    first = run(matching_engine, events.request_submitted("req-1"))
    data = {"request_id": "req-1", "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
            "volunteer_id": "far", "replaces_assignment_id": first.assignment_id}
    chosen = run(matching_engine, parse(new_event("assignment.reassign_requested", data,
                                                  correlation_id="corr-req-1").to_json()))
    assert chosen.volunteer_id == "far"
    data = {**data, "volunteer_id": "gardener", "replaces_assignment_id": chosen.assignment_id}
    refused = run(matching_engine, parse(new_event("assignment.reassign_requested", data,
                                                   correlation_id="corr-req-1").to_json()))
    assert refused.reasons == {"skills": 1}
    assert count(matching_engine, tables.proposals) == 0
    assert count(matching_engine, tables.past_proposals) == 2


def test_a_burst_is_solved_together_not_first_come_first_served(matching_engine, events):
    # A can reach both requests; B only the first. One at a time, the first request
    # takes A (nearer) and the second finds nobody; together, both are helped.
    run(matching_engine, events.volunteer_registered("A", north_km=1.0, max_tasks_per_week=1))
    run(matching_engine, events.volunteer_registered("B", north_km=2.0, max_distance_km=2.7, max_tasks_per_week=1))
    south = {"lat": round(53.2012 - 1 / 111.195, 4), "lon": 5.7999}
    burst = [events.request_submitted("r1"), events.request_submitted("r2", location=south)]

    decided = handlers.requests_submitted(burst, SqlUnitOfWork(matching_engine), CONFIG)

    assert {d.request_id: d.volunteer_id for d in decided} == {"r1": "B", "r2": "A"}
    assert [e.event_type for e in outbox_events(matching_engine)] == ["assignment.proposed"] * 2
    # the same burst delivered again changes nothing
    assert handlers.requests_submitted(burst, SqlUnitOfWork(matching_engine), CONFIG) == []
    assert count(matching_engine, tables.outbox) == 2


def test_a_batch_with_a_delivery_twice_a_request_twice_and_one_decided_before_decides_each_once(
        matching_engine, events):
    for n in range(4):
        run(matching_engine, events.volunteer_registered(f"v{n}", north_km=1.0 + n))
    earlier = events.request_submitted("r0", hour=1)
    run(matching_engine, earlier)
    r1 = events.request_submitted("r1")
    again = events.request_submitted("r1")  # the same request announced twice (another event id)
    cancelled = events.request_submitted("r3", hour=2)
    run(matching_engine, cancelled)
    run(matching_engine, events.request_cancelled("r3"))
    burst = [r1, r1, again, events.request_submitted("r2"), earlier, cancelled]  # r1, r2: one window

    decided = handlers.requests_submitted(burst, SqlUnitOfWork(matching_engine), CONFIG)

    assert sorted(d.request_id for d in decided) == ["r1", "r2"]
    proposed = [e.data for e in outbox_events(matching_engine) if e.event_type == "assignment.proposed"]
    assert sorted(p["request_id"] for p in proposed) == ["r0", "r1", "r2", "r3"]
    assert {p["request_id"]: p["decision"] for p in proposed} == {"r0": 1, "r1": 1, "r2": 1, "r3": 1}
    assert len({p["volunteer_id"] for p in proposed if p["request_id"] in ("r1", "r2")}) == 2


def test_next_weeks_request_of_a_series_goes_to_last_weeks_volunteer(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("far", north_km=3.0))
    first = run(matching_engine, events.request_submitted("week-1", recurrence="weekly"))
    assert first.volunteer_id == "near"
    run(matching_engine, events.volunteer_registered("nearer", north_km=0.8))

    # "nearer" (0.26 km nearer by road) does not replace last week's volunteer ...
    second = run(matching_engine, events.request_submitted("week-2", hour=24 * 7, recurrence="weekly",
                                                           follows="week-1"))
    assert second.volunteer_id == "near"
    assert second.explanation["continuity"] is True
    with matching_engine.connect() as conn:
        assert conn.execute(select(tables.requests.c.follows).where(tables.requests.c.id == "week-2")).scalar() \
            == "week-1"
    # ... while a one-off request at the same place goes to the nearest.
    assert run(matching_engine, events.request_submitted("one-off", hour=24 * 7 + 1)).volunteer_id == "nearer"


def test_a_series_whose_last_volunteer_declined_has_no_preference(matching_engine, events):
    run(matching_engine, events.volunteer_registered("near", north_km=1.0))
    run(matching_engine, events.volunteer_registered("nearer", north_km=0.8))
    first = run(matching_engine, events.request_submitted("week-1", recurrence="weekly"))
    assert first.volunteer_id == "nearer"
    run(matching_engine, events.workflow("assignment.declined", first, rematch=True))  # week-1 -> "near"

    second = run(matching_engine, events.request_submitted("week-2", hour=24 * 7, recurrence="weekly",
                                                           follows="week-1"))
    assert second.volunteer_id == "near"  # holds week-1 now; "nearer" declined it
    assert second.explanation["continuity"] is True
