"""Operator tooling for dead-lettered messages, with pika (a plain blocking client fits).

``peek`` shows what sits in a dead-letter queue and why, without taking it off;
``replay`` moves messages back to the queue they came from, with publisher confirms,
acking each dead letter only after the broker confirmed its copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

import pika

ERROR_HEADER = "x-mienskip-error"
ORIGIN_HEADER = "x-mienskip-queue"
ATTEMPT_HEADER = "x-mienskip-attempt"
DLQ_SUFFIX = ".dlq"
# What a replayed message forgets: why it died, how often it was tried.
REPLAY_DROPS = (ERROR_HEADER, ATTEMPT_HEADER, ORIGIN_HEADER, "x-death", "x-mienskip-failed-at",
                "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "x-delivery-count")


def pika_parameters(broker_url: str) -> pika.ConnectionParameters:
    """kombu's ``amqp://user:pass@host:port//`` (vhost ``/``) as pika parameters."""
    url = urlparse(broker_url)
    if url.scheme not in ("amqp", "pyamqp"):
        raise ValueError("dead letters live on RabbitMQ: set MIENSKIP_BROKER_URL to an amqp:// URL")
    vhost = unquote(url.path[1:]) if url.path not in ("", "/") else "/"
    return pika.ConnectionParameters(
        host=url.hostname or "localhost", port=url.port or 5672, virtual_host=vhost or "/",
        credentials=pika.PlainCredentials(unquote(url.username or "guest"), unquote(url.password or "guest")),
        blocked_connection_timeout=30,
    )


@dataclass(frozen=True)
class DeadLetter:
    message_id: str | None
    reason: str
    origin: str
    size: int


def _origin(dlq: str, headers: dict) -> str:
    return headers.get(ORIGIN_HEADER) or dlq.removesuffix(DLQ_SUFFIX)


def peek(broker_url: str, dlq: str, limit: int = 50) -> list[DeadLetter]:
    connection = pika.BlockingConnection(pika_parameters(broker_url))
    try:
        channel = connection.channel()
        found = []
        for _ in range(limit):
            method, props, body = channel.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            headers = props.headers or {}
            reason = headers.get(ERROR_HEADER) or _death_reason(headers)
            found.append(DeadLetter(props.message_id, str(reason), _origin(dlq, headers), len(body)))
        return found  # closing the channel returns every peeked message to the queue
    finally:
        connection.close()


def _death_reason(headers: dict) -> str:
    deaths = headers.get("x-death") or []
    if deaths:
        return f"dead-lettered by RabbitMQ: {deaths[0].get('reason')}"
    return "unknown"


def replay(broker_url: str, dlq: str, limit: int | None = None) -> int:
    """Move up to ``limit`` dead letters back to their queue; returns how many."""
    connection = pika.BlockingConnection(pika_parameters(broker_url))
    moved = 0
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        while limit is None or moved < limit:
            method, props, body = channel.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            original = props.headers or {}
            target = _origin(dlq, original)
            props.headers = {k: v for k, v in original.items() if k not in REPLAY_DROPS}
            # confirm_delivery makes basic_publish wait for the broker's ack, or raise
            channel.basic_publish(exchange="", routing_key=target, body=body, properties=props, mandatory=True)
            channel.basic_ack(method.delivery_tag)
            moved += 1
    finally:
        connection.close()
    return moved
