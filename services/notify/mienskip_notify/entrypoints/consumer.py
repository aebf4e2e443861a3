"""notify's subscriptions, and the handlers the shared consumer calls, each with a fresh unit of work."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from mienskip_shared.contracts import Envelope
from mienskip_shared.messaging import EventConsumer, dispatch_by_type
from mienskip_shared.messaging.consumer import Batching
from mienskip_shared.messaging.topology import subscriptions_of

from ..service_layer import accounts, after_match, contacts, planning, sending
from ..service_layer.ports import Ports, UnitOfWork

CONSUMER = "notify"
SUBSCRIPTIONS = tuple(subscriptions_of(CONSUMER))  # declared once, in shared topology


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


def build_consumer(settings, uow: Callable[[], UnitOfWork], ports: Ports, mailbox,
                   closeables: Iterable = ()) -> NotifyConsumer:
    """Events that plan messages (and the contacts they need) come in batches; each event
    of a batch that failed is handled, and retried, on its own. After an event's last
    retry, :func:`sending.give_up` runs before it is dead-lettered."""

    def notify(envelopes: list[Envelope]) -> None:
        sending.notify_batch(envelopes, uow(), ports)

    handle = dispatch_by_type(SUBSCRIPTIONS, {  # raises MissingHandler if a subscription has none
        "kamer.registered": lambda envelope: contacts.record_kamer(envelope, uow()),
        "personal_data.erased": lambda envelope: contacts.erase_person(envelope, uow(), mailbox),
        **dict.fromkeys(accounts.ACCOUNT_EVENTS, lambda envelope: accounts.send_account_mail(envelope, uow(), ports)),
        **dict.fromkeys(planning.BATCHED_EVENTS, lambda envelope: notify([envelope])),
        "assignment.completed": lambda envelope: after_match.visit_recorded(envelope, uow(), ports),
        "attention.digest": lambda envelope: after_match.send_attention_digest(envelope, uow(), ports),
    })
    consumer = EventConsumer(
        CONSUMER,
        settings.broker_connection,
        SUBSCRIPTIONS,
        handle,
        prefetch_count=settings.prefetch_count,
        retry_delays_ms=settings.retry_delays_ms,
        on_give_up=lambda envelope, exc: sending.give_up(envelope, exc, uow(), ports),
        batching=Batching(event_types=planning.BATCHED_EVENTS, handle=notify,
                          max_size=settings.batch_max_size, max_wait_s=settings.batch_max_wait_ms / 1000),
    )
    return NotifyConsumer(consumer, closeables)
