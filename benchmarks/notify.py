"""Notify throughput: e-mails end to end (queue -> SMTP sink) beside the sink's raw SMTP rate.

    .venv/bin/python -m benchmarks.notify [--messages 2000] [--kind offer|proposal]
                                          [--sink auto|smtp-sink|aiosmtpd] [--replicas N] [--json]

One run starts a local SMTP sink on 127.0.0.1: Postfix's ``smtp-sink`` when it is installed
(Debian package ``postfix``), else aiosmtpd in a subprocess (BENCHMARKS.md: aiosmtpd itself
caps at a few hundred messages a second). Against that one sink it measures

* **raw SMTP** -- smtplib on one reused connection sending an already flattened message of
  notify's own size and shape: the in-run baseline, the most any sender on this machine
  gets from this sink;
* **notify end to end** -- the real service from ``bootstrap.build`` (SQLite under a
  temporary directory, the in-process ``memory://`` bus) with ``--messages`` events
  already queued: ``assignment.approved`` (``--kind offer``, the default: an offer with a
  signed link to a volunteer whose contact.volunteer and contact.resident were recorded
  first) or ``assignment.review_requested`` (``--kind proposal``: intake asking the kamer to
  review a proposal); from starting its workers until every notification is recorded
  ``sent`` (which happens only after the sink's 250 reply). With ``--replicas N`` instead
  as an operator runs it: N ``mienskip notify`` processes on a throw-away PostgreSQL
  database and RabbitMQ vhost (removed afterwards), each with its own SMTP connection, and
  the CPU per e-mail of each process and server.

It then checks that the sink counted exactly raw + end-to-end messages and that notify
recorded each notification once. Every wait has a deadline; the temporary directory and the
sink are removed at the end, also when the run fails.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import smtplib
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import func, select

from benchmarks.servers import (
    BIN,
    cpu_seconds,
    running_sink,
    service_env,
    start,
    temporary_database,
    temporary_vhost,
    wait_until,
)
from benchmarks.servers import running as running_processes
from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import WIRE_POLICY, MessageComposer
from mienskip_notify.bootstrap import MIGRATIONS, VERSION_TABLE, build
from mienskip_notify.domain.contacts import KamerContact, Known, ResidentContact, VolunteerContact
from mienskip_notify.domain.planner import notifications_for
from mienskip_notify.settings import Settings
from mienskip_shared.contracts import new_event
from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.links import sign_volunteer_link
from mienskip_shared.logging import configure_logging
from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage
from mienskip_shared.messaging.topology import EVENTS_EXCHANGE
from mienskip_shared.runtime import start_workers

KAMERS = 10
START_TIMEOUT = 10.0  # the sink answering, kamers recorded
RUN_TIMEOUT = 600.0  # every notification sent
STOP_TIMEOUT = 15.0
DONE_POLL_INTERVAL = 0.25  # while notify sends: see end_to_end
MAX_MESSAGES = 100_000

# -- what is sent -------------------------------------------------------------------------

def kamer_registered(n: int):
    return new_event("kamer.registered", {
        "kamer_id": f"bench-{n}", "name": f"Buurtkamer {n}", "region": "leeuwarden",
        "location": {"lat": 53.2, "lon": 5.8}, "email": f"kamer-{n}@example.org",
        "language": ("nl", "fy", "en")[n % 3],
    }, correlation_id=f"bench-kamer-{n}", kamer_id=f"bench-{n}")


def proposal_data(i: int) -> dict:
    return {
        "assignment_id": f"as-{i}", "request_id": f"rq-{i}", "volunteer_id": f"vo-{i % 97}",
        "kamer_id": f"bench-{i % KAMERS}", "region": "leeuwarden", "distance_km": 1.5,
        "explanation": {"distance_km": 1.5, "skills_matched": ["shopping", "buddy"], "availability": "tue 09:00-12:00",
                        "load_this_week": 1, "max_tasks_per_week": 3,
                        "runner_up": {"volunteer_id": "vo-12", "distance_km": 4.6,
                                      "reason": {"code": "further", "km": 3.1}, "rule": None}},
    }


def proposals(count: int):
    """intake asking each kamer to review a proposal its policy does not approve."""
    return [new_event("assignment.review_requested", proposal_data(i), correlation_id=f"bench-{i}",
                      kamer_id=f"bench-{i % KAMERS}") for i in range(count)]


VOLUNTEERS = 97
WINDOW_START = datetime(2030, 12, 3, 9, 0, tzinfo=UTC)


def contacts(count: int):
    """What intake sends notify when volunteers register and residents ask: names, e-mail."""
    volunteers = [new_event("contact.volunteer", {
        "volunteer_id": f"vo-{v}", "kamer_id": f"bench-{v % KAMERS}", "first_name": ("Hiltsje", "Sjoerd", "Anna")[v % 3],
        "email": f"vo-{v}@example.org", "phone": None, "language": ("nl", "fy", "en")[v % 3],
    }, correlation_id=f"bench-vo-{v}", kamer_id=f"bench-{v % KAMERS}") for v in range(VOLUNTEERS)]
    residents = [new_event("contact.resident", {
        "request_id": f"rq-{i}", "kamer_id": f"bench-{i % KAMERS}", "first_name": "Durk", "phone": None,
        "language": "fy", "address": "Tsjerkepaed 3, 9001 AB Grou", "neighbourhood": "Grou",
    }, correlation_id=f"bench-{i}", kamer_id=f"bench-{i % KAMERS}") for i in range(count)]
    return volunteers + residents


def offers(count: int):
    """assignment.approved: each an offer e-mail, with a signed link, to the volunteer."""
    return [new_event("assignment.approved", {
        "assignment_id": f"as-{i}", "request_id": f"rq-{i}", "volunteer_id": f"vo-{(i * 7) % VOLUNTEERS}",
        "kamer_id": f"bench-{i % KAMERS}", "region": "leeuwarden", "actor": "kamer", "auto": False,
        "category": ("shopping", "pets", "transport", "buddy")[i % 4],
        "window": {"start": WINDOW_START, "end": WINDOW_START + timedelta(hours=1)},
    }, correlation_id=f"bench-{i}", kamer_id=f"bench-{i % KAMERS}") for i in range(count)]


def publish(settings: Settings, envelopes) -> None:
    publisher = ConfirmedPublisher(settings.broker_connection)
    try:
        publisher.publish_batch(
            OutgoingMessage(exchange=EVENTS_EXCHANGE, routing_key=e.event_type, body=e.to_json().encode(),
                            message_id=e.event_id, correlation_id=e.correlation_id)
            for e in envelopes)
    finally:
        publisher.close()


def known_contacts(volunteers: int = 1) -> Known:
    """What notify knows when it plans a benchmark's message: kamer bench-0, volunteers
    vo-0 and on, resident Durk."""
    kamer = KamerContact("bench-0", "Buurtkamer 0", "kamer-0@example.org", None, "nl")
    return Known(kamer=kamer, volunteers={f"vo-{v}": VolunteerContact(f"vo-{v}", "bench-0", "Hiltsje",
                                                                       f"vo-{v}@example.org") for v in range(volunteers)},
                 resident=ResidentContact("rq-0", "bench-0", "Durk", None, "fy", None, "Grou"))


def planned(event, known: Known):
    """The one notification notify plans for ``event``, as the service plans it."""
    (notification,) = notifications_for(event.event_type, event.event_id, event.occurred_at, event.data, known.kamer,
                                        email_enabled=True, public_url="http://127.0.0.1:8000", known=known,
                                        sign_link=lambda a, v, e: sign_volunteer_link("bench", a, v, e))
    return notification


def sample_message(kind: str) -> bytes:
    """One of notify's own e-mails of this kind, flattened: what the raw baseline sends."""
    event = (offers if kind == "offer" else proposals)(1)[0]
    notification = planned(event, known_contacts())
    return MessageComposer("mienskip@localhost").compose(notification).as_bytes(policy=WIRE_POLICY)


