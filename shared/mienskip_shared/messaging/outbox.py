"""Transactional outbox and inbox tables, and the relay that drains the outbox.

A service writes its state change and the event announcing it in one database
transaction (:func:`add_to_outbox`). The relay publishes unsent rows with confirms and
marks them sent. A crash between publish and mark re-sends the event; consumers dedupe
on ``event_id`` with their inbox (:func:`claim_inbox`).

A commit in the relay's own process wakes it directly (:class:`~mienskip_shared.workers.Wakeup`).
On PostgreSQL a commit in any process wakes it too: a statement trigger on the outbox
(:func:`announce_trigger_ddl`) sends ``NOTIFY <table>_written`` in the transaction that
inserts rows, delivered only if it commits, and the relay LISTENs on a connection of its
own (:class:`OutboxListener`). The idle poll stays as the fallback, so a lost
notification costs at most ``idle_wait``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import psycopg
import structlog
from prometheus_client import Counter, Gauge
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.schema import DDL

from ..clock import utcnow
from ..contracts import Envelope
from ..db import UtcDateTime, append, one_of
from ..workers import STOP_CHECK_S, PollingWorker, Wakeup
from .publisher import ConfirmedPublisher, OutgoingMessage
from .topology import EVENTS_EXCHANGE

log = structlog.get_logger(__name__)

RELAYED = Counter("mienskip_outbox_relayed_total", "Outbox events published and confirmed", ["table"])
RELAY_FAILURES = Counter("mienskip_outbox_relay_failures_total", "Relay rounds that failed", ["table"])
BACKLOG = Gauge("mienskip_outbox_backlog", "Unsent outbox rows seen by the last relay round", ["table"])


def outbox_table(metadata: MetaData, prefix: str) -> Table:
    """The outbox; made by ``metadata.create_all`` on PostgreSQL it announces its inserts
    (:func:`announce_trigger_ddl`), as the services' migrations make it."""
    table = Table(
        f"{prefix}_outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("correlation_id", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Index(f"ix_{prefix}_outbox_unpublished", "published_at", "id"),
    )
    for statement in announce_trigger_ddl(table.name):
        event.listen(table, "after_create", DDL(statement).execute_if(dialect="postgresql"))
    return table


def inbox_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
    )


def add_to_outbox(conn: DbConnection, table: Table, envelope: Envelope) -> None:
    add_all_to_outbox(conn, table, [envelope])


def add_all_to_outbox(conn: DbConnection, table: Table, envelopes: Sequence[Envelope]) -> None:
    """Outbox rows for these events, in one statement, in the caller's transaction."""
    if envelopes:
        created = utcnow()
        conn.execute(append(table), [{
            "event_id": e.event_id, "event_type": e.event_type, "correlation_id": e.correlation_id,
            "body": e.to_json(), "created_at": created} for e in envelopes])


def outbox_channel(table: Table | str) -> str:
    """The PostgreSQL notification channel on which commits that wrote to ``table`` say so."""
    return f"{table if isinstance(table, str) else table.name}_written"


def announce_trigger_ddl(table_name: str) -> tuple[str, ...]:
    """PostgreSQL statements that make every INSERT into the outbox ``table_name`` send
    ``NOTIFY <table_name>_written`` (:func:`outbox_channel`) in its own transaction: relays
    in other processes hear of new rows once it commits, and of nothing if it rolls back.

    In the database, not in each writer's commit: a writing transaction makes no round trip
    for it, and no writer can forget it. One trigger per statement; PostgreSQL delivers
    one notification per channel and transaction however many statements sent it.
    Idempotent: a migration and ``metadata.create_all`` may both run it."""
    function = _announce_function(table_name)
    return (
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{outbox_channel(table_name)}', ''); RETURN NULL; END $$",
        f"DROP TRIGGER IF EXISTS {function} ON {table_name}",
        f"CREATE TRIGGER {function} AFTER INSERT ON {table_name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
    )


def _announce_function(table_name: str) -> str:
    """The name of the outbox's trigger and of the function it runs."""
    return f"{table_name}_announce"


def set_announce_trigger(conn: DbConnection, table_name: str, *, present: bool = True) -> None:
    """A migration's step: on PostgreSQL, the trigger of :func:`announce_trigger_ddl` made
    (or, ``present=False``, removed); nothing on SQLite, whose relay runs in the writer's
    process and is woken directly."""
    if conn.dialect.name != "postgresql":
        return
    function = _announce_function(table_name)
    statements = announce_trigger_ddl(table_name) if present else (
        f"DROP TRIGGER IF EXISTS {function} ON {table_name}", f"DROP FUNCTION IF EXISTS {function}()")
    for statement in statements:
        conn.exec_driver_sql(statement)


def claim_inbox(conn: DbConnection, table: Table, envelope: Envelope) -> bool:
    """Record that this event is being handled; False if it was handled before.

    Call inside the handler's transaction: if two consumers race on the same event,
    the primary key lets exactly one commit, and the other retries and sees it done.
    """
    return bool(claim_inbox_all(conn, table, [envelope]))


