"""The one consumer loop every service uses: decode, validate, handle, then ack.

* The handler commits its database work (state, outbox rows, inbox row) before it
  returns; only then is the message acked.
* Poison (bad JSON, wrong content type, unknown type or version, invalid field) goes
  straight to the subscription's dead-letter queue with the reason in a header.
* Any other failure is retried with back-off through the retry queues; after the last
  retry the message is dead-lettered too. Nothing is dropped silently.
* The kombu ``ConsumerMixin`` loop reconnects by itself when the broker goes away;
  an unacked message is redelivered, and RabbitMQ's delivery limit is the backstop.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from kombu import Connection, Consumer
from kombu.message import Message
from kombu.mixins import ConsumerMixin
from prometheus_client import Counter

from ..contracts import Envelope, InvalidMessage, parse
from .publisher import ConfirmedPublisher, OutgoingMessage, is_in_process
from .topology import (
    DEAD_LETTER_EXCHANGE,
    DEFAULT_EXCHANGE,
    DEFAULT_RETRY_DELAYS_MS,
    Subscription,
    declare,
    main_queue,
)

log = structlog.get_logger(__name__)

ATTEMPT_HEADER = "x-mienskip-attempt"
ERROR_HEADER = "x-mienskip-error"
ORIGIN_HEADER = "x-mienskip-queue"
FAILED_AT_HEADER = "x-mienskip-failed-at"

HANDLED = Counter("mienskip_messages_total", "Messages consumed, by outcome", ["queue", "outcome"])

Handler = Callable[[Envelope], None]
GiveUpHook = Callable[[Envelope, Exception], None]


class MissingHandler(Exception):
    """No handler for an event type: a wiring bug. Raised by :func:`dispatch_by_type`
    when a consumer is wired (for every subscribed type that lacks one), or when an
    event of a type without a handler reaches it (the consumer then retries and
    dead-letters it, as any failed event)."""

    def __init__(self, event_types: Iterable[str], consumer: str | None = None):
        self.event_types = sorted(set(event_types))
        self.consumer = consumer
        super().__init__(f"{consumer} subscribes to {self.event_types} but has no handler for them"
                         if consumer else f"no handler for {self.event_types}")


def dispatch_by_type(subscriptions: Iterable[Subscription], handlers: Mapping[str, Handler]) -> Handler:
    """The one ``handle(envelope)`` for an :class:`EventConsumer`: hands each event to
    ``handlers[envelope.event_type]``. Checks now, at wiring time, that every type in
    ``subscriptions`` has a handler, and raises :class:`MissingHandler` naming those
    that do not. Handlers for types not subscribed to are allowed."""
    subscriptions = list(subscriptions)
    table = dict(handlers)
    missing = {s.event_type for s in subscriptions} - set(table)
    if missing:
        consumers = sorted({s.consumer for s in subscriptions})
        raise MissingHandler(missing, consumer=", ".join(consumers))

    def handle(envelope: Envelope) -> None:
        try:
            handler = table[envelope.event_type]
        except KeyError:
            raise MissingHandler([envelope.event_type]) from None
        handler(envelope)

    return handle


@dataclass(frozen=True)
class Batching:
    """Hand events of these types to ``handle`` together: up to ``max_size`` at once,
    none waiting longer than ``max_wait_s``. All of a batch is acked after ``handle``
    returns (its one commit). If a batch fails, each event is handled on its own by
    the single-event handler, so one bad event cannot take its neighbours down."""

    event_types: frozenset[str]
    handle: Callable[[list[Envelope]], None]
    max_size: int = 32
    max_wait_s: float = 0.2


class EventConsumer(ConsumerMixin):
    """Consumes a service's subscriptions on one connection, one message at a time."""

    def __init__(
        self,
        name: str,
        connection_factory: Callable[[], Connection],
        subscriptions: Sequence[Subscription],
        handle: Handler,
        *,
        prefetch_count: int = 8,
        retry_delays_ms: Sequence[int] = DEFAULT_RETRY_DELAYS_MS,
        on_give_up: GiveUpHook | None = None,
        batching: Batching | None = None,
    ):
        """``on_give_up(envelope, error)`` runs once when a valid event has failed its
        last retry, just before it is dead-lettered: the place to record the failure
        for people (e.g. notify's ``notification.failed``)."""
        self.name = name
        self._connection_factory = connection_factory
        self.connection = connection_factory()
        self._subscriptions = list(subscriptions)
        self._handle = handle
        self._batching = batching
        self._pending: list[tuple[Subscription, Message, Envelope]] = []
        self._pending_since = 0.0
        # a batch can only fill up if the broker lets that many messages be unacked
        self._prefetch_count = max(prefetch_count, batching.max_size if batching else 0)
        self._retry_delays_ms = tuple(retry_delays_ms)
        self._side_publisher = ConfirmedPublisher(connection_factory, declare_topology=False)
        self._delays = _InProcessDelays(connection_factory)
        self._stop: threading.Event | None = None
        self._on_give_up = on_give_up

    # -- the kombu loop ----------------------------------------------------------
    def get_consumers(self, _Consumer, channel) -> list[Consumer]:
        declare(channel, self._subscriptions, self._retry_delays_ms)
        consumers = []
        for sub in self._subscriptions:
            consumers.append(
                _Consumer(
                    queues=[main_queue(sub)],
                    accept=["json"],
                    prefetch_count=self._prefetch_count,
                    callbacks=[self._callback_for(sub)],
                    on_decode_error=self._decode_error_for(sub),
                )
            )
        return consumers

    def on_connection_error(self, exc, interval) -> None:
        log.warning("consumer.broker_unavailable", consumer=self.name, error=str(exc), retry_in=interval)

    def run(self, stop: threading.Event | None = None) -> None:  # type: ignore[override]
        """Consume until ``stop`` is set; reconnects on its own."""
        if stop is not None:
            self._stop = stop
            watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
            watcher.start()
        try:
            if self._batching is not None:
                super().run(safety_interval=max(0.02, self._batching.max_wait_s / 2))
            else:
                super().run()
        finally:
            self._side_publisher.close()
            self.connection.release()

    def on_connection_revived(self) -> None:
        # A new connection, before any consumer on it exists: deliveries of the old one
        # can no longer be acked, and the broker hands them out again. (Clearing later,
        # once consumers run, would drop live deliveries that arrived while the next
        # consumer was being set up, and leave them unacked for good.)
        if self._pending:
            log.info("consumer.pending_released", count=len(self._pending))
        self._pending.clear()

    def on_iteration(self) -> None:
        if self._pending and time.monotonic() - self._pending_since >= self._batching.max_wait_s:
            self._flush()

    def _watch(self, stop: threading.Event) -> None:
        stop.wait()
        self.should_stop = True

    # -- per message ---------------------------------------------------------------
    def _callback_for(self, sub: Subscription):
        def on_message(_body, message: Message) -> None:
            self.process(sub, message)

        return on_message

    def _decode_error_for(self, sub: Subscription):
        def on_decode_error(message: Message, exc: Exception) -> None:
            self.dead_letter(sub, message, f"cannot decode: {exc}")

        return on_decode_error

    def process(self, sub: Subscription, message: Message) -> None:
        try:
            envelope = parse(message.body)
        except InvalidMessage as exc:
            self.dead_letter(sub, message, str(exc))
            return
        if envelope.event_type != sub.event_type:
            self.dead_letter(sub, message, f"{envelope.event_type} arrived on {sub.queue_name}")
            return
        if self._batching is not None and envelope.event_type in self._batching.event_types:
            if not self._pending:
                self._pending_since = time.monotonic()
            self._pending.append((sub, message, envelope))
            if len(self._pending) >= self._batching.max_size:
                self._flush()
            return
        self._handle_one(sub, message, envelope)

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        try:
            self._batching.handle([envelope for _, _, envelope in batch])
        except Exception as exc:  # noqa: BLE001 -- not swallowed: each event is tried on its own next
            log.warning("consumer.batch_failed", size=len(batch), error=repr(exc), exc_info=True)
            for sub, message, envelope in batch:
                self._handle_one(sub, message, envelope)
            return
        self._ack_batch([message for _, message, _ in batch])
        for sub, _message, envelope in batch:
            HANDLED.labels(sub.queue_name, "ok").inc()
            log.info("event.handled", queue=sub.queue_name, batch_size=len(batch),
                     correlation_id=envelope.correlation_id, event_id=envelope.event_id)

    def _ack_batch(self, messages: list[Message]) -> None:
        """Settle a handled batch. On AMQP with one ack per channel, ``multiple`` up to the
        batch's last delivery: every delivery before it on that channel is in this batch or
        settled already, as this one thread handles deliveries in their order and acks,
        retries or dead-letters each before the next (a failure that leaves one unsettled
        ends the connection, and the broker delivers it again). memory:// ignores
        ``multiple``: there each is acked."""
        if is_in_process(self.connection):
            for message in messages:
                message.ack()
            return
        last: dict[int, Message] = {}
        for message in messages:
            seen = last.get(id(message.channel))
            if seen is None or message.delivery_tag > seen.delivery_tag:
                last[id(message.channel)] = message
        for message in last.values():
            message.ack(multiple=True)

    def _handle_one(self, sub: Subscription, message: Message, envelope: Envelope) -> None:
        structlog.contextvars.bind_contextvars(
            correlation_id=envelope.correlation_id, event_id=envelope.event_id, event_type=envelope.event_type
        )
        try:
            self._handle(envelope)
        except Exception as exc:  # noqa: BLE001 -- not swallowed: logged, retried, then dead-lettered
            log.warning("consumer.handler_failed", queue=sub.queue_name, error=repr(exc), exc_info=True)
            self.retry_later(sub, message, exc, envelope)
        else:
            message.ack()
            HANDLED.labels(sub.queue_name, "ok").inc()
            log.info("event.handled", queue=sub.queue_name)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id", "event_id", "event_type")

    # -- retry and dead-letter ---------------------------------------------------------
    def retry_later(self, sub: Subscription, message: Message, exc: Exception,
                    envelope: Envelope | None = None) -> None:
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 0)) + 1
        if attempt > len(self._retry_delays_ms):
            if self._on_give_up is not None and envelope is not None:
                try:
                    self._on_give_up(envelope, exc)
                except Exception:  # noqa: BLE001 -- the dead letter below still keeps the message
                    log.exception("consumer.give_up_hook_failed", queue=sub.queue_name)
            self.dead_letter(sub, message, f"gave up after {attempt} attempts: {exc!r}")
            return
        headers = {**(message.headers or {}), ATTEMPT_HEADER: attempt}
        if is_in_process(self.connection):
            # memory:// has no TTL or dead-lettering: a timer puts it back later, and the
            # consumer goes on with the next message meanwhile.
            self._delays.schedule(self._retry_delays_ms[attempt - 1] / 1000,
                                  self._copy(message, DEFAULT_EXCHANGE, sub.queue_name, headers))
        else:
            self._republish(message, DEFAULT_EXCHANGE, sub.retry_queue_name(attempt), headers)
        message.ack()
        HANDLED.labels(sub.queue_name, "retried").inc()

    def dead_letter(self, sub: Subscription, message: Message, reason: str) -> None:
        log.error("consumer.dead_lettered", queue=sub.queue_name, reason=reason[:500],
                  message_id=message.properties.get("message_id"))
        headers = {
            **(message.headers or {}),
            ERROR_HEADER: reason[:1000],
            ORIGIN_HEADER: sub.queue_name,
            FAILED_AT_HEADER: datetime.now(UTC).isoformat(),
        }
        self._republish(message, DEAD_LETTER_EXCHANGE, sub.dead_letter_queue_name, headers)
        message.ack()
        HANDLED.labels(sub.queue_name, "dead_lettered").inc()

    def _republish(self, message: Message, exchange: str, routing_key: str, headers: dict) -> None:
        """Confirmed copy first, ack after: a crash in between duplicates, never loses."""
        self._side_publisher.publish_batch([self._copy(message, exchange, routing_key, headers)])

    @staticmethod
    def _copy(message: Message, exchange: str, routing_key: str, headers: dict) -> OutgoingMessage:
        return OutgoingMessage(
            exchange=exchange,
            routing_key=routing_key,
            body=message.body if isinstance(message.body, bytes) else str(message.body).encode(),
            message_id=message.properties.get("message_id") or "",
            correlation_id=message.properties.get("correlation_id"),
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
        )


class _InProcessDelays:
    """Retry back-off for the in-process transport: messages due later, published by
    one timer thread. (memory:// keeps everything in this process anyway, so a message
    waiting here is exactly as durable as one waiting in a queue.)"""

    def __init__(self, connection_factory: Callable[[], Connection]):
        self._publisher = ConfirmedPublisher(connection_factory, declare_topology=False)
        self._due: list[tuple[float, int, OutgoingMessage]] = []
        self._wake = threading.Condition()
        self._sequence = 0
        self._thread: threading.Thread | None = None

    def schedule(self, delay_s: float, message: OutgoingMessage) -> None:
        with self._wake:
            self._sequence += 1
            heapq.heappush(self._due, (time.monotonic() + delay_s, self._sequence, message))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="retry-timer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due or self._due[0][0] > time.monotonic():
                    self._wake.wait(timeout=(self._due[0][0] - time.monotonic()) if self._due else None)
                _, _, message = heapq.heappop(self._due)
            self._publisher.publish_batch([message])
