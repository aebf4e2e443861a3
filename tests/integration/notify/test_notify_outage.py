"""RELIABILITY.md's "notify provider down": the real service (bootstrap.build) on the
in-process bus, a real SMTP server on 127.0.0.1 stopped while 300 notifications are due,
then started again: every message arrives, none twice. And every event published twice
yields each message once."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
import structlog
from aiosmtpd.controller import Controller
from notify_support import announcements, publish
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from mienskip_notify.adapters import tables
from mienskip_notify.bootstrap import build
from mienskip_notify.domain.notifications import notification_key
from mienskip_notify.settings import Settings
from mienskip_shared.contracts import new_event
from mienskip_shared.logging import configure_logging
from mienskip_shared.runtime import start_workers

pytestmark = pytest.mark.slow

EVENTS = 300
KAMERS = 10
# Short, many retries: memory:// waits out each delay in the consumer, one message at a time.
RETRY_DELAYS_MS = (10, 20, 50, 100, 200, 400, 800, 1600, 3200, 3200, 3200)


class SmtpInbox:
    def __init__(self):
        self.received: list[bytes] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.received.append(envelope.original_content)
        return "250 OK"

    def message_ids(self) -> Counter:
        with self._lock:
            raw = list(self.received)
        return Counter(message_from_bytes(m, policy=default)["Message-ID"] for m in raw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        threading.Event().wait(0.05)
    return result


def kamer_registered(n: int, webhook_url: str | None = None):
    return new_event("kamer.registered", {
        "kamer_id": f"kamer-{n}", "name": f"Buurtkamer {n}", "region": "leeuwarden",
        "location": {"lat": 53.2, "lon": 5.8}, "email": f"kamer-{n}@example.org", "webhook_url": webhook_url,
        "language": ("nl", "fy", "en")[n % 3],
    }, correlation_id=f"kamer-{n}", kamer_id=f"kamer-{n}")


def review_requests(count: int):
    """intake asking each kamer to review a proposal: one message to the kamer each."""
    return [new_event("assignment.review_requested", {
        "assignment_id": f"as-{i}", "request_id": f"rq-{i}", "volunteer_id": f"vo-{i % 17}",
        "kamer_id": f"kamer-{i % KAMERS}", "region": "leeuwarden", "distance_km": 1.5,
        "explanation": {"distance_km": 1.5, "skills_matched": ["pets"],
                        "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.0},
                                      "rule": None}},
    }, correlation_id=f"corr-{i}", kamer_id=f"kamer-{i % KAMERS}") for i in range(count)]


def count(engine, *where):
    t = tables.notifications
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(t).where(*where)).scalar_one()


def outbox_types(engine) -> Counter:
    """Announcements by type: each notification a notification.sent carries counts."""
    return Counter(event_type for event_type, _ in announcements(engine))


@pytest.fixture(autouse=True)
def plain_logs():
    """Logs as a deployment writes them: the test default renders each of hundreds of
    retry tracebacks with rich, which takes longer than the outage."""
    configure_logging("WARNING", json=True)
    yield
    structlog.reset_defaults()


def handled(queue: str) -> float:
    return REGISTRY.get_sample_value("mienskip_messages_total", {"queue": queue, "outcome": "ok"}) or 0.0


@pytest.fixture
def running_notify(tmp_path):
    """Start notify as bootstrap builds it; yields (settings, service); stops it afterwards."""
    started = []

    def start(**overrides):
        overrides.setdefault("kamer_digest_minutes", 0)  # each proposal its own mail: these tests count deliveries
        settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://",
                                     retry_delays_ms=RETRY_DELAYS_MS, webhook_secret="outage-test", **overrides)
        service = build(settings)
        stop = threading.Event()
        threads = start_workers(service.workers, stop)
        started.append((service, stop, threads))
        return settings, service

    yield start
    for service, stop, threads in started:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        service.dispose()
        assert not any(thread.is_alive() for thread in threads)


def test_smtp_down_while_300_are_due_then_back_every_message_arrives_once(running_notify):
    port = free_port()
    settings, service = running_notify(smtp_url=f"smtp://127.0.0.1:{port}")
    t = tables.notifications
    publish(settings, *[kamer_registered(n) for n in range(KAMERS)])
    wait_for(lambda: _kamers(service.engine) == KAMERS, "every kamer recorded")

    events = review_requests(EVENTS)
    publish(settings, *events)  # nothing listens on the SMTP port
    wait_for(lambda: count(service.engine, t.c.attempts >= 1) == EVENTS,
             "all 300 notifications due and each tried at least once while SMTP is down")
    assert count(service.engine, t.c.status == "sent") == 0

    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        wait_for(lambda: count(service.engine, t.c.status == "sent") == EVENTS, "all 300 sent after the outage")
        wait_for(lambda: sum(inbox.message_ids().values()) >= EVENTS, "all 300 at the SMTP server")
    finally:
        controller.stop()

    ids = inbox.message_ids()
    expected = {f"<{notification_key(e.event_id, f'{e.kamer_id}@example.org', 'email')}@mienskip>" for e in events}
    assert set(ids) == expected  # none lost
    assert max(ids.values()) == 1  # none twice
    assert count(service.engine, t.c.status != "sent") == 0
    wait_for(lambda: outbox_types(service.engine)["notification.sent"] == EVENTS, "one notification.sent each")
    assert outbox_types(service.engine)["notification.failed"] == 0


def test_every_event_published_twice_yields_each_message_once(running_notify, http_sink):
    port = free_port()
    inbox = SmtpInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings, service = running_notify(smtp_url=f"smtp://127.0.0.1:{port}")
        # every other kamer also has its own webhook: two channels, each once
        registered = [kamer_registered(n, f"{http_sink.url}/k{n}" if n % 2 else None) for n in range(KAMERS)]
        publish(settings, *registered, *registered)
        wait_for(lambda: _kamers(service.engine) == KAMERS, "every kamer recorded")
        events = review_requests(EVENTS)
        queue = "notify.intake.assignment.review_requested"
        handled_before = handled(queue)
        publish(settings, *events)
        publish(settings, *events)  # the same envelopes, same event ids, again
        with_hooks = sum(1 for e in events if int(e.kamer_id.split("-")[1]) % 2)

        wait_for(lambda: handled(queue) - handled_before >= 2 * EVENTS, "both copies of every event handled")
        assert count(service.engine, tables.notifications.c.status == "sent") == EVENTS + with_hooks
    finally:
        controller.stop()

    ids = inbox.message_ids()
    assert len(ids) == EVENTS and max(ids.values()) == 1
    hooks = Counter(r.headers["Mienskip-Notification-Id"] for r in http_sink.received)
    assert len(hooks) == with_hooks and max(hooks.values()) == 1
    assert outbox_types(service.engine)["notification.sent"] == EVENTS + with_hooks


def _kamers(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.kamers)).scalar_one()