# -- the two measurements ---------------------------------------------------------------------

def raw_smtp(port: int, message: bytes, count: int) -> float:
    """Messages per second from smtplib, one connection, nothing else to do."""
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    try:
        client.sendmail("mienskip@localhost", ["kamer-0@example.org"], message)  # connection warm
        started = time.perf_counter()
        for _ in range(count):
            client.sendmail("mienskip@localhost", ["kamer-0@example.org"], message)
        return count / (time.perf_counter() - started)
    finally:
        client.quit()


def count_sent(engine) -> int:
    t = tables.notifications
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t).where(t.c.status == "sent")).scalar_one()


def last_sent_at(engine) -> datetime:
    t = tables.notifications
    with engine.connect() as conn:
        return conn.execute(select(func.max(t.c.sent_at))).scalar_one()


def first_created_at(engine) -> datetime:
    t = tables.notifications
    with engine.connect() as conn:
        return conn.execute(select(func.min(t.c.created_at))).scalar_one()


def count_rows(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@contextlib.contextmanager
def running(settings: Settings) -> Iterator:
    service = build(settings)
    stop = threading.Event()
    threads = start_workers(service.workers, stop)
    try:
        yield service
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=STOP_TIMEOUT)
        service.dispose()


def end_to_end(settings: Settings, messages: int, kind: str) -> dict:
    """notify embedded, in this process (:func:`running`)."""

    @contextlib.contextmanager
    def notify():
        with running(settings) as service:
            yield service.engine, []

    return _through(notify, settings, messages, kind)


