"""The only place intake builds clients: engine, broker connections, app, workers."""

from __future__ import annotations

import threading
from pathlib import Path

from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.messaging import ConfirmedPublisher, OutboxRelay
from mienskip_shared.runtime import Service, readiness

from .adapters import tables
from .entrypoints.app import create_app
from .entrypoints.consumer import build_consumer
from .service_layer import handlers
from .settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def build(settings: Settings, *, migrate: bool = True, with_workers: bool = True) -> Service:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine, MIGRATIONS, "alembic_version_intake")
    wakeup = threading.Event()

    def check_ready() -> dict[str, str]:
        return readiness(engine, settings.broker_connection)

    workers = []
    if with_workers:
        relay = OutboxRelay(engine, tables.outbox, ConfirmedPublisher(settings.broker_connection),
                            wakeup=wakeup, after_publish=handlers.mark_queued)
        workers = [relay, build_consumer(settings, engine)]
    app = create_app(engine, check_ready, relay_wakeup=wakeup)
    return Service("intake", engine, workers, check_ready, wsgi_app=app)
