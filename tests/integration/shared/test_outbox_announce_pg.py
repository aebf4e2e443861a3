"""On PostgreSQL each service's outbox announces its inserts itself (a statement trigger
its migration makes): a relay in another process hears of a committed insert, of nothing
rolled back, and a downgrade takes the trigger away again."""

from __future__ import annotations

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert

from mienskip_cli.migrations import SERVICES, migrate_every_service
from mienskip_intake.adapters.tables import outbox as intake_outbox
from mienskip_matching.adapters.tables import outbox as matching_outbox
from mienskip_notify.adapters.tables import outbox as notify_outbox
from mienskip_shared.clock import utcnow
from mienskip_shared.db import make_engine
from mienskip_shared.messaging.outbox import outbox_channel

OUTBOXES = {"intake": intake_outbox, "matching": matching_outbox, "notify": notify_outbox}


def _row(n: int) -> dict:
    return {"event_id": f"00000000-0000-4000-8000-{n:012d}", "event_type": "thing.made", "correlation_id": f"c{n}",
            "body": "{}", "created_at": utcnow()}


def _heard(listener: psycopg.Connection) -> list[str]:
    return [note.channel for note in listener.notifies(timeout=1.0, stop_after=1)]


@pytest.fixture
def listening(postgres_url):
    migrate_every_service(lambda _service: postgres_url, check=False)
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as listener:
        for table in OUTBOXES.values():
            listener.execute(f"LISTEN {outbox_channel(table)}")
        yield postgres_url, listener


@pytest.mark.parametrize("service", sorted(OUTBOXES))
def test_a_committed_insert_is_announced_and_a_rolled_back_one_is_not(listening, service):
    url, listener = listening
    table = OUTBOXES[service]
    engine = make_engine(url)
    try:
        with engine.connect() as conn:  # rolled back: nothing said
            with conn.begin() as tx:
                conn.execute(insert(table), [_row(1), _row(2)])
                tx.rollback()
        assert _heard(listener) == []
        with engine.begin() as conn:  # two statements, three rows: one notification at commit
            conn.execute(insert(table), [_row(3), _row(4)])
            conn.execute(insert(table), _row(5))
        assert _heard(listener) == [outbox_channel(table)]
        assert _heard(listener) == []
    finally:
        engine.dispose()


def test_a_downgrade_removes_the_trigger(listening):
    url, listener = listening
    for name, bootstrap in SERVICES:
        config = Config()
        config.set_main_option("script_location", str(bootstrap.MIGRATIONS))
        config.attributes["version_table"] = bootstrap.VERSION_TABLE
        engine = make_engine(url)
        try:
            with engine.begin() as conn:
                config.attributes["connection"] = conn
                command.downgrade(config, "-1")
            with engine.begin() as conn:
                conn.execute(insert(OUTBOXES[name]), _row(9))
            assert _heard(listener) == [], name
        finally:
            engine.dispose()
