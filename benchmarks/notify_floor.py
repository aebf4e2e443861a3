"""The floor under notify's ratio: what the least work a notify that keeps its promises
must do per e-mail reaches on this machine, against raw smtplib in the same run.

    .venv/bin/python -m benchmarks.notify_floor [--messages 10000] [--processes 2] [--json]

``benchmarks.notify`` measures notify itself; this measures stripped-down consumers
(psycopg and kombu used directly: no ORM, no consumer framework, no planning state), so
that a target for notify can be weighed against what the parts cost here. Each level adds
one duty to the one before, for ``--messages`` offers queued in a durable quorum queue
(``assignment.approved`` envelopes, as intake publishes them):

* ``bare``: ``--processes`` consumers take batches of up to 64 (prefetch 128); per batch
  one transaction claims the events in an inbox and plans one row each, then every e-mail
  (composed once beforehand, the raw baseline's) goes over one kept SMTP connection, then
  one transaction marks the rows sent, then one ``multiple`` ack;
* ``parse``: every event read through the contract (``contracts.parse``: JSON, envelope
  and payload validated, as a consumer must before it acts);
* ``compose``: every e-mail planned and composed anew by notify's own planner and composer;
* ``announce each``: one ``notification.sent`` per e-mail, as version 1 of the contract had
  it: built by ``new_event`` (validated), written to an outbox in the marking transaction,
  published with confirms and marked published after it;
* ``announce batch``: one ``notification.sent`` per batch and kamer instead (version 2).

Timed from the first inbox row to the last ``sent`` mark (database clocks). Also: the
machine's CPU per e-mail over each level (psutil; includes starting the consumers, which
fork). Checks: every level sent each e-mail once, and the sink counted every message. A
throw-away database and vhost, removed afterwards, as ``benchmarks.notify``'s
``--replicas``. About a minute for 10,000 e-mails.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import signal
import smtplib
import sys
import tempfile
import time
from pathlib import Path

import kombu
import psutil
import psycopg

from benchmarks.notify import (
    VOLUNTEERS,
    bounded_int,
    known_contacts,
    offers,
    planned,
    raw_smtp,
    sample_message,
)
from benchmarks.servers import running_sink, temporary_database, temporary_vhost
from mienskip_notify.adapters.composer import WIRE_POLICY, MessageComposer
from mienskip_notify.service_layer.outcomes import sent_events
from mienskip_shared.contracts import parse
from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage

LEVELS = ("bare", "parse", "compose", "announce each", "announce batch")
EXCHANGE, QUEUE, EVENTS_QUEUE = "floor", "floor.offers", "floor.events"
BATCH, PREFETCH, IDLE_S, GIVE_UP_S = 64, 128, 0.05, 30.0
TABLES = """
DROP TABLE IF EXISTS inbox, notifications, outbox;
CREATE TABLE inbox (event_id text PRIMARY KEY, claimed_at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE notifications (id bigserial PRIMARY KEY, key text UNIQUE NOT NULL, kamer_id text NOT NULL,
                            status text NOT NULL, sent_at timestamptz);
CREATE TABLE outbox (id bigserial PRIMARY KEY, event_id text UNIQUE NOT NULL, body text NOT NULL,
                     published_at timestamptz);
"""


def _conninfo(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


class _Composer:
    """notify's planner and composer, with the contacts notify would have looked up."""

    def __init__(self):
        self._known = known_contacts(VOLUNTEERS)
        self._composer = MessageComposer("mienskip@localhost")

    def __call__(self, event):
        notification = planned(event, self._known)
        return notification, self._composer.compose(notification).as_bytes(policy=WIRE_POLICY)


def consume(level: str, database_url: str, broker_url: str, sink_port: int, message: bytes) -> None:
    """One consumer process: batches until the queue stayed empty for ``GIVE_UP_S``."""
    level_no = LEVELS.index(level)
    compose = _Composer() if level_no >= LEVELS.index("compose") else None
    publisher = ConfirmedPublisher(lambda: kombu.Connection(broker_url), declare_topology=False)
    with psycopg.connect(_conninfo(database_url)) as pg, kombu.Connection(broker_url) as connection:
        smtp = smtplib.SMTP("127.0.0.1", sink_port, timeout=10)
        channel = connection.channel()
        channel.basic_qos(0, PREFETCH, False)
        batch: list = []
        kombu.Consumer(channel, [kombu.Queue(QUEUE, channel=channel, no_declare=True)],
                       callbacks=[lambda _body, delivery: batch.append(delivery)], accept=None).consume()
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < GIVE_UP_S:
            try:
                connection.drain_events(timeout=IDLE_S)
                if len(batch) < BATCH:
                    continue
            except TimeoutError:
                if not batch:
                    continue
            _handle(level_no, batch, pg, smtp, publisher, compose, message)
            channel.basic_ack(batch[-1].delivery_tag, multiple=True)
            batch.clear()
            quiet_since = time.monotonic()
        smtp.quit()
        publisher.close()


def _handle(level_no, batch, pg, smtp, publisher, compose, message) -> None:
    if level_no >= LEVELS.index("parse"):
        events = [parse(delivery.body) for delivery in batch]
        ids, kamers = [e.event_id for e in events], [e.data["kamer_id"] for e in events]
    else:
        raw = [json.loads(delivery.body) for delivery in batch]
        ids, kamers = [e["event_id"] for e in raw], [e["data"]["kamer_id"] for e in raw]
    with pg.transaction():
        fresh = {row[0] for row in pg.execute(
            "INSERT INTO inbox (event_id) SELECT unnest(%s::text[]) ON CONFLICT DO NOTHING RETURNING event_id",
            (ids,))}
        pg.execute("INSERT INTO notifications (key, kamer_id, status) "
                   "SELECT k, kamer, 'pending' FROM unnest(%s::text[], %s::text[]) AS t(k, kamer) WHERE k = ANY(%s)",
                   (ids, kamers, list(fresh)))
    sent = []
    for n, event_id in enumerate(ids):
        if event_id not in fresh:
            continue
        notification, body = compose(events[n]) if compose else (None, message)
        smtp.sendmail("mienskip@localhost", [f"{event_id}@example.org"], body)
        sent.append((notification, events[n]) if compose else event_id)
    with pg.transaction():
        pg.execute("UPDATE notifications SET status = 'sent', sent_at = clock_timestamp() WHERE key = ANY(%s)",
                   ([e.event_id for _, e in sent] if compose else sent,))
        if level_no >= LEVELS.index("announce each"):
            announced = _announce(LEVELS[level_no], sent)
            with pg.cursor() as cursor:
                cursor.executemany("INSERT INTO outbox (event_id, body) VALUES (%s, %s)",
                                   [(e.event_id, e.to_json()) for e in announced])
    if level_no >= LEVELS.index("announce each"):
        _relay(pg, publisher)


def _announce(level: str, sent: list) -> list:
    """notification.sent: per batch and kamer (version 2), or one per e-mail (as version 1
    had it; here a version 2 event with one delivery, which costs the same)."""
    if level == "announce batch":
        return sent_events(sent)
    return [event for pair in sent for event in sent_events([pair])]


def _relay(pg, publisher: ConfirmedPublisher) -> None:
    """What notify's relay does after the commit: publish with confirms, mark published."""
    with pg.transaction():
        rows = pg.execute("SELECT id, event_id, body FROM outbox WHERE published_at IS NULL ORDER BY id "
                          "FOR UPDATE SKIP LOCKED").fetchall()
        publisher.publish_batch(OutgoingMessage(exchange=EXCHANGE, routing_key="notification.sent",
                                                body=body.encode(), message_id=event_id, correlation_id=event_id)
                                for _, event_id, body in rows)
        pg.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", ([row[0] for row in rows],))


# -- one run -----------------------------------------------------------------------------------

def prepare(database_url: str, broker_url: str, bodies: list[bytes]) -> None:
    """Empty tables, and the offers queued (confirmed) in an empty quorum queue."""
    with psycopg.connect(_conninfo(database_url), autocommit=True) as pg:
        pg.execute(TABLES)
    with kombu.Connection(broker_url) as connection:
        channel = connection.channel()
        exchange = kombu.Exchange(EXCHANGE, "direct", durable=True)
        for name, key in ((QUEUE, "offer"), (EVENTS_QUEUE, "notification.sent")):
            queue = kombu.Queue(name, exchange, routing_key=key, durable=True,
                                queue_arguments={"x-queue-type": "quorum"})(channel)
            queue.declare()
            queue.purge()
    publisher = ConfirmedPublisher(lambda: kombu.Connection(broker_url), declare_topology=False)
    try:
        publisher.publish_batch(OutgoingMessage(exchange=EXCHANGE, routing_key="offer", body=body,
                                                message_id=str(n)) for n, body in enumerate(bodies))
    finally:
        publisher.close()


def run_level(level: str, processes: int, database_url: str, broker_url: str, sink_port: int,
              message: bytes, messages: int) -> dict:
    before = sum(psutil.cpu_times()[:3])
    consumers = [multiprocessing.Process(target=consume, args=(level, database_url, broker_url, sink_port, message))
                 for _ in range(processes)]
    for consumer in consumers:
        consumer.start()
    with psycopg.connect(_conninfo(database_url), autocommit=True) as pg:
        deadline = time.monotonic() + GIVE_UP_S * 4
        while pg.execute("SELECT count(*) FROM notifications WHERE status = 'sent'").fetchone()[0] < messages:
            if time.monotonic() > deadline or not any(c.is_alive() for c in consumers):
                break
            time.sleep(0.2)
        used = sum(psutil.cpu_times()[:3]) - before
        first, last, sent = pg.execute(
            "SELECT (SELECT min(claimed_at) FROM inbox), max(sent_at), count(*) FROM notifications "
            "WHERE status = 'sent'").fetchone()
    for consumer in consumers:
        consumer.terminate()  # they would wait for more until GIVE_UP_S
        consumer.join()
    seconds = (last - first).total_seconds() if sent else None
    return {"level": level, "sent": sent, "seconds": round(seconds, 3) if seconds else None,
            "messages_per_s": round(sent / seconds, 1) if seconds else None,
            "machine_cpu_ms_per_message": round(used * 1000 / max(sent, 1), 3)}


def benchmark(messages: int, processes: int) -> dict:
    bodies = [event.to_json().encode() for event in offers(messages)]
    with tempfile.TemporaryDirectory(prefix="mienskip-floor-") as workdir:
        with running_sink("auto", Path(workdir)) as sink, temporary_database() as database_url, \
                temporary_vhost() as broker_url:
            message = sample_message("offer")
            raw_rate = raw_smtp(sink.port, message, messages)
            levels = []
            for level in LEVELS:
                prepare(database_url, broker_url, bodies)
                result = run_level(level, processes, database_url, broker_url, sink.port, message, messages)
                rate = result["messages_per_s"]
                result["ratio_to_raw"] = round(rate / raw_rate, 3) if rate else None
                levels.append(result)
        received = sink.received()  # once the sink has stopped and printed its count
    return {
        "sink": sink.name, "messages": messages, "processes": processes, "message_bytes": len(message),
        "raw_smtp_messages_per_s": round(raw_rate, 1), "levels": levels,
        "checks": {
            "every_level_sent_each_message_once": all(level["sent"] == messages for level in levels),
            "sink_received_every_message": received == messages * (1 + len(LEVELS)) + 1,
        },
    }


def table(report: dict) -> str:
    lines = [f"notify's floor: {report['messages']} offers of {report['message_bytes']} bytes, "
             f"{report['processes']} consumer processes, sink: {report['sink']}",
             f"{'raw SMTP (smtplib, 1 connection)':<34}{report['raw_smtp_messages_per_s']:>9.1f} msg/s",
             f"{'level':<16}{'msg/s':>9}{'/ raw':>8}{'machine CPU ms/e-mail':>24}"]
    for level in report["levels"]:
        lines.append(f"{level['level']:<16}{level['messages_per_s'] or 0:>9.1f}{level['ratio_to_raw'] or 0:>8.3f}"
                     f"{level['machine_cpu_ms_per_message']:>24.3f}")
    lines.append("checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in report["checks"].items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notify_floor", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=bounded_int(1, 100_000), default=10_000)
    parser.add_argument("--processes", type=bounded_int(1, 8), default=2)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))  # the finally blocks still clean up
    report = benchmark(args.messages, args.processes)
    print(json.dumps(report) if args.json else table(report))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
