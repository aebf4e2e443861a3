"""notify's subscriptions and the one ``handle(envelope)`` the shared consumer calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping

import structlog

from mienskip_shared.contracts import Envelope
from mienskip_shared.messaging import EventConsumer, dispatch_by_type
from mienskip_shared.messaging.consumer import Batching, Handler
from mienskip_shared.messaging.topology import subscriptions_of

log = structlog.get_logger(__name__)

CONSUMER = "notify"
SUBSCRIPTIONS = tuple(subscriptions_of(CONSUMER))  # declared once, in shared topology

GiveUp = Callable[[Envelope, Exception], None]


class NotifyConsumer:
    """The shared :class:`EventConsumer`, plus closing the senders' connections at the end."""

    def __init__(self, consumer: EventConsumer, closeables: Iterable = ()):
        self.name = consumer.name
        self.consumer = consumer
        self._closeables = list(closeables)

    def run(self, stop: threading.Event) -> None:
        try:
            self.consumer.run(stop)
        finally:
            for closeable in self._closeables:
                closeable.close()


def build_consumer(settings, handlers: Mapping[str, Handler], closeables: Iterable = (),
                   on_give_up: GiveUp | None = None, batching: Batching | None = None) -> NotifyConsumer:
    """``on_give_up`` runs once per event whose last retry failed, before it is dead-lettered.
    ``batching`` hands events of its types over together; ``handlers`` still needs one for
    each, for a batch that failed (each event is then handled, and retried, on its own)."""
    consumer = EventConsumer(
        CONSUMER,
        settings.broker_connection,
        SUBSCRIPTIONS,
        dispatch_by_type(SUBSCRIPTIONS, handlers),  # raises MissingHandler if a subscription has none
        prefetch_count=settings.prefetch_count,
        retry_delays_ms=settings.retry_delays_ms,
        on_give_up=on_give_up,
        batching=batching,
    )
    return NotifyConsumer(consumer, closeables)


