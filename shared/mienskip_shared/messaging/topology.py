"""Exchanges and queues, declared once, as data.

One durable topic exchange carries every domain event (routing key = event type).
Each consuming service has one durable quorum queue per event kind it consumes,
named ``<consumer>.<source>.<event_type>``, with:

* a delivery limit, after which RabbitMQ dead-letters the message (a backstop for
  consumers that crash while handling it);
* a dead-letter queue ``<queue>.dlq`` behind the dead-letter exchange;
* retry queues ``<queue>.retry.<n>`` whose messages wait out a TTL and then flow back
  into the main queue: back-off without blocking the consumer.

Every publisher declares the whole topology (:data:`SUBSCRIPTIONS`) before it
publishes, so an event is never lost because its consumer has not started yet. An
event that no one subscribes to lands in ``mienskip.unrouted`` (the events exchange's
alternate exchange) instead of blocking the outbox or vanishing.
"""

from __future__ import annotations

from dataclasses import dataclass

from kombu import Exchange, Queue

EVENTS_EXCHANGE = "mienskip.events"
DEAD_LETTER_EXCHANGE = "mienskip.dead-letter"
UNROUTED = "mienskip.unrouted"
DEFAULT_EXCHANGE = ""  # routes by queue name; retries use it to come back home

unrouted_exchange = Exchange(UNROUTED, type="fanout", durable=True)
# For operators to see what nobody subscribes to; bounded, oldest dropped first.
unrouted_queue = Queue(UNROUTED, exchange=unrouted_exchange, durable=True,
                       queue_arguments={"x-queue-type": "quorum", "x-max-length": 10_000})
events_exchange = Exchange(EVENTS_EXCHANGE, type="topic", durable=True,
                           arguments={"alternate-exchange": UNROUTED})
dead_letter_exchange = Exchange(DEAD_LETTER_EXCHANGE, type="direct", durable=True)

DELIVERY_LIMIT = 10
DEFAULT_RETRY_DELAYS_MS = (500, 2_000, 10_000, 30_000)


@dataclass(frozen=True)
class Subscription:
    """One consuming service's interest in one event kind from one source."""

    consumer: str
    source: str
    event_type: str

    @property
    def queue_name(self) -> str:
        return f"{self.consumer}.{self.source}.{self.event_type}"

    @property
    def dead_letter_queue_name(self) -> str:
        return f"{self.queue_name}.dlq"

    def retry_queue_name(self, attempt: int) -> str:
        return f"{self.queue_name}.retry.{attempt}"


# Who consumes what: (consumer, source, event type). One place, declared by everyone.
SUBSCRIPTIONS: tuple[Subscription, ...] = (
    Subscription("matching", "intake", "volunteer.registered"),
    Subscription("matching", "intake", "volunteer.updated"),
    Subscription("matching", "intake", "request.submitted"),
    Subscription("matching", "intake", "request.cancelled"),
    Subscription("matching", "intake", "request.relocated"),
    Subscription("matching", "intake", "assignment.rejected"),
    Subscription("matching", "intake", "assignment.declined"),
    Subscription("matching", "intake", "assignment.reassign_requested"),
    Subscription("matching", "intake", "personal_data.erased"),
    Subscription("notify", "intake", "kamer.registered"),
    Subscription("notify", "intake", "contact.volunteer"),
    Subscription("notify", "intake", "contact.resident"),
    Subscription("notify", "intake", "assignment.approved"),
    Subscription("notify", "intake", "assignment.accepted"),
    Subscription("notify", "intake", "assignment.declined"),
    Subscription("notify", "intake", "request.cancelled"),
    Subscription("notify", "intake", "request.escalated"),
    Subscription("notify", "intake", "personal_data.erased"),
    Subscription("notify", "intake", "assignment.review_requested"),
    Subscription("notify", "intake", "user.invited"),
    Subscription("notify", "intake", "user.password_reset"),
    Subscription("notify", "matching", "request.unmatched"),
    Subscription("notify", "intake", "provider.registered"),
    Subscription("notify", "intake", "provider.updated"),
    Subscription("notify", "intake", "referral.sent"),
    Subscription("notify", "intake", "referral.accepted"),
    Subscription("notify", "intake", "referral.declined"),
    Subscription("notify", "intake", "referral.overdue"),
    Subscription("notify", "intake", "assignment.completed"),
    Subscription("notify", "intake", "attention.digest"),
    Subscription("intake", "matching", "assignment.proposed"),
    Subscription("intake", "matching", "request.unmatched"),
    Subscription("intake", "notify", "notification.sent"),
    Subscription("intake", "notify", "notification.failed"),
)


