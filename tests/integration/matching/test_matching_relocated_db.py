"""request.relocated: intake placed a request exactly after a postcode-area guess. Matching
uses the new location from then on; a proposal made already stands. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mienskip_matching.adapters import tables
from mienskip_matching.adapters.repository import SqlUnitOfWork
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.contracts import new_event, parse

KM_LAT = 1 / 111.195


def run(engine, envelope):
    return handlers.handle(envelope, SqlUnitOfWork(engine), SolverConfig())


def relocated(request_id, north_km):
    return parse(new_event("request.relocated", {
        "request_id": request_id, "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
        "location": {"lat": round(53.2012 + north_km * KM_LAT, 4), "lon": 5.7999}},
        correlation_id=request_id, kamer_id="kamer-bilgaard").to_json())


def rejected(stored):
    return parse(new_event("assignment.rejected", {
        "assignment_id": stored.assignment_id, "request_id": stored.request_id, "volunteer_id": stored.volunteer_id,
        "kamer_id": "kamer-bilgaard", "region": "leeuwarden", "actor": "kamer", "reason": "no"},
        correlation_id=stored.request_id, kamer_id="kamer-bilgaard").to_json())


def test_the_exact_location_counts_from_then_on_and_the_first_proposal_stands(matching_engine, events):
    for name, north_km in (("north", 2.0), ("further-north", 2.5), ("south", -3.0)):
        run(matching_engine, events.volunteer_registered(name, north_km=north_km))
    first = run(matching_engine, events.request_submitted("req-1", hour=24 * 14))
    assert first.volunteer_id == "north"

    run(matching_engine, relocated("req-1", -4.0))  # the exact address lies 4 km south
    with matching_engine.connect() as conn:
        lat = conn.execute(select(tables.requests.c.lat).where(tables.requests.c.id == "req-1")).scalar_one()
        still = conn.execute(select(tables.proposals.c.volunteer_id)).scalars().all()
    assert lat == round(53.2012 - 4.0 * KM_LAT, 4)
    assert still == ["north"]

    second = run(matching_engine, rejected(first))
    assert second.volunteer_id == "south"  # 1 km from the exact place; "further-north" was nearer the guess


def test_a_relocation_before_its_request_is_retried_and_a_cancelled_one_ignored(matching_engine, events):
    with pytest.raises(handlers.RequestNotYetKnown):
        run(matching_engine, relocated("req-unknown", 1.0))
    run(matching_engine, events.request_submitted("req-2"))
    run(matching_engine, events.request_cancelled("req-2"))
    run(matching_engine, relocated("req-2", 1.0))
    with matching_engine.connect() as conn:
        lat = conn.execute(select(tables.requests.c.lat).where(tables.requests.c.id == "req-2")).scalar_one()
    assert lat == 53.2012
