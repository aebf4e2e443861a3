"""Intake listens to what matching and notify announce, to keep each request's status."""

from __future__ import annotations

from itertools import groupby

from sqlalchemy import Engine

from mienskip_shared.contracts import Envelope
from mienskip_shared.messaging import EventConsumer, dispatch_by_type
from mienskip_shared.messaging.consumer import Batching
from mienskip_shared.messaging.topology import subscriptions_of
from mienskip_shared.workers import Wakeup

from ..adapters.repository import IntakeUnitOfWork
from ..service_layer import events
from ..settings import Settings


def build_consumer(settings: Settings, engine: Engine, outbox_written: Wakeup | None = None) -> EventConsumer:
    """Each event is handled in a fresh unit of work, whose commit wakes the relay."""
    subscriptions = subscriptions_of("intake")

    def with_unit_of_work(handler):
        return lambda envelope: handler(envelope, IntakeUnitOfWork(engine, outbox_written))

    handle = dispatch_by_type(subscriptions, {event_type: with_unit_of_work(handler)
                                              for event_type, handler in events.HANDLERS.items()})

    def handle_batch(envelopes: list[Envelope]) -> None:
        """Deliveries that arrived together, handled as each on its own but in one
        transaction (a savepoint per handler's block): one commit for the lot under load.
        A run of one type with a batch handler goes to it whole."""
        uow = IntakeUnitOfWork(engine, outbox_written)
        with uow.batch():
            for event_type, run in groupby(envelopes, key=lambda e: e.event_type):  # in arrival order
                if event_type in events.BATCH_HANDLERS:
                    events.BATCH_HANDLERS[event_type](list(run), uow)
                else:
                    for envelope in run:
                        events.HANDLERS[event_type](envelope, uow)

    return EventConsumer("intake-consumer", settings.broker_connection, subscriptions, handle,
                         prefetch_count=settings.prefetch_count, retry_delays_ms=settings.retry_delays_ms,
                         batching=Batching(frozenset(events.HANDLERS), handle_batch,
                                           max_size=settings.consumer_batch_max_size,
                                           max_wait_s=settings.consumer_batch_max_wait_ms / 1000))
