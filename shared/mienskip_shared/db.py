"""Database engines and migrations, the same for every service.

Each service owns its tables (a table-name prefix) and its own Alembic history
(its own version table), so three services can share one SQLite file or one
PostgreSQL database without reading each other's tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Table,
    any_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator

from .files import private_file


class UtcDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, on PostgreSQL and on SQLite.

    SQLite keeps no offset, so without this a time read back would be naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give times with an offset")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def upsert(conn: Connection, table: Table):
    """``INSERT`` with ``ON CONFLICT`` (``on_conflict_do_nothing`` / ``_do_update``) in the
    connection's own dialect: both databases have it, SQLAlchemy spells it per dialect."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def append(table: Table):
    """``INSERT`` of rows whose generated ids nobody reads back (a history, an audit log, an
    outbox): the database numbers them, in the one round trip of the insert. A plain
    single-row insert would ask for the new id, with RETURNING or, where that is off, with a
    ``SELECT nextval(...)`` of its own first."""
    return insert(table).inline()


def one_of(conn: Connection, column, values: Iterable):
    """``column`` is one of ``values``. On PostgreSQL ``= ANY(array)``: one bound array, so the
    statement's text is the same however many values come, and psycopg keeps it prepared
    (an ``IN`` list is written out, and parsed and planned by the server, anew for each
    length). SQLite has no arrays: ``IN``."""
    values = list(values)
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(values)


def contains_text(column, text: str):
    """``column`` holds ``text`` anywhere, ignoring case; ``%``, ``_`` and ``\\`` in
    ``text`` are taken literally (a search box, not a pattern)."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.lower(column).like(f"%{escaped}%", escape="\\")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1].split("?", 1)[0]
        if path and path != ":memory:":
            private_file(path)  # 0600 before SQLite opens it: its -wal and -shm take the same mode
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _serialise_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=_planner_options(url))


# Mienskip's lookups fetch a batch of rows by key (``WHERE key IN (30 ids)``). While a table
# grows faster than autovacuum analyses it (a new deployment, a burst of events), PostgreSQL's
# default random_page_cost of 4 (a spinning disk) has the planner read a table of thousands
# of rows whole for each batch rather than use its index. Our working set lives in memory,
# where the PostgreSQL manual advises a value near seq_page_cost; 1.1 is the usual choice for
# SSDs. An operator's own planner options (``options`` in the URL, or PGOPTIONS) are kept.
PLANNER_OPTIONS = "-c random_page_cost=1.1"


def _planner_options(url: str) -> dict[str, str]:
    if "options" in make_url(url).query or os.environ.get("PGOPTIONS"):
        return {}
    return {"options": PLANNER_OPTIONS}


def _serialise_sqlite_writers(engine: Engine) -> None:
    """BEGIN IMMEDIATE for every transaction.

    SQLite's default deferred transactions fail with "database is locked" when two
    threads both read and then try to write; taking the write lock up front makes
    them wait their turn (busy timeout) instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade(engine: Engine, script_location: Path, version_table: str) -> None:
    """Bring one service's tables to the newest migration."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["version_table"] = version_table
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas start together: one migrates, the others wait and find it done.
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": version_table})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def at_head(engine: Engine, script_location: Path, version_table: str) -> bool:
    """Whether one service's tables are at its newest migration: nothing left to upgrade."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": version_table})
        return set(context.get_current_heads()) == heads


def autogenerate(engine: Engine, script_location: Path, version_table: str, message: str) -> None:
    """Draft the next migration by comparing the tables with a database at head."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["version_table"] = version_table
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        command.revision(config, message=message, autogenerate=True)


def run_migrations_online(context, target_metadata=None) -> None:
    """The body of every service's ``migrations/env.py``.

    ``target_metadata`` lets ``alembic revision --autogenerate`` (see
    :func:`autogenerate`) draft a migration from the service's tables.
    """
    config = context.config
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=config.attributes["version_table"],
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