def end_to_end_production(sink_port: int, messages: int, kind: str, replicas: int, workdir: Path) -> dict:
    """As :func:`end_to_end`, through ``replicas`` ``mienskip notify`` processes on PostgreSQL
    and RabbitMQ; adds each part's CPU milliseconds per e-mail."""
    with temporary_database() as database_url, temporary_vhost() as broker_url:
        env = {**service_env(database_url, broker_url), "MIENSKIP_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
               "MIENSKIP_SECRET_KEY": "benchmark links", "MIENSKIP_KAMER_DIGEST_MINUTES": "0"}
        engine = make_engine(database_url)
        upgrade(engine, MIGRATIONS, VERSION_TABLE)  # before the replicas, as an operator's `mienskip migrate`

        @contextlib.contextmanager
        def notify():
            processes = [start(f"notify-{n + 1}", [str(BIN / "mienskip"), "notify"], env, workdir)
                         for n in range(replicas)]
            with running_processes(processes):
                yield engine, processes

        try:
            return _through(notify, Settings.from_env(env), messages, kind)
        finally:
            engine.dispose()


def _through(notify: Callable, settings: Settings, messages: int, kind: str) -> dict:
    """Kamers (and for offers the people's contacts) first: an unknown kamer's message waits
    for a retry. Then the messages, queued while notify is down, timed from the first
    notification planned to the last one's ``sent_at``. ``notify()`` runs notify and gives its engine and its
    processes (none: it runs in this one); for processes, each part's CPU per e-mail."""
    with notify() as (engine, processes):
        publish(settings, [kamer_registered(n) for n in range(KAMERS)])
        wait_until(lambda: count_rows(engine, tables.kamers) == KAMERS, START_TIMEOUT, "kamers recorded", processes)
        if kind == "offer":
            people = contacts(messages)
            publish(settings, people)
            wait_until(lambda: count_rows(engine, tables.inbox) == KAMERS + len(people), RUN_TIMEOUT,
                       "contacts recorded", processes)
    publish(settings, (offers if kind == "offer" else proposals)(messages))
    with notify() as (engine, processes):
        # From the first notification planned: a notify process's start (Python, imports, about
        # a second of CPU) is not sending, and counted it would swamp a short run.
        wait_until(lambda: count_rows(engine, tables.notifications) > 0, START_TIMEOUT, "notify started", processes)
        before, started = cpu_seconds(processes), first_created_at(engine)
        # Polled seldom (a count in this process takes CPU from an embedded notify); the end
        # is the last notification's sent_at, so how often we look does not change the figure.
        wait_until(lambda: count_sent(engine) >= messages, RUN_TIMEOUT, "every notification sent", processes,
                   interval=DONE_POLL_INTERVAL)
        after = cpu_seconds(processes)
        seconds = (last_sent_at(engine) - started).total_seconds()
        rows = count_rows(engine, tables.notifications)
    report = {"seconds": round(seconds, 3), "messages_per_s": round(messages / seconds, 1), "rows": rows}
    if processes:
        report["cpu_ms_per_message"] = {name: round((after[name] - before.get(name, 0.0)) * 1000 / messages, 3)
                                        for name in after if name not in ("wall", "load generator")}
    return report


