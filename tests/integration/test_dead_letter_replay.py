"""An operator replays dead letters (pika tooling) once the cause is fixed: they are
then handled, once, and the dead-letter queue is empty."""

from __future__ import annotations

import threading

from kombu import Connection
from polling import eventually

from mienskip_cli import dead_letters
from mienskip_shared.contracts import new_event
from mienskip_shared.messaging import (
    ConfirmedPublisher,
    EventConsumer,
    OutgoingMessage,
    Subscription,
    declare,
)
from mienskip_shared.messaging.topology import events_exchange

SUB = Subscription("replaytest", "intake", "request.cancelled")
RETRIES = (30, 60)




def test_dead_letters_can_be_peeked_and_replayed(rabbit_url):
    with Connection(rabbit_url) as conn:
        declare(conn.default_channel, [SUB], RETRIES)
    publisher = ConfirmedPublisher(lambda: Connection(rabbit_url))
    try:  # confirmed: unconfirmed publishes just before a close may be dropped by the broker
        events = [new_event("request.cancelled", {"request_id": f"r{n}", "kamer_id": "k"}, correlation_id=f"r{n}")
                  for n in range(3)]
        assert publisher.publish_batch(
            OutgoingMessage(events_exchange.name, SUB.event_type, e.to_json().encode(), e.event_id, e.correlation_id)
            for e in events) == 3
    finally:
        publisher.close()
    broken = threading.Event()
    broken.set()
    handled: list[str] = []

    def handle(envelope):
        if broken.is_set():
            raise RuntimeError("a bug, fixed in the next release")
        handled.append(envelope.data["request_id"])

    stop = threading.Event()
    consumer = EventConsumer("replay", lambda: Connection(rabbit_url), [SUB], handle, retry_delays_ms=RETRIES)
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert eventually(lambda: len(dead_letters.peek(rabbit_url, SUB.dead_letter_queue_name)) == 3)
        letters = dead_letters.peek(rabbit_url, SUB.dead_letter_queue_name)
        assert {letter.origin for letter in letters} == {SUB.queue_name}
        assert all("gave up after 3 attempts" in letter.reason for letter in letters)
        broken.clear()
        assert dead_letters.replay(rabbit_url, SUB.dead_letter_queue_name) == 3
        assert eventually(lambda: sorted(handled) == ["r0", "r1", "r2"])
    finally:
        stop.set()
        thread.join(10)
    assert dead_letters.peek(rabbit_url, SUB.dead_letter_queue_name) == []
    assert sorted(handled) == ["r0", "r1", "r2"]