def claim_inbox_all(conn: DbConnection, table: Table, envelopes: Sequence[Envelope]) -> set[str]:
    """:func:`claim_inbox` for a batch of distinct events: the ids this call claimed
    (the others were handled before)."""
    ids = [e.event_id for e in envelopes]
    if not ids:
        return set()
    seen = set(conn.execute(select(table.c.event_id).where(one_of(conn, table.c.event_id, ids))).scalars())
    new = [e for e in envelopes if e.event_id not in seen]
    if new:
        now = utcnow()
        conn.execute(insert(table), [{"event_id": e.event_id, "event_type": e.event_type, "processed_at": now}
                                     for e in new])
    return {e.event_id for e in new}


AfterPublish = Callable[[DbConnection, Sequence], None]


class OutboxRelay:
    """Publishes unsent outbox rows in id order, with confirms, then marks them sent."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        publisher: ConfirmedPublisher,
        *,
        batch_size: int = 200,
        idle_wait: float = 0.2,
        max_backoff: float = 5.0,
        wakeup: Wakeup | None = None,
        after_publish: AfterPublish | None = None,
        linger_s: float = 0.01,
        busy_linger_s: float = 0.05,
        busy_rows: int = 8,
    ):
        """``linger_s``: woken by a commit, wait this long for the next ones. A round then
        carries several events for one select, one publish-and-confirm and one update, at the
        cost of this much latency per hop. ``busy_linger_s`` instead when the last round
        published ``busy_rows`` or more: under load fuller rounds halve the relay's CPU per
        event (and cut the broker's), while a lone commit still waits only ``linger_s``."""
        self.name = f"{table.name}-relay"
        self._engine = engine
        self._table = table
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._max_backoff = max_backoff
        self._wakeup = wakeup or Wakeup()
        self._after_publish = after_publish
        self._linger_s = linger_s
        self._busy_linger_s = busy_linger_s
        self._busy_rows = busy_rows
        self._last_round = 0  # rows the last round published

    def relay_once(self) -> int:
        """One round: publish up to a batch. Returns how many were published."""
        t = self._table
        pending = (
            select(t.c.id, t.c.event_id, t.c.event_type, t.c.correlation_id, t.c.body)
            .where(t.c.published_at.is_(None))
            .order_by(t.c.id)
            .limit(self._batch_size)
            .with_for_update(skip_locked=True)
        )
        with self._engine.begin() as tx:  # a crash after publish re-sends; consumers dedupe
            rows = tx.execute(pending).all()
            BACKLOG.labels(t.name).set(len(rows))
            self._last_round = len(rows)
            if not rows:
                return 0
            self._publisher.publish_batch(
                OutgoingMessage(
                    exchange=EVENTS_EXCHANGE,
                    routing_key=row.event_type,
                    body=row.body.encode("utf-8"),
                    message_id=row.event_id,
                    correlation_id=row.correlation_id,
                )
                for row in rows
            )
            tx.execute(update(t).where(one_of(tx, t.c.id, [r.id for r in rows])).values(published_at=utcnow()))
            if self._after_publish is not None:
                self._after_publish(tx, rows)
        RELAYED.labels(t.name).inc(len(rows))
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        if self._engine.dialect.name == "postgresql":
            listener = OutboxListener(self._engine, self._table, self._wakeup)
            threading.Thread(target=listener.run, args=(stop,), name=f"{self.name}-listener", daemon=True).start()
        PollingWorker(self.name, self._round, idle_s=self._idle_wait, first_backoff_s=self._idle_wait,
                      max_backoff_s=self._max_backoff,
                      wakeup=self._wakeup, on_stop=self._publisher.close, linger_s=self.linger).run(stop)

    def linger(self) -> float:
        """How long to wait after a wake-up before the next round (see ``__init__``)."""
        return self._busy_linger_s if self._last_round >= self._busy_rows else self._linger_s

    def _round(self) -> bool:
        try:
            return self.relay_once() >= self._batch_size  # a full batch: more may be waiting
        except Exception:
            RELAY_FAILURES.labels(self._table.name).inc()
            raise


class OutboxListener:
    """Wakes a relay when another process commits outbox rows (PostgreSQL LISTEN/NOTIFY).

    An optimisation only: while it is down (database restart, lost connection) the relay
    still polls every ``idle_wait``, so it retries quietly with a back-off.
    """

    def __init__(self, engine: Engine, table: Table, wakeup: Wakeup, *, max_backoff_s: float = 5.0):
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._channel = outbox_channel(table)
        self._wakeup = wakeup
        self._max_backoff_s = max_backoff_s

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                    backoff = 0.5
                    self._wakeup.set()  # rows may have been written while nobody listened
                    while not stop.is_set():
                        for _ in conn.notifies(timeout=STOP_CHECK_S):
                            self._wakeup.set()
            except psycopg.Error as exc:
                log.info("outbox.listener_reconnecting", channel=self._channel, error=type(exc).__name__,
                         retry_in_s=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
