"""notify's integration fixtures: a migrated database, a mailbox, and a real HTTP
server on 127.0.0.1 standing in for a kamer's webhook endpoint or an SMS gateway."""

from __future__ import annotations

import pytest
from http_sink import HttpSink

from mienskip_notify.adapters.senders import MailboxSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import MIGRATIONS, VERSION_TABLE
from mienskip_shared.db import make_engine, upgrade


def _migrated(url):
    engine = make_engine(url)
    upgrade(engine, MIGRATIONS, VERSION_TABLE)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url):
    yield from _migrated(database_url)


@pytest.fixture
def pg_engine(postgres_url):
    """Always PostgreSQL: for what needs two writers at once."""
    yield from _migrated(postgres_url)


@pytest.fixture
def uow(engine):
    """notify's unit of work on ``engine``: one transaction per ``with``, reusable."""
    return NotifyUnitOfWork(engine)


@pytest.fixture
def mailbox(tmp_path):
    return MailboxSender(tmp_path / "mailbox")


@pytest.fixture
def http_sink():
    sink = HttpSink().start()
    yield sink
    sink.stop()
