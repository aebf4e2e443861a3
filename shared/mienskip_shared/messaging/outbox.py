"""Transactional outbox and inbox tables, and the relay that drains the outbox.

A service writes its state change and the event announcing it in one database
transaction (:func:`add_to_outbox`). The relay publishes unsent rows with confirms and
marks them sent. A crash between publish and mark re-sends the event; consumers dedupe
on ``event_id`` with their inbox (:func:`claim_inbox`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter, Gauge
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
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.exc import OperationalError as DbOperationalError

from ..contracts import Envelope
from ..db import UtcDateTime
from .publisher import ConfirmedPublisher, OutgoingMessage, PublishFailed
from .topology import EVENTS_EXCHANGE

log = structlog.get_logger(__name__)

RELAYED = Counter("mienskip_outbox_relayed_total", "Outbox events published and confirmed", ["table"])
RELAY_FAILURES = Counter("mienskip_outbox_relay_failures_total", "Relay rounds that failed", ["table"])
BACKLOG = Gauge("mienskip_outbox_backlog", "Unsent outbox rows seen by the last relay round", ["table"])


def utcnow() -> datetime:
    return datetime.now(UTC)


def outbox_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
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


def inbox_table(metadata: MetaData, prefix: str) -> Table:
    return Table(
        f"{prefix}_inbox",
        metadata,
        Column("event_id", String(36), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
    )


def add_to_outbox(conn: DbConnection, table: Table, envelope: Envelope) -> None:
    conn.execute(
        insert(table).values(
            event_id=envelope.event_id,
            event_type=envelope.event_type,
            correlation_id=envelope.correlation_id,
            body=envelope.to_json(),
            created_at=utcnow(),
        )
    )


def claim_inbox(conn: DbConnection, table: Table, envelope: Envelope) -> bool:
    """Record that this event is being handled; False if it was handled before.

    Call inside the handler's transaction: if two consumers race on the same event,
    the primary key lets exactly one commit, and the other retries and sees it done.
    """
    seen = conn.execute(select(exists().where(table.c.event_id == envelope.event_id))).scalar()
    if seen:
        return False
    conn.execute(
        insert(table).values(
            event_id=envelope.event_id, event_type=envelope.event_type, processed_at=utcnow()
        )
    )
    return True


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
        wakeup: threading.Event | None = None,
        after_publish: AfterPublish | None = None,
    ):
        self.name = f"{table.name}-relay"
        self._engine = engine
        self._table = table
        self._publisher = publisher
        self._batch_size = batch_size
        self._idle_wait = idle_wait
        self._max_backoff = max_backoff
        self._wakeup = wakeup or threading.Event()
        self._after_publish = after_publish

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
            tx.execute(update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=utcnow()))
            if self._after_publish is not None:
                self._after_publish(tx, rows)
        RELAYED.labels(t.name).inc(len(rows))
        return len(rows)

    def run(self, stop: threading.Event) -> None:
        backoff = self._idle_wait
        while not stop.is_set():
            try:
                published = self.relay_once()
            except (PublishFailed, DbOperationalError) as exc:
                RELAY_FAILURES.labels(self._table.name).inc()
                log.warning("outbox.relay_failed", table=self._table.name, error=str(exc), retry_in=backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)
                continue
            backoff = self._idle_wait
            if published < self._batch_size:
                self._wakeup.wait(self._idle_wait)
                self._wakeup.clear()
        self._publisher.close()
