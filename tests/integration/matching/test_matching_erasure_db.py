"""GDPR erasure in matching, against real SQLite and PostgreSQL: an erased volunteer
leaves the pool for good. ``volunteer.registered`` travels on another queue than
``personal_data.erased``, so a registration may arrive after the erasure (late, a
redelivery, a replay from the dead-letter queue); a tombstone keeps it from bringing
the volunteer back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from structlog.testing import capture_logs

from mienskip_matching.adapters import tables
from mienskip_matching.adapters.repository import SqlUnitOfWork, VolunteerRepository
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.clock import as_utc
from mienskip_shared.contracts import new_event, parse

CONFIG = SolverConfig()
FUTURE_TUESDAY = 17_640  # hours after TUESDAY_9: Tuesday 6 July 2027, 09:00 in Amsterdam


def run(engine, envelope):
    return handlers.handle(envelope, SqlUnitOfWork(engine), CONFIG)


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def outbox_types(engine):
    with engine.connect() as conn:
        return [parse(body).event_type for body in conn.execute(
            select(tables.outbox.c.body).order_by(tables.outbox.c.id)).scalars()]


def erased(subject_id="vol-1", *, subject_kind="volunteer", occurred_at=None):
    data = {"subject_kind": subject_kind, "subject_id": subject_id, "kamer_id": "kamer-bilgaard",
            "reason": "request"}
    return parse(new_event("personal_data.erased", data, correlation_id=subject_id, kamer_id="kamer-bilgaard",
                           occurred_at=occurred_at).to_json())


def pool(engine, region="leeuwarden"):
    with engine.connect() as conn:
        return [v.id for v in VolunteerRepository(conn).in_region(region)]


def test_erasure_removes_the_volunteer_and_keeps_only_a_tombstone(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    run(matching_engine, events.volunteer_registered("v2"))
    erasure = erased("v1", occurred_at=datetime(2026, 11, 27, 10, 30, tzinfo=UTC))

    run(matching_engine, erasure)

    assert pool(matching_engine) == ["v2"]
    with matching_engine.connect() as conn:
        [tombstone] = conn.execute(select(tables.erased_volunteers)).all()
    assert tombstone.id == "v1"
    assert as_utc(tombstone.erased_at) == erasure.occurred_at
    assert set(tables.erased_volunteers.c.keys()) == {"id", "erased_at"}  # nothing personal


def test_an_erased_volunteers_late_registration_is_ignored_and_never_proposed(matching_engine, events):
    late = events.volunteer_registered("v1")  # published before the erasure, delivered after it
    run(matching_engine, erased("v1"))
    waiting = run(matching_engine, events.request_submitted("req-1", hour=FUTURE_TUESDAY))
    assert waiting.reasons == {}  # nobody in the pool

    with capture_logs() as logs:
        run(matching_engine, late)
        run(matching_engine, events.volunteer_registered("v1", max_tasks_per_week=5))  # any newer one too

    assert [e["event"] for e in logs if e.get("volunteer_id") == "v1"] == ["matching.volunteer_erased_ignored"] * 2
    assert count(matching_engine, tables.volunteers) == 0
    assert pool(matching_engine) == []
    assert count(matching_engine, tables.inbox) == 4  # handled, so not redelivered forever
    # the waiting request was not offered to them, nor is a new one
    assert run(matching_engine, events.request_submitted("req-2", hour=FUTURE_TUESDAY + 1)).reasons == {}
    assert count(matching_engine, tables.proposals) == 0
    assert outbox_types(matching_engine) == ["request.unmatched"] * 2


def test_a_registration_replayed_after_the_erasure_does_not_undo_it(matching_engine, events):
    registered = events.volunteer_registered("v1")
    run(matching_engine, registered)
    run(matching_engine, erased("v1"))

    run(matching_engine, registered)  # the same event again (redelivered, replayed from the DLQ)
    run(matching_engine, events.volunteer_registered("v1"))  # intake re-sent it as a new event

    assert count(matching_engine, tables.volunteers) == 0
    assert run(matching_engine, events.request_submitted("req-1")).reasons == {}
    assert outbox_types(matching_engine) == ["request.unmatched"]


def test_a_redelivered_erasure_is_harmless(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    run(matching_engine, events.volunteer_registered("v2"))
    first = erased("v1", occurred_at=datetime(2026, 11, 27, 10, 30, tzinfo=UTC))

    run(matching_engine, first)
    run(matching_engine, first)  # the same event again
    run(matching_engine, erased("v1", occurred_at=datetime(2026, 11, 28, 8, 0, tzinfo=UTC)))  # announced again

    with matching_engine.connect() as conn:
        [tombstone] = conn.execute(select(tables.erased_volunteers)).all()
    assert as_utc(tombstone.erased_at) == first.occurred_at  # the first erasure counts
    assert pool(matching_engine) == ["v2"]
    assert run(matching_engine, events.request_submitted("req-1")).volunteer_id == "v2"


def test_a_volunteer_erased_before_matching_knew_them_never_joins(matching_engine, events):
    run(matching_engine, erased("v1"))  # the erasure overtook the registration
    run(matching_engine, events.volunteer_registered("v1"))
    assert count(matching_engine, tables.volunteers) == 0
    assert count(matching_engine, tables.erased_volunteers) == 1


def test_erasing_a_resident_leaves_the_volunteers_alone(matching_engine, events):
    run(matching_engine, events.volunteer_registered("v1"))
    run(matching_engine, erased("req-1", subject_kind="resident"))
    assert count(matching_engine, tables.erased_volunteers) == 0
    assert pool(matching_engine) == ["v1"]


def test_an_erased_volunteer_left_in_the_read_model_is_never_offered(matching_engine, events):
    # Should a registration racing the erasure leave a row behind, the pool still
    # skips it, a person cannot pick it, and the next event about them removes it.
    run(matching_engine, events.volunteer_registered("v1"))
    with matching_engine.connect() as conn:
        row = conn.execute(select(tables.volunteers)).first()._asdict()
    run(matching_engine, erased("v1"))
    with matching_engine.begin() as conn:
        conn.execute(insert(tables.volunteers).values(**row))

    assert pool(matching_engine) == []
    unmatched = run(matching_engine, events.request_submitted("req-1"))
    assert unmatched.reasons == {}
    data = {"request_id": "req-1", "kamer_id": "kamer-bilgaard", "region": "leeuwarden", "volunteer_id": "v1"}
    picked = run(matching_engine, parse(new_event("assignment.reassign_requested", data,
                                                  correlation_id="corr-req-1").to_json()))
    assert picked.reasons == {}
    assert count(matching_engine, tables.proposals) == 0

    run(matching_engine, events.volunteer_registered("v1"))
    assert count(matching_engine, tables.volunteers) == 0
