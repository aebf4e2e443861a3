"""On PostgreSQL a service's engine plans for a working set in memory (random_page_cost 1.1),
so a batch looked up by key uses the key's index even in a table that grew faster than
autovacuum analysed it, unless the operator set planner options. And a row appended to a
history, an audit log or an outbox costs one statement; a lookup by many keys is one
statement text, whatever their number."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import MetaData, event, select, text

from mienskip_shared.clock import utcnow
from mienskip_shared.db import append, make_engine, one_of
from mienskip_shared.messaging import outbox_table

KEYS = [f"k-{n:05d}" for n in range(0, 3_000, 100)]  # 30 keys: one batch of events


def _setting(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SHOW random_page_cost")).scalar_one()


def _plan(engine) -> str:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS lookups (key varchar(100) PRIMARY KEY, body varchar(200))"))
        conn.execute(text("INSERT INTO lookups SELECT 'k-' || lpad(n::text, 5, '0'), repeat('x', 150) "
                          "FROM generate_series(0, 2999) n ON CONFLICT DO NOTHING"))  # not analysed yet
        rows = conn.execute(text("EXPLAIN SELECT * FROM lookups WHERE key = ANY(:keys)"), {"keys": KEYS})
        return "\n".join(r[0] for r in rows)


def test_a_batch_by_key_is_read_through_the_index(postgres_url, monkeypatch):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    engine = make_engine(postgres_url)
    try:
        assert _setting(engine) == "1.1"
        plan = _plan(engine)
        assert "Index" in plan and "Seq Scan" not in plan
    finally:
        engine.dispose()


def test_with_the_servers_default_the_same_batch_reads_the_whole_table(postgres_url, monkeypatch):
    monkeypatch.setenv("PGOPTIONS", "-c random_page_cost=4")  # what the planner did before
    engine = make_engine(postgres_url)
    try:
        assert _setting(engine) == "4"
        assert "Seq Scan" in _plan(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("where", ["url", "environment"])
def test_the_operators_planner_options_win(postgres_url, monkeypatch, where):
    monkeypatch.delenv("PGOPTIONS", raising=False)
    if where == "url":
        url = postgres_url + ("&" if "?" in postgres_url else "?") + "options=-c%20random_page_cost%3D2"
    else:
        url = postgres_url
        monkeypatch.setenv("PGOPTIONS", "-c random_page_cost=2")
    engine = make_engine(url)
    try:
        assert _setting(engine) == "2"
    finally:
        engine.dispose()


@pytest.fixture
def probe(database_url):
    """An engine on the test's own database with an outbox table, and the statements it runs
    from ``probe.listen()`` on."""
    metadata = MetaData()
    outbox = outbox_table(metadata, "probe")
    engine = make_engine(database_url)
    statements: list[str] = []

    def listen():
        event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_a: statements.append(statement))

    try:
        metadata.create_all(engine)
        yield SimpleNamespace(engine=engine, outbox=outbox, statements=statements, listen=listen)
    finally:
        engine.dispose()


def _rows(keys):
    return [{"event_id": key, "event_type": "thing.made", "correlation_id": "c", "body": "{}", "created_at": utcnow()}
            for key in keys]


def test_an_appended_row_is_one_statement_and_numbered_by_the_database(probe):
    """A history, audit or outbox row: one INSERT, no RETURNING, no ``SELECT nextval`` first
    (on PostgreSQL and on SQLite)."""
    probe.listen()
    with probe.engine.begin() as conn:
        for row in _rows(["e1", "e2"]):
            conn.execute(append(probe.outbox), row)
    statements = probe.statements
    assert [s.split()[0] for s in statements if s != "BEGIN IMMEDIATE"] == ["INSERT", "INSERT"]  # SQLite's BEGIN
    assert not any("RETURNING" in s or "nextval" in s for s in statements)
    with probe.engine.connect() as conn:
        assert conn.execute(select(probe.outbox.c.event_id).order_by(probe.outbox.c.id)).scalars().all() == ["e1", "e2"]


def test_a_lookup_by_many_keys_is_one_text_whatever_their_number(probe):
    """``one_of``: the same rows as ``IN`` on both databases; on PostgreSQL one statement
    text for 1, 3 or 30 keys (one bound array), which psycopg keeps prepared."""
    outbox = probe.outbox
    with probe.engine.begin() as conn:
        conn.execute(append(outbox), _rows(KEYS))
    probe.listen()
    with probe.engine.connect() as conn:
        def found(keys):
            query = select(outbox.c.event_id).where(one_of(conn, outbox.c.event_id, keys))
            return sorted(conn.execute(query).scalars())

        assert found(KEYS[:1]) == KEYS[:1]
        assert found([*KEYS[:3], "k-unknown"]) == KEYS[:3]
        assert found(iter(KEYS)) == KEYS
        assert found([]) == []
        postgresql = conn.dialect.name == "postgresql"
    lookups = [s for s in probe.statements if s.startswith("SELECT")]
    assert len(set(lookups)) == (1 if postgresql else 4)
    assert ("ANY" in lookups[0]) == postgresql
