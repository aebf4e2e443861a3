"""The whole matching worker over kombu's memory:// bus: built by bootstrap, fed by
intake-shaped events, announcing its proposal through the outbox relay."""

from __future__ import annotations

import threading
import time

from kombu import Queue
from sqlalchemy import func, select

from mienskip_matching import bootstrap
from mienskip_matching.adapters import tables
from mienskip_matching.entrypoints.consumer import SUBSCRIPTIONS
from mienskip_matching.settings import Settings
from mienskip_shared.contracts import parse
from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage, declare
from mienskip_shared.messaging.topology import EVENTS_EXCHANGE, events_exchange
from mienskip_shared.runtime import start_workers


def wait_for(predicate, what: str, deadline_s: float = 20.0):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        threading.Event().wait(0.02)  # a poll interval, not a timing assumption
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_matches_a_request_and_publishes_the_proposal(sqlite_url, events):
    settings = Settings.from_env({}, database_url=sqlite_url, broker_url="memory://", road_factor=1.0)
    service = bootstrap.build(settings)
    with settings.broker_connection() as conn:
        channel = conn.default_channel
        declare(channel, SUBSCRIPTIONS, settings.retry_delays_ms)
        probe = Queue("test.matching.probe", exchange=events_exchange, routing_key="assignment.proposed")
        probe(channel).declare()

    publisher = ConfirmedPublisher(settings.broker_connection)
    stop = threading.Event()
    threads = start_workers(service.workers, stop)

    def send(envelope):
        publisher.publish_batch([OutgoingMessage(exchange=EVENTS_EXCHANGE, routing_key=envelope.event_type,
                                                 body=envelope.to_json().encode(), message_id=envelope.event_id,
                                                 correlation_id=envelope.correlation_id)])

    def count(table, *where):
        with service.engine.connect() as db:
            return db.execute(select(func.count()).select_from(table).where(*where)).scalar()

    try:
        send(events.volunteer_registered("vol-1", north_km=2.0, wire=True))
        wait_for(lambda: count(tables.volunteers), "the volunteer in the read model")
        send(events.request_submitted("req-1", wire=True))
        wait_for(lambda: count(tables.outbox, tables.outbox.c.published_at.is_not(None)), "the relay to publish")

        with settings.broker_connection() as conn:
            message = wait_for(lambda: probe(conn.default_channel).get(no_ack=True), "assignment.proposed")
        proposed = parse(message.body)
        assert proposed.event_type == "assignment.proposed"
        assert proposed.data["volunteer_id"] == "vol-1"
        assert proposed.data["distance_km"] == 2.0  # road_factor from settings reached the solver
        assert count(tables.proposals) == 1
        assert service.check_ready() == {"database": "ok", "broker": "ok"}
    finally:
        stop.set()
        publisher.close()
        for thread in threads:
            thread.join(timeout=10)
        service.dispose()
