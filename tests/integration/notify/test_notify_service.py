"""notify as bootstrap builds it: consumer and relay threads on the in-process bus."""

from __future__ import annotations

import threading
import time
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.bootstrap import build
from mienskip_notify.entrypoints.consumer import SUBSCRIPTIONS
from mienskip_notify.settings import Settings
from mienskip_shared.contracts import new_event
from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage, declare
from mienskip_shared.messaging.topology import EVENTS_EXCHANGE
from mienskip_shared.runtime import start_workers


def wait_for(condition, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        threading.Event().wait(interval)
    raise AssertionError(f"not true within {timeout}s: {condition.__doc__ or condition}")


def publish(settings, *envelopes):
    publisher = ConfirmedPublisher(settings.broker_connection)
    try:
        publisher.publish_batch(
            OutgoingMessage(exchange=EVENTS_EXCHANGE, routing_key=e.event_type, body=e.to_json().encode(),
                            message_id=e.event_id, correlation_id=e.correlation_id)
            for e in envelopes
        )
    finally:
        publisher.close()


def test_settings_come_from_mienskip_environment_variables(tmp_path):
    settings = Settings.from_env({
        "MIENSKIP_SMTP_URL": "smtp://127.0.0.1:2525", "MIENSKIP_MAIL_FROM": "kamers@mienskip.example",
        "MIENSKIP_PUBLIC_URL": "https://mienskip.example", "MIENSKIP_DATA_DIR": str(tmp_path),
        "MIENSKIP_BATCH_MAX_SIZE": "16", "MIENSKIP_BATCH_MAX_WAIT_MS": "20",  # named as matching's
    })
    assert (settings.smtp_url, settings.mail_from, settings.public_url) == (
        "smtp://127.0.0.1:2525", "kamers@mienskip.example", "https://mienskip.example")
    assert (settings.batch_max_size, settings.batch_max_wait_ms) == (16, 20)
    assert settings.database_url == f"sqlite:///{tmp_path / 'mienskip.sqlite3'}"


def test_events_on_the_bus_end_up_in_the_mailbox_and_are_announced(tmp_path):
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://")
    service = build(settings)
    assert service.check_ready() == {"database": "ok", "broker": "ok"}
    with settings.broker_connection() as conn:
        declare(conn.default_channel, SUBSCRIPTIONS)  # as the consumer will; publishing may come first

    stop = threading.Event()
    threads = start_workers(service.workers, stop)
    try:
        publish(settings, new_event("kamer.registered", {
            "kamer_id": "mantgum", "name": "Dorpskamer De Wjukken", "region": "leeuwarden",
            "location": {"lat": 53.131, "lon": 5.717}, "language": "fy",
        }, correlation_id="c-1", kamer_id="mantgum"))
        publish(settings, new_event("request.unmatched", {
            "request_id": "rq-9", "kamer_id": "mantgum", "region": "leeuwarden",
            "reasons": {"too_far": 4}, "summary": "4 frijwilligers te fier",
        }, correlation_id="c-2", kamer_id="mantgum"))

        def announced():
            """both notifications (the kamer's, and "please call" for the resident notify
            has no contact for) are sent and their events published"""
            with service.engine.connect() as conn:
                sent = conn.execute(select(tables.notifications.c.status)).scalars().all()
                published = conn.execute(select(tables.outbox.c.published_at)).scalars().all()
            return sent == ["sent", "sent"] and len(published) == 2 and None not in published

        wait_for(announced)
        subjects = sorted(message_from_bytes(path.read_bytes(), policy=default)["Subject"]
                          for path in (tmp_path / "mailbox" / "mantgum").glob("*.eml"))
        assert subjects == ["Gjin frijwilliger fûn – helpfraach rq-9", "Graach belje: bewenner rq-9 – helpfraach rq-9"]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        service.dispose()
    assert not any(thread.is_alive() for thread in threads)


def test_through_the_bus_an_auto_approved_proposal_brings_an_offer_and_no_review(tmp_path):
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://", review_hold_s=1.0,
                                 secret_key="service test")
    service = build(settings)
    stop = threading.Event()
    threads = start_workers(service.workers, stop)

    def proposal(n):
        return new_event("assignment.proposed", {
            "assignment_id": f"as-{n}", "request_id": f"rq-{n}", "volunteer_id": "vo-1", "kamer_id": "mantgum",
            "region": "leeuwarden", "distance_km": 1.0, "explanation": {}}, correlation_id=f"rq-{n}",
            kamer_id="mantgum")

    try:
        publish(settings, new_event("kamer.registered", {
            "kamer_id": "mantgum", "name": "Dorpskamer De Wjukken", "region": "leeuwarden",
            "location": {"lat": 53.131, "lon": 5.717}, "language": "fy"}, correlation_id="c-1", kamer_id="mantgum"))
        publish(settings, new_event("contact.volunteer", {
            "volunteer_id": "vo-1", "kamer_id": "mantgum", "first_name": "Hiltsje", "email": "h@example.org",
            "phone": None, "language": "fy"}, correlation_id="c-2", kamer_id="mantgum"))
        wait_for(lambda: _inbox(service) == 2)
        publish(settings, proposal(1), proposal(2), new_event("assignment.approved", {
            "assignment_id": "as-2", "request_id": "rq-2", "volunteer_id": "vo-1", "kamer_id": "mantgum",
            "region": "leeuwarden", "actor": "policy", "auto": True}, correlation_id="rq-2", kamer_id="mantgum"))

        def two_sent():
            """rq-1's review (its hold ran out) and rq-2's offer are sent"""
            with service.engine.connect() as conn:
                sent = conn.execute(select(tables.notifications.c.template, tables.notifications.c.request_id)
                                    .where(tables.notifications.c.status == "sent")).all()
            return sorted(sent) if len(sent) == 2 else None

        assert wait_for(two_sent) == [("assignment_proposed", "rq-1"), ("volunteer_offer", "rq-2")]
        with service.engine.connect() as conn:
            held = dict(conn.execute(select(tables.held_reviews.c.request_id, tables.held_reviews.c.status)).all())
        assert held == {"rq-1": "released", "rq-2": "withdrawn"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        service.dispose()
    assert not any(thread.is_alive() for thread in threads)


def _inbox(service) -> int:
    with service.engine.connect() as conn:
        return len(conn.execute(select(tables.inbox.c.event_id)).all())