def benchmark(messages: int, sink_kind: str, raw_messages: int, kind: str = "offer", replicas: int = 0) -> dict:
    """``replicas`` 0: notify embedded (SQLite, in-process bus); else that many processes."""
    with tempfile.TemporaryDirectory(prefix="mienskip-notify-bench-") as workdir:
        with running_sink(sink_kind, Path(workdir)) as sink:
            message = sample_message(kind)
            raw_rate = raw_smtp(sink.port, message, raw_messages)
            if replicas:
                e2e = end_to_end_production(sink.port, messages, kind, replicas, Path(workdir))
            else:
                settings = Settings.from_env({}, data_dir=Path(workdir) / "data", broker_url="memory://",
                                             smtp_url=f"smtp://127.0.0.1:{sink.port}", log_level="WARNING",
                                             secret_key="benchmark links",
                                             kamer_digest_minutes=0)  # every proposal its own mail: sending measured
                e2e = end_to_end(settings, messages, kind)
        received = sink.received()  # read once the sink has stopped and printed its count
    expected_at_sink = raw_messages + 1 + messages
    return {
        "sink": sink.name,
        "topology": f"production, {replicas} notify process(es)" if replicas else "embedded",
        "cpu_ms_per_message": e2e.get("cpu_ms_per_message"),
        "kind": kind,
        "messages": messages,
        "message_bytes": len(message),
        "raw_smtp_messages_per_s": round(raw_rate, 1),
        "end_to_end_messages_per_s": e2e["messages_per_s"],
        "end_to_end_seconds": e2e["seconds"],
        "ratio_end_to_end_to_raw": round(e2e["messages_per_s"] / raw_rate, 3) if raw_rate else None,
        "sink_received": received,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "checks": {
            "one_notification_per_event": e2e["rows"] == messages,
            "sink_received_every_message_once": received == expected_at_sink,
        },
    }


def table(report: dict) -> str:
    return "\n".join([
        f"notify, {report['messages']} e-mails ({report['kind']}) of {report['message_bytes']} bytes, "
        f"sink: {report['sink']} "
        f"(load average {report['load_average_1m']})",
        f"{'raw SMTP (smtplib, 1 connection)':<36}{report['raw_smtp_messages_per_s']:>10.1f} msg/s",
        f"{'notify end to end (queue -> sink)':<36}{report['end_to_end_messages_per_s']:>10.1f} msg/s"
        f"  ({report['end_to_end_seconds']:.2f} s)",
        f"end to end / raw: {report['ratio_end_to_end_to_raw']}  ({report['topology']})",
        *(["CPU ms per e-mail: " + ", ".join(f"{k} {v:.2f}" for k, v in report["cpu_ms_per_message"].items())]
          if report["cpu_ms_per_message"] else []),
        "checks: " + ", ".join(f"{k}={'ok' if v else 'FAILED'}" for k, v in report["checks"].items()),
    ])


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notify", description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=bounded_int(1, MAX_MESSAGES), default=2000,
                        help="e-mails sent through notify (default 2000)")
    parser.add_argument("--raw-messages", type=bounded_int(1, MAX_MESSAGES), default=None,
                        help="e-mails in the raw SMTP baseline (default: as many as --messages)")
    parser.add_argument("--sink", choices=("auto", "smtp-sink", "aiosmtpd"), default="auto",
                        help="SMTP sink (default: smtp-sink when installed, else aiosmtpd)")
    parser.add_argument("--kind", choices=("offer", "proposal"), default="offer",
                        help="offers to volunteers (assignment.approved, default) or kamers' review messages "
                             "(assignment.review_requested)")
    parser.add_argument("--replicas", type=bounded_int(0, 8), default=0,
                        help="0 (default): notify embedded on SQLite; N: N `mienskip notify` processes on "
                             "PostgreSQL and RabbitMQ")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    configure_logging("WARNING", json=True)
    logging.getLogger().setLevel(logging.WARNING)
    structlog.contextvars.clear_contextvars()
    # SIGTERM as an exception, so the finally blocks still stop the sink and remove the directory.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    report = benchmark(args.messages, args.sink, args.raw_messages or args.messages, args.kind, args.replicas)
    print(json.dumps(report) if args.json else table(report))
    return 0 if all(report["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
