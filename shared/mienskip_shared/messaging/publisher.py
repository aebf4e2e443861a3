"""Publishing with publisher confirms, pipelined: many messages, one wait.

On AMQP the channel is put in confirm mode; every message goes out ``mandatory`` and
persistent, and :meth:`ConfirmedPublisher.publish_batch` returns only when the broker
has confirmed all of them. A nack, an unroutable return or a timeout raises
:class:`PublishFailed`, and the caller keeps the messages to try again. On the
in-process ``memory://`` transport a publish is a synchronous put, so it is confirmed
by returning.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import structlog
from amqp.exceptions import AMQPError
from kombu import Connection, Producer
from kombu.exceptions import KombuError

from .topology import declare

log = structlog.get_logger(__name__)


class PublishFailed(Exception):
    """The broker did not confirm every message; none of them may be marked sent."""


_CONNECTION_ERRORS = (OSError, AMQPError, KombuError)


@dataclass(frozen=True)
class OutgoingMessage:
    exchange: str
    routing_key: str
    body: bytes
    message_id: str
    correlation_id: str | None = None
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json"
    content_encoding: str = "utf-8"


def is_in_process(connection: Connection) -> bool:
    return connection.transport.driver_type == "memory"


class ConfirmedPublisher:
    """Owns one connection and channel; build it where it is used, one per thread."""

    def __init__(self, connection_factory: Callable[[], Connection], confirm_timeout: float = 15.0,
                 declare_topology: bool = True):
        self._connection_factory = connection_factory
        self._declare_topology = declare_topology
        self._confirm_timeout = confirm_timeout
        self._connection: Connection | None = None
        self._channel = None
        self._producer: Producer | None = None
        self._next_tag = 0
        self._unconfirmed: set[int] = set()
        self._failures: list[str] = []

    # -- connection handling -------------------------------------------------
    def _ensure_channel(self) -> None:
        if self._producer is not None:
            return
        connection = self._connection_factory()
        connection.ensure_connection(max_retries=1)
        channel = connection.channel()
        if self._declare_topology:
            declare(channel, retry_delays_ms=())  # no event is lost before its consumer first starts
        if not is_in_process(connection):
            channel.confirm_select()
            channel.events["basic_ack"].add(self._on_ack)
            channel.events["basic_nack"].add(self._on_nack)
            channel.events["basic_return"].add(self._on_return)
        self._connection, self._channel = connection, channel
        self._producer = Producer(channel)
        # Delivery tags count per channel: a new channel starts from 1, with nothing owed.
        self._next_tag = 0
        self._unconfirmed.clear()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # closing a broken connection may fail; it is gone either way
                log.debug("publisher.close_failed", exc_info=True)
        self._connection = self._channel = self._producer = None

    # -- confirm callbacks (run inside drain_events) ----------------------------
    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        if multiple:
            self._unconfirmed = {t for t in self._unconfirmed if t > delivery_tag}
        else:
            self._unconfirmed.discard(delivery_tag)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._failures.append(f"broker nacked delivery {delivery_tag}")
        self._on_ack(delivery_tag, multiple)

    def _on_return(self, exc, exchange, routing_key, message) -> None:
        self._failures.append(f"unroutable: exchange={exchange!r} routing_key={routing_key!r}")

    # -- publishing --------------------------------------------------------------
    def publish_batch(self, messages: Iterable[OutgoingMessage]) -> int:
        """Publish all of ``messages`` and wait for the broker's confirms; the count, or
        :class:`PublishFailed`.

        A connection kept from an earlier call may have died while idle: the broker
        restarted, the network cut it, or the broker closed it for missed heartbeats
        (nothing drains an idle publisher's connection). If it turns out to be dead, the
        batch gets one more try on a fresh connection; some of it may then arrive twice,
        which consumers tolerate (their inbox), and never less than once.
        """
        messages = list(messages)
        if not messages:
            return 0
        kept = self._producer is not None
        try:
            return self._publish(messages)
        except PublishFailed as exc:
            if not (kept and isinstance(exc.__cause__, _CONNECTION_ERRORS)):
                raise
            log.info("publisher.reconnecting", error=repr(exc.__cause__), messages=len(messages))
        return self._publish(messages)

    def _publish(self, messages: list[OutgoingMessage]) -> int:
        try:
            self._ensure_channel()
            in_process = is_in_process(self._connection)
            self._failures.clear()
            for msg in messages:
                self._producer.publish(
                    msg.body,
                    exchange=msg.exchange,
                    routing_key=msg.routing_key,
                    content_type=msg.content_type,
                    content_encoding=msg.content_encoding,
                    message_id=msg.message_id,
                    correlation_id=msg.correlation_id,
                    headers=dict(msg.headers),
                    delivery_mode=2,
                    mandatory=not in_process,
                    retry=False,
                )
                if not in_process:
                    self._next_tag += 1
                    self._unconfirmed.add(self._next_tag)
            if not in_process:
                self._wait_for_confirms()
        except PublishFailed:
            self.close()
            raise
        except _CONNECTION_ERRORS as exc:
            self.close()
            raise PublishFailed(f"broker unavailable: {exc!r}") from exc
        if self._failures:
            failures, self._failures = list(self._failures), []
            self.close()
            raise PublishFailed("; ".join(failures[:5]))
        return len(messages)

    def _wait_for_confirms(self) -> None:
        deadline = time.monotonic() + self._confirm_timeout
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishFailed(f"{len(self._unconfirmed)} messages not confirmed in time")
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                continue
