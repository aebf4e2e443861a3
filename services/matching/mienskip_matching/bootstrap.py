"""The only place that builds matching's clients: engine, consumer, relay."""

from __future__ import annotations

from pathlib import Path

from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.runtime import Service, readiness
from mienskip_shared.workers import Wakeup

from .entrypoints.consumer import build_consumer, build_relay
from .settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_matching"


def build(settings: Settings, *, migrate: bool = True) -> Service:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
    outbox_written = Wakeup()
    return Service(
        name="matching",
        engine=engine,
        workers=[build_consumer(engine, settings, outbox_written), build_relay(engine, settings, outbox_written)],
        check_ready=lambda: readiness(engine, settings.broker_connection),
    )