# Subscriptions no longer consumed. :func:`declare` unbinds each from the events exchange,
# so an upgraded installation's old queue stops filling; what is left in it (and its
# dead letters) can be drained by the old consumer or deleted by an operator.
RETIRED: tuple[Subscription, ...] = (
    # notify hears "ready for review" from intake now, which knows whether its policy approves
    Subscription("notify", "matching", "assignment.proposed"),
)


def subscriptions_of(consumer: str) -> list[Subscription]:
    return [s for s in SUBSCRIPTIONS if s.consumer == consumer]


def main_queue(sub: Subscription) -> Queue:
    return Queue(
        sub.queue_name,
        exchange=events_exchange,
        routing_key=sub.event_type,
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": sub.dead_letter_queue_name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def dead_letter_queue(sub: Subscription) -> Queue:
    return Queue(
        sub.dead_letter_queue_name,
        exchange=dead_letter_exchange,
        routing_key=sub.dead_letter_queue_name,
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )


def retry_queue(sub: Subscription, attempt: int, delay_ms: int) -> Queue:
    return Queue(
        sub.retry_queue_name(attempt),
        routing_key=sub.retry_queue_name(attempt),
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-message-ttl": int(delay_ms),
            "x-dead-letter-exchange": DEFAULT_EXCHANGE,
            "x-dead-letter-routing-key": sub.queue_name,
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        },
    )


def queues_for(sub: Subscription, retry_delays_ms=DEFAULT_RETRY_DELAYS_MS) -> list[Queue]:
    """Every queue one subscription needs, main queue first (no retry queues for ``()``)."""
    return [
        main_queue(sub),
        dead_letter_queue(sub),
        *(retry_queue(sub, n, d) for n, d in enumerate(retry_delays_ms, start=1)),
    ]


def declare(channel, subscriptions=SUBSCRIPTIONS, retry_delays_ms=DEFAULT_RETRY_DELAYS_MS) -> None:
    """Declare exchanges and every queue of ``subscriptions``, and unbind every
    :data:`RETIRED` queue (idempotent; unbinding a queue that does not exist is a no-op).

    Publishers pass ``retry_delays_ms=()``: the retry queues' TTLs are the consuming
    service's setting, so only the consumer declares them.
    """
    unrouted_exchange(channel).declare()
    unrouted_queue(channel).declare()
    events_exchange(channel).declare()
    dead_letter_exchange(channel).declare()
    for sub in subscriptions:
        for queue in queues_for(sub, retry_delays_ms):
            queue(channel).declare()
    for sub in RETIRED:
        channel.queue_unbind(sub.queue_name, EVENTS_EXCHANGE, sub.event_type)


def dead_letter_depths(connection) -> dict[str, int]:
    """How many messages wait in each dead-letter queue (only queues that exist), a
    :data:`RETIRED` one's too: nothing consumes it any more, so an operator must see it.

    Works on RabbitMQ and on the in-process transport; shows counts, never contents.
    """
    depths: dict[str, int] = {}
    channel = connection.channel()
    try:
        for sub in (*SUBSCRIPTIONS, *RETIRED):
            try:
                _, count, _ = channel.queue_declare(queue=sub.dead_letter_queue_name, passive=True)
            except connection.channel_errors:  # not declared yet: its consumer never ran here
                channel = connection.channel()  # a failed passive declare closes an AMQP channel
                continue
            depths[sub.dead_letter_queue_name] = count
    finally:
        channel.close()
    return depths
