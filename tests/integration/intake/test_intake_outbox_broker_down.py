"""Broker unreachable while kamers submit: intake still answers 202, and when the
broker is back the relay publishes every event exactly once (counted on the queue)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from intake_support import issue_token, uow
from kombu import Connection, Queue
from polling import eventually
from sqlalchemy import func, select
from tcp_proxy import TcpProxy

from mienskip_intake.adapters import tables
from mienskip_intake.bootstrap import build
from mienskip_intake.domain.commands import RegisterKamer
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers
from mienskip_intake.settings import Settings
from mienskip_shared.contracts import parse
from mienskip_shared.messaging import Subscription, declare
from mienskip_shared.runtime import start_workers

pytestmark = pytest.mark.slow
SUBMISSIONS = 200
WATCH = Subscription("outboxcheck", "intake", "request.submitted")




def _unpublished(engine) -> int:
    with engine.connect() as db:
        return db.execute(select(func.count()).where(tables.outbox.c.published_at.is_(None))).scalar()


def test_submissions_survive_a_broker_outage(postgres_url, rabbit_url, tmp_path):
    real = urlparse(rabbit_url)
    proxy = TcpProxy(real.hostname, real.port)
    proxied_url = rabbit_url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")
    with Connection(rabbit_url) as conn:
        declare(conn.default_channel, [WATCH])
    proxy.cut()  # the broker is away from the start
    service = build(Settings.from_env({}, database_url=postgres_url, broker_url=proxied_url,
                                      rate_limit="10000 per second", data_dir=tmp_path))
    kamer_id = handlers.register_kamer(RegisterKamer(name="Dorpskamer De Skalm", lat=53.2623, lon=5.7577),
                                       uow(service.engine))
    _, token = issue_token(service.engine, Role.KAMER, kamer_id=kamer_id)
    stop = threading.Event()
    relay = [w for w in service.workers if w.name.endswith("relay")]
    threads = start_workers(relay, stop)
    client = service.wsgi_app.test_client()
    start = datetime.now(UTC) + timedelta(days=2)
    body = {"resident": {"name": "Baukje Kingma"}, "location": {"lat": 53.26, "lon": 5.75}, "category": "shopping",
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}}
    try:
        ids = []
        for _ in range(SUBMISSIONS):
            r = client.post("/v1/requests", json=body, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 202
            ids.append(r.get_json()["id"])
        assert client.get("/readyz").status_code == 503  # honest: the broker is away
        proxy.restore()
        received: list[str] = []
        with Connection(rabbit_url) as conn:
            queue = Queue(WATCH.queue_name, no_declare=True)(conn.default_channel)

            def drained():
                while (msg := queue.get(no_ack=False)) is not None:
                    received.append(parse(msg.body).data["request_id"])
                    msg.ack()
                return len(received) >= SUBMISSIONS

            assert eventually(drained, timeout=90)
            assert eventually(lambda: _unpublished(service.engine) == 0)  # nothing more can come
            drained()
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        proxy.close()
        service.dispose()
    assert sorted(received) == sorted(ids)  # every one, none twice
