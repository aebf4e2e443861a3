"""A referral through real RabbitMQ and PostgreSQL: notify as bootstrap builds it hears
intake's provider and referral events on their own queues (shared topology), in whatever
order they arrive, and asks the provider once, by e-mail and on its signed webhook."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from notify_support import announcements, publish
from polling import eventually
from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.bootstrap import build
from mienskip_notify.settings import Settings
from mienskip_notify.webhooks import provider_secret, verify_webhook
from mienskip_shared.contracts import new_event
from mienskip_shared.links import verify_referral_link
from mienskip_shared.messaging import PublishFailed, declare
from mienskip_shared.messaging.topology import SUBSCRIPTIONS
from mienskip_shared.runtime import start_workers

MASTER = "bus test webhook master key"
LINK_SECRET = "bus test link secret"


def publish_once_the_broker_answers(settings, *envelopes):
    """The shared test broker, on a loaded machine, may not answer a new connection in time:
    try again until it does (a repeat is a redelivery, which notify handles once)."""
    def published():
        try:
            publish(settings, *envelopes)
        except PublishFailed:
            return False
        return True

    assert eventually(published, timeout=60)


def test_a_referral_on_the_bus_reaches_the_provider_once_whatever_comes_first(tmp_path, rabbit_url, postgres_url,
                                                                              http_sink):
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url=rabbit_url, database_url=postgres_url,
                                 secret_key=LINK_SECRET, webhook_secret=MASTER, public_url="https://m.example")
    service = build(settings)
    with settings.broker_connection() as conn:
        declare(conn.default_channel, SUBSCRIPTIONS)  # as every publisher does before it publishes
    due = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    start = due + timedelta(days=3)
    sent = new_event("referral.sent", {
        "referral_id": "rf-1", "request_id": "rq-1", "provider_id": "pr-1", "kamer_id": "grou",
        "region": "leeuwarden", "actor": "kamer", "category": "paperwork", "helper": "professional",
        "window": {"start": start, "end": start + timedelta(hours=1)}, "urgency": "normal", "due_at": due,
    }, correlation_id="rq-1", kamer_id="grou")
    stop = threading.Event()
    threads = start_workers(service.workers, stop)
    try:
        # the referral first, twice (a redelivery): its provider and kamer arrive on other queues
        publish_once_the_broker_answers(settings, sent, sent)
        publish_once_the_broker_answers(settings, new_event("kamer.registered", {
            "kamer_id": "grou", "name": "Dorpskamer Grou", "region": "leeuwarden",
            "location": {"lat": 53.094, "lon": 5.834}, "phone": "0566 601234", "language": "fy",
        }, correlation_id="k-1", kamer_id="grou"), new_event("provider.registered", {
            "provider_id": "pr-1", "name": "Sociaal Wijkteam Grou", "kind": "wijkteam", "region": "leeuwarden",
            "categories": ["paperwork"], "email": "wijkteam@example.org", "webhook_url": f"{http_sink.url}/hook",
            "language": "en", "revision": 1,
        }, correlation_id="p-1"))

        def announced():
            """the provider's e-mail and webhook are sent, and both announced in notification.sent"""
            with service.engine.connect() as conn:
                sent_rows = conn.execute(select(tables.notifications.c.channel, tables.notifications.c.status)).all()
                published = conn.execute(select(tables.outbox.c.published_at)).scalars().all()
            done = sorted(map(tuple, sent_rows)) == [("mailbox", "sent"), ("webhook", "sent")]
            return done and published and None not in published and len(announcements(service.engine)) == 2

        assert eventually(announced, timeout=60)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        service.dispose()
    assert not any(thread.is_alive() for thread in threads)

    (path,) = (tmp_path / "mailbox" / "grou").glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["Subject"] == "Referral: paperwork – Dorpskamer Grou" and message["To"] == "wijkteam@example.org"
    text = message.get_body(("plain",)).get_content()
    assert "Questions? Call Dorpskamer Grou on 0566 601234." in text
    token = text.split("https://m.example/p/", 1)[1].split()[0]
    assert verify_referral_link(LINK_SECRET, token).expires_at == due + timedelta(days=14)
    (hook,) = http_sink.received
    verify_webhook(provider_secret(MASTER, "pr-1"), hook.headers["Mienskip-Signature"], hook.body)
    assert json.loads(hook.body)["link"] == f"https://m.example/p/{token}"
