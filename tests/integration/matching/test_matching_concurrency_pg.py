"""Several matching processes on one PostgreSQL database never double-book a volunteer.

Threads stand in for processes: each has its own connections and transactions. They
start together at a barrier; whoever loses a race gets CapacityConflict or a unique
violation and retries, as the consumer would.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from mienskip_matching import bootstrap
from mienskip_matching.adapters import tables
from mienskip_matching.adapters.repository import CapacityConflict, SqlUnitOfWork
from mienskip_matching.domain.solver import SolverConfig
from mienskip_matching.service_layer import handlers
from mienskip_shared.db import make_engine, upgrade

WORKERS = 6


def handle_with_retries(engine, envelope, barrier, outcomes):
    barrier.wait()
    for _ in range(50):
        try:
            outcomes.append(handlers.handle(envelope, SqlUnitOfWork(engine), SolverConfig()))
            return
        except (CapacityConflict, DBAPIError) as exc:  # what the consumer retries
            outcomes.append(type(exc).__name__)
    outcomes.append("gave up")


def run_together(engine, envelopes):
    barrier = threading.Barrier(len(envelopes))
    outcomes: list = []
    threads = [threading.Thread(target=handle_with_retries, args=(engine, e, barrier, outcomes)) for e in envelopes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert "gave up" not in outcomes
    return outcomes


def test_racing_requests_never_double_book_one_volunteer(postgres_url, events):
    engine = make_engine(postgres_url)
    upgrade(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    try:
        handlers.handle(events.volunteer_registered("only", max_tasks_per_week=WORKERS), SqlUnitOfWork(engine),
                        SolverConfig())
        # Same window for all: at most one of them may get the volunteer.
        outcomes = run_together(engine, [events.request_submitted(f"req-{i}") for i in range(WORKERS)])
        # The region lock queues them: none books on stale data and has to start over.
        assert "CapacityConflict" not in outcomes

        with engine.connect() as conn:
            proposed = conn.execute(select(func.count()).select_from(tables.proposals)).scalar()
            unmatched = conn.execute(select(tables.unmatched.c.reasons)).scalars().all()
            outbox = conn.execute(select(func.count()).select_from(tables.outbox)).scalar()
        assert proposed == 1
        assert unmatched == [{"overlap": 1}] * (WORKERS - 1)
        assert outbox == WORKERS
    finally:
        engine.dispose()


def test_the_same_event_delivered_to_two_processes_is_handled_once(postgres_url, events):
    engine = make_engine(postgres_url)
    upgrade(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    try:
        handlers.handle(events.volunteer_registered("v1"), SqlUnitOfWork(engine), SolverConfig())
        submitted = events.request_submitted("req-1")
        outcomes = run_together(engine, [submitted, submitted, submitted])

        proposals = [o for o in outcomes if isinstance(o, object) and hasattr(o, "assignment_id")]
        assert len({p.assignment_id for p in proposals}) == 1
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(tables.proposals)).scalar() == 1
            assert conn.execute(select(func.count()).select_from(tables.outbox)).scalar() == 1
    finally:
        engine.dispose()
