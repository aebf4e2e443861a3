"""The shared messaging plumbing on the in-process transport and on real RabbitMQ.

Poison goes to the dead-letter queue without blocking the good messages behind it;
failures are retried with back-off; the outbox relay publishes with confirms.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
from kombu import Connection, Producer, Queue
from polling import eventually
from sqlalchemy import MetaData, func, select

from mienskip_shared.contracts import new_event
from mienskip_shared.db import make_engine
from mienskip_shared.messaging import (
    ConfirmedPublisher,
    EventConsumer,
    OutboxRelay,
    OutgoingMessage,
    Subscription,
    add_to_outbox,
    declare,
    outbox_table,
)
from mienskip_shared.messaging.consumer import ERROR_HEADER
from mienskip_shared.messaging.topology import (
    RETIRED,
    SUBSCRIPTIONS,
    dead_letter_depths,
    dead_letter_queue,
    events_exchange,
    main_queue,
)

SUB = Subscription("testsvc", "intake", "request.cancelled")
FAST_RETRIES = (50, 100)


@pytest.fixture(params=["memory", "rabbitmq"])
def broker_url(request):
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("rabbit_url")


def _connection_factory(url):
    def make():
        return Connection(url, transport_options={"polling_interval": 0.01} if url.startswith("memory") else {})

    return make


def _cancelled(n: int) -> str:
    return new_event("request.cancelled", {"request_id": f"r{n}", "kamer_id": "k1"},
                     correlation_id=f"r{n}").to_json()


def _publish_raw(url, body, content_type="application/json", routing_key=SUB.event_type):
    with Connection(url) as conn:
        Producer(conn.default_channel).publish(
            body if isinstance(body, bytes) else body.encode(), exchange=events_exchange.name,
            routing_key=routing_key, content_type=content_type, content_encoding="utf-8", delivery_mode=2)


def _drain(url, queue_name) -> list:
    """Take every message off a queue, undecoded (poison must not blow up the test)."""
    got = []
    with Connection(url) as conn:
        bound = Queue(queue_name, no_declare=True)(conn.default_channel)
        while (msg := bound.get(no_ack=False)) is not None:
            got.append(msg)
            msg.ack()
    return got




class Recorder:
    def __init__(self, fail_times: dict[str, int] | None = None):
        self.seen: list[str] = []
        self.fail_times = dict(fail_times or {})
        self.lock = threading.Lock()

    def __call__(self, envelope):
        with self.lock:
            request_id = envelope.data["request_id"]
            if self.fail_times.get(request_id, 0) > 0:
                self.fail_times[request_id] -= 1
                raise RuntimeError("database briefly away")
            self.seen.append(request_id)


def _run_consumer(url, handle, stop, on_give_up=None):
    consumer = EventConsumer("test", _connection_factory(url), [SUB], handle, retry_delays_ms=FAST_RETRIES,
                             on_give_up=on_give_up)
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    return thread


def _declare(url):
    with Connection(url) as conn:
        declare(conn.default_channel, [SUB], FAST_RETRIES)


def test_poison_goes_to_dead_letter_queue_and_good_messages_pass(broker_url):
    _declare(broker_url)
    bad_version = json.loads(_cancelled(99))
    bad_version["schema_version"] = 7
    bad_field = json.loads(_cancelled(98))
    bad_field["data"]["request_id"] = None
    _publish_raw(broker_url, "{not json")
    _publish_raw(broker_url, _cancelled(1))
    _publish_raw(broker_url, json.dumps(bad_version))
    _publish_raw(broker_url, _cancelled(2))
    _publish_raw(broker_url, json.dumps(bad_field))
    _publish_raw(broker_url, "plain words", content_type="text/plain")
    _publish_raw(broker_url, _cancelled(3))

    recorder, stop = Recorder(), threading.Event()
    thread = _run_consumer(broker_url, recorder, stop)
    try:
        assert eventually(lambda: len(recorder.seen) == 3)
    finally:
        stop.set()
        thread.join(10)
    assert recorder.seen == ["r1", "r2", "r3"]
    dead = _drain(broker_url, SUB.dead_letter_queue_name)
    assert len(dead) == 4
    reasons = [m.headers[ERROR_HEADER] for m in dead]
    assert sum("cannot decode" in r for r in reasons) == 2  # bad JSON and text/plain
    assert any("schema version" in r for r in reasons)
    assert any("request_id" in r for r in reasons)


def test_failures_are_retried_with_backoff_then_dead_lettered(broker_url):
    _declare(broker_url)
    # r1 fails once, then works; r2 never works and must end in the dead-letter queue.
    recorder = Recorder(fail_times={"r1": 1, "r2": 100})
    for n in (1, 2):
        _publish_raw(broker_url, _cancelled(n))
    stop, gave_up = threading.Event(), []
    thread = _run_consumer(broker_url, recorder, stop,
                           on_give_up=lambda envelope, exc: gave_up.append((envelope.data["request_id"], str(exc))))
    try:
        assert eventually(lambda: recorder.seen == ["r1"])
        assert eventually(lambda: recorder.fail_times["r2"] == 100 - 1 - len(FAST_RETRIES))
        dead: list = []
        assert eventually(lambda: dead.extend(_drain(broker_url, SUB.dead_letter_queue_name)) or len(dead) == 1)
    finally:
        stop.set()
        thread.join(10)
    assert "gave up after 3 attempts" in dead[0].headers[ERROR_HEADER]
    assert recorder.seen == ["r1"]
    assert gave_up == [("r2", "database briefly away")]  # told once, before dead-lettering


def test_outbox_relay_publishes_each_row_once_with_confirms(broker_url, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    outbox = outbox_table(MetaData(), "test")
    outbox.metadata.create_all(engine)
    _declare(broker_url)
    with engine.begin() as tx:
        for n in range(250):
            add_to_outbox(tx, outbox, new_event("request.cancelled", {"request_id": f"r{n}", "kamer_id": "k"},
                                                correlation_id=f"r{n}", occurred_at=datetime.now(UTC)))
    relay = OutboxRelay(engine, outbox, ConfirmedPublisher(_connection_factory(broker_url)), batch_size=100)
    assert [relay.relay_once() for _ in range(4)] == [100, 100, 50, 0]
    with engine.begin() as tx:
        assert tx.execute(select(func.count()).where(outbox.c.published_at.is_(None))).scalar() == 0
    received = _drain(broker_url, SUB.queue_name)
    assert len(received) == 250
    assert len({m.properties["message_id"] for m in received}) == 250


def test_the_relay_lingers_longer_only_after_a_busy_round(broker_url, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'relay.sqlite3'}")
    outbox = outbox_table(MetaData(), "test")
    outbox.metadata.create_all(engine)
    _declare(broker_url)
    relay = OutboxRelay(engine, outbox, ConfirmedPublisher(_connection_factory(broker_url)), linger_s=0.01,
                        busy_linger_s=0.05, busy_rows=3)

    def written(count: int) -> None:
        with engine.begin() as tx:
            for _ in range(count):
                add_to_outbox(tx, outbox, new_event("request.cancelled", {"request_id": "r", "kamer_id": "k"},
                                                    correlation_id="r", occurred_at=datetime.now(UTC)))

    assert relay.linger() == 0.01  # nothing published yet: a lone commit waits the short linger
    written(2)
    assert relay.relay_once() == 2 and relay.linger() == 0.01
    written(3)
    assert relay.relay_once() == 3 and relay.linger() == 0.05  # a busy round: gather more for the next
    assert relay.relay_once() == 0 and relay.linger() == 0.01  # quiet again
    assert len(_drain(broker_url, SUB.queue_name)) == 5


def test_batches_are_handled_together_and_a_failing_batch_falls_back_to_one_by_one(broker_url, monkeypatch):
    from kombu.message import Message

    from mienskip_shared.messaging.consumer import Batching

    acks: list[bool] = []  # each ack's ``multiple``
    plain_ack = Message.ack
    monkeypatch.setattr(Message, "ack", lambda message, multiple=False: (acks.append(multiple),
                                                                          plain_ack(message, multiple=multiple)))
    _declare(broker_url)
    for n in range(10):
        _publish_raw(broker_url, _cancelled(n))
    batches: list[list[str]] = []
    singles = Recorder()

    def handle_many(envelopes):
        ids = [e.data["request_id"] for e in envelopes]
        if "r7" in ids:
            raise RuntimeError("one bad apple")  # the whole batch is then tried one by one
        batches.append(ids)

    stop = threading.Event()
    consumer = EventConsumer("batch", _connection_factory(broker_url), [SUB], singles,
                             retry_delays_ms=FAST_RETRIES,
                             batching=Batching(frozenset({SUB.event_type}), handle_many, max_size=4, max_wait_s=0.05))
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert eventually(lambda: sum(map(len, batches)) + len(singles.seen) == 10)
    finally:
        stop.set()
        thread.join(10)
    assert all(len(b) <= 4 for b in batches) and any(len(b) > 1 for b in batches)
    assert "r7" in singles.seen
    assert sorted(sum(batches, []) + singles.seen, key=lambda r: int(r[1:])) == [f"r{n}" for n in range(10)]
    if broker_url.startswith("memory"):  # memory:// knows no ``multiple``: one ack each
        assert acks == [False] * 10
    else:  # AMQP: one ack settles a whole batch, the fallback's singles one each
        assert sorted(acks) == [False] * len(singles.seen) + [True] * len(batches)
    assert _drain(broker_url, SUB.queue_name) == []  # everything acked


def test_a_publisher_that_lost_its_connection_starts_clean(rabbit_url):
    """Unconfirmed deliveries of a dead channel must not be waited for on the next one."""
    from urllib.parse import urlparse

    from tcp_proxy import TcpProxy

    from mienskip_shared.messaging import PublishFailed

    real = urlparse(rabbit_url)
    proxy = TcpProxy(real.hostname, real.port)
    url = rabbit_url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")
    _declare(rabbit_url)
    publisher = ConfirmedPublisher(_connection_factory(url), confirm_timeout=2)
    message = OutgoingMessage(exchange="mienskip.events", routing_key=SUB.event_type,
                              body=_cancelled(1).encode(), message_id="m1")
    try:
        assert publisher.publish_batch([message]) == 1
        publisher._unconfirmed.add(99)  # as if a confirm was owed when the connection died
        proxy.cut()
        with pytest.raises(PublishFailed):
            publisher.publish_batch([message])
        proxy.restore()
        assert publisher.publish_batch([message]) == 1  # a fresh channel, nothing stale owed
    finally:
        publisher.close()
        proxy.close()


def test_a_retired_queue_is_unbound_and_stops_filling(broker_url):
    """An installation upgraded from before intake asked for reviews keeps notify's old
    queue for matching's proposals: declaring unbinds it, so it takes no more; its new
    queue takes intake's review requests, and intake still hears matching's proposals.
    Its dead letters stay in sight of the operator."""
    old = Subscription("notify", "matching", "assignment.proposed")
    new = Subscription("notify", "intake", "assignment.review_requested")
    intake = Subscription("intake", "matching", "assignment.proposed")
    assert old in RETIRED and old not in SUBSCRIPTIONS and {new, intake} <= set(SUBSCRIPTIONS)
    with Connection(broker_url) as conn:
        declare(conn.default_channel, retry_delays_ms=())  # unbinding a queue that does not exist is fine
        main_queue(old)(conn.default_channel).declare()  # as the previous release left it: bound
        dead_letter_queue(old)(conn.default_channel).declare()
        declare(conn.default_channel, retry_delays_ms=())
        declare(conn.default_channel, retry_delays_ms=())  # and again: idempotent
        for sub in (old, new, intake):
            conn.default_channel.queue_purge(sub.queue_name)  # memory:// is shared by this process's tests
        assert old.dead_letter_queue_name in dead_letter_depths(conn)
    publisher = ConfirmedPublisher(_connection_factory(broker_url))
    try:  # confirmed: once published, every queue the exchange routes to holds its copy
        assert publisher.publish_batch([
            OutgoingMessage(exchange=events_exchange.name, routing_key=event_type, message_id=event_type,
                            body=json.dumps({"event_type": event_type}).encode())
            for event_type in ("assignment.proposed", "assignment.review_requested")]) == 2
    finally:
        publisher.close()
    assert [m.properties["message_id"] for m in _drain(broker_url, old.queue_name)] == []
    assert [m.properties["message_id"] for m in _drain(broker_url, new.queue_name)] == ["assignment.review_requested"]
    assert [m.properties["message_id"] for m in _drain(broker_url, intake.queue_name)] == ["assignment.proposed"]


def test_a_consumer_still_retries_after_every_broker_connection_was_cut(rabbit_url):
    """The consumer loop reconnects by itself; the publisher it retries and dead-letters
    with must too: its connection, idle since the last retry, died in the same cut (as
    in a broker restart). A failure after the cut is retried, not a crashed worker."""
    from urllib.parse import urlparse

    from tcp_proxy import TcpProxy

    real = urlparse(rabbit_url)
    proxy = TcpProxy(real.hostname, real.port)
    url = rabbit_url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")
    _declare(rabbit_url)
    recorder, stop = Recorder(fail_times={"r1": 1, "r2": 1}), threading.Event()
    crashed: list[BaseException] = []

    def run():
        try:
            EventConsumer("test", _connection_factory(url), [SUB], recorder, retry_delays_ms=FAST_RETRIES).run(stop)
        except BaseException as exc:  # noqa: BLE001 -- recorded for the assertion below
            crashed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        _publish_raw(rabbit_url, _cancelled(1))  # fails once: retried through the side publisher
        assert eventually(lambda: recorder.seen == ["r1"])
        proxy.cut()
        proxy.restore()
        _publish_raw(rabbit_url, _cancelled(2))  # fails once after the cut
        assert eventually(lambda: recorder.seen == ["r1", "r2"] or crashed), recorder.seen
    finally:
        stop.set()
        thread.join(10)
        proxy.close()
    assert crashed == []
    assert recorder.seen == ["r1", "r2"]


def test_a_publisher_idle_past_its_heartbeats_publishes_again(rabbit_url, rabbitmqctl):
    """Nothing drains an idle publisher's connection, so the broker closes it after two
    missed heartbeats (a minute at our 30 s); the next batch goes out on a new one."""
    vhost = rabbit_url.rsplit("/", 1)[1]
    _declare(rabbit_url)
    publisher = ConfirmedPublisher(lambda: Connection(rabbit_url, heartbeat=1))
    try:
        assert publisher.publish_batch([OutgoingMessage(events_exchange.name, SUB.event_type,
                                                        _cancelled(1).encode(), "m1")]) == 1
        # The broker gives up on a silent client after about two heartbeats: wait until it has.
        # (list_connections lists every vhost's, whatever -p says: ours are picked out by name)
        assert eventually(lambda: vhost not in rabbitmqctl("list_connections", "vhost").split(), timeout=30)
        assert publisher.publish_batch([OutgoingMessage(events_exchange.name, SUB.event_type,
                                                        _cancelled(2).encode(), "m2")]) == 1
    finally:
        publisher.close()
    assert [m.properties["message_id"] for m in _drain(rabbit_url, SUB.queue_name)] == ["m1", "m2"]
