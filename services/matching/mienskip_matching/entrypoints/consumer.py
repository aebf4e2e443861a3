"""The matching worker: consume intake's events, and relay matching's outbox."""

from __future__ import annotations

from sqlalchemy import Engine

from mienskip_shared.messaging import ConfirmedPublisher, EventConsumer, OutboxRelay, dispatch_by_type
from mienskip_shared.messaging.consumer import Batching, Handler
from mienskip_shared.messaging.topology import subscriptions_of
from mienskip_shared.workers import Wakeup

from ..adapters import tables
from ..adapters.repository import PoolCache, SqlUnitOfWork
from ..domain.solver import SolverConfig
from ..service_layer import handlers
from ..settings import Settings

CONSUMER = "matching"
SUBSCRIPTIONS = subscriptions_of(CONSUMER)  # declared once, in shared topology


def make_handle(engine: Engine, config: SolverConfig, outbox_written: Wakeup | None = None,
                pool_cache: PoolCache | None = None) -> Handler:
    """One handler per event type (raises ``MissingHandler`` if a subscription has none).
    Each gets a fresh unit of work, whose commit wakes the relay."""

    def with_unit_of_work(handler: handlers.Handler) -> Handler:
        return lambda envelope: handler(envelope, SqlUnitOfWork(engine, outbox_written, pool_cache), config)

    return dispatch_by_type(SUBSCRIPTIONS, {event_type: with_unit_of_work(handler)
                                            for event_type, handler in handlers.HANDLERS.items()})


def make_batch_handle(engine: Engine, config: SolverConfig, outbox_written: Wakeup | None = None,
                      pool_cache: PoolCache | None = None):
    return lambda envelopes: handlers.requests_submitted(
        envelopes, SqlUnitOfWork(engine, outbox_written, pool_cache), config)


def build_consumer(engine: Engine, settings: Settings, outbox_written: Wakeup) -> EventConsumer:
    config = settings.solver_config()
    pool_cache = PoolCache()  # the consumer's one thread is its only user
    return EventConsumer(
        CONSUMER,
        settings.broker_connection,
        SUBSCRIPTIONS,
        make_handle(engine, config, outbox_written, pool_cache),
        prefetch_count=settings.prefetch_count,
        retry_delays_ms=settings.retry_delays_ms,
        # Requests arriving within a short window are solved together (DOMAIN: a burst).
        batching=Batching(frozenset({"request.submitted"}), make_batch_handle(engine, config, outbox_written, pool_cache),
                          max_size=settings.batch_max_size, max_wait_s=settings.batch_max_wait_ms / 1000),
    )


def build_relay(engine: Engine, settings: Settings, outbox_written: Wakeup) -> OutboxRelay:
    return OutboxRelay(engine, tables.outbox, ConfirmedPublisher(settings.broker_connection), wakeup=outbox_written)
