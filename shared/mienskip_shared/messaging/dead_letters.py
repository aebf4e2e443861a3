"""What waits in the dead-letter queues, read without taking it off: for the pages that
must show a request stuck there by id (issue 18: a request lost to a dead-letter queue
in silence), on RabbitMQ and on the in-process transport alike.

Each message is fetched with ``basic_get`` and not acked, then rejected with requeue
once all are read (the in-process transport does not return unacked messages on
close; RabbitMQ would), so each goes back to its queue and none is read twice. Only ids leave this module (the envelope's
``event_id``, ``event_type`` and ``data.request_id``) and the reason the consumer wrote
in its header: never a payload.

RabbitMQ 4 gives quorum queues a delivery limit of 20 by default, and a returned
message counts as a delivery there: on such a broker, set a policy ``delivery-limit:
-1`` on ``\\.dlq$`` queues (docs/security.md), or a dead letter peeked often enough
is dropped. RabbitMQ 3.x has no default limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kombu import Queue

from .consumer import ERROR_HEADER
from .topology import dead_letter_depths

PEEK_LIMIT = 50  # per queue and look: the count says how many more there are


@dataclass(frozen=True)
class DeadLetter:
    queue: str
    event_id: str | None
    event_type: str | None
    request_id: str | None
    reason: str


@dataclass(frozen=True)
class DeadLetters:
    depths: dict[str, int]  # every dead-letter queue that exists, with how many wait in it
    letters: list[DeadLetter] = field(default_factory=list)  # up to PEEK_LIMIT of each queue's, oldest first


def _reason(headers: dict) -> str:
    if headers.get(ERROR_HEADER):
        return str(headers[ERROR_HEADER])
    deaths = headers.get("x-death") or []
    if deaths and isinstance(deaths[0], dict):
        return f"dead-lettered by RabbitMQ: {deaths[0].get('reason')}"  # e.g. delivery_limit
    return "unknown"


def _ids(body) -> tuple[str | None, str | None, str | None]:
    """(event_id, event_type, request_id) of an envelope; Nones for what is not one."""
    try:
        envelope = json.loads(body)
    except (ValueError, TypeError, RecursionError):
        return None, None, None
    if not isinstance(envelope, dict):
        return None, None, None
    data = envelope.get("data")
    request_id = data.get("request_id") if isinstance(data, dict) else None

    def text(value) -> str | None:
        return value if isinstance(value, str) and len(value) <= 200 else None

    return text(envelope.get("event_id")), text(envelope.get("event_type")), text(request_id)


def peek_dead_letters(connection, limit: int = PEEK_LIMIT) -> DeadLetters:
    """Every dead-letter queue's depth, and up to ``limit`` of its messages' ids and reasons."""
    depths = dead_letter_depths(connection)
    letters: list[DeadLetter] = []
    taken = []
    channel = connection.channel()  # one channel for every get and every reject
    try:
        for name in depths:
            queue = Queue(name, no_declare=True)(channel)
            for _ in range(limit):
                message = queue.get(no_ack=False)
                if message is None:
                    break
                taken.append(message)
                event_id, event_type, request_id = _ids(message.body)
                letters.append(DeadLetter(name, event_id, event_type, request_id, _reason(message.headers or {})))
    finally:
        try:
            for message in taken:
                message.reject(requeue=True)
        finally:
            channel.close()
    return DeadLetters(depths, letters)
