"""The unit of work every service's handlers run in: one database transaction.

A service's state, the outbox rows announcing it and the inbox row of the message that
caused it commit together or not at all; leaving the ``with`` block without
:meth:`commit` rolls everything back. A commit that wrote outbox rows wakes the relay
(in this process directly, in others by PostgreSQL's NOTIFY), so no handler or view has to
remember to, and logs each event it wrote
(``outbox.event_written``, ids only): in every service the trace of a correlation id
goes from the change that caused an event to its publication.

Each service subclasses it and opens its repositories in :meth:`_open` (cosmicpython's
``AbstractUnitOfWork``/``SqlAlchemyUnitOfWork``, with our outbox and inbox added).

:meth:`SqlUnitOfWork.batch` runs several handlers' ``with`` blocks in one transaction, each
block a savepoint: a consumer handling a batch of deliveries commits once for all of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Self

import structlog
from sqlalchemy import Engine, Table
from sqlalchemy.engine import Connection

from .contracts import Envelope
from .messaging.outbox import add_all_to_outbox, claim_inbox_all
from .workers import Wakeup

log = structlog.get_logger(__name__)


class SqlUnitOfWork:
    outbox: Table  # set by each service's subclass
    inbox: Table

    def __init__(self, engine: Engine, wakeup: Wakeup | None = None):
        self._engine = engine
        self._wakeup = wakeup
        self._conn: Connection | None = None
        self._written: list[Envelope] = []
        self._batch_tx = None  # the outer transaction while in batch()
        self._written_before = 0  # what the batch had written when this block began

    @property
    def connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("use the unit of work in a with block")
        return self._conn

    def __enter__(self) -> Self:
        if self._batch_tx is not None:  # one block of a batch: a savepoint
            self._tx = self._conn.begin_nested()
            self._written_before = len(self._written)
            return self
        self._conn = self._engine.connect()
        self._tx = self._conn.begin()
        self._written = []
        self._open(self._conn)
        return self

    def __exit__(self, *exc_info) -> None:
        if self._batch_tx is not None:
            if self._tx.is_active:  # left without commit: undo this block only
                self._tx.rollback()
                del self._written[self._written_before:]
            return
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()
            self._conn = None

    @contextlib.contextmanager
    def batch(self) -> Iterator[Self]:
        """Handlers run inside this (each in its own ``with uow`` block, as always) share
        one transaction: a block's :meth:`commit` releases its savepoint, a block left
        without one rolls back to it, and everything commits once at the end, the outbox
        rows and inbox claims of every block together. If anything raises out of the
        batch, nothing of it is kept (a consumer then handles the deliveries one by one).
        What a batch buys: one commit, one WAL flush and one relay wake-up for many events."""
        with self:
            self._batch_tx = self._tx
            try:
                yield self
            finally:
                self._tx, self._batch_tx = self._batch_tx, None
            self.commit()

    def _open(self, conn: Connection) -> None:
        """Build this service's repositories on the transaction's connection."""

    def claim(self, envelope: Envelope) -> bool:
        """Record the incoming message in the inbox; False if it was handled before."""
        return bool(self.claim_all([envelope]))

    def claim_all(self, envelopes: Sequence[Envelope]) -> set[str]:
        """:meth:`claim` for a batch of distinct messages: the ids not handled before."""
        return claim_inbox_all(self.connection, self.inbox, envelopes)

    def publish(self, envelope: Envelope) -> None:
        """Announce an event once this transaction commits (outbox row)."""
        self.publish_all([envelope])

    def publish_all(self, envelopes: Sequence[Envelope]) -> None:
        add_all_to_outbox(self.connection, self.outbox, envelopes)
        self._written.extend(envelopes)

    def commit(self) -> None:
        if self._batch_tx is not None:
            self._tx.commit()  # RELEASE SAVEPOINT; the batch commits at its end
            return
        self._tx.commit()  # relays in other processes hear of outbox rows from its trigger (PostgreSQL)
        written, self._written = self._written, []
        if written and self._wakeup is not None:
            self._wakeup.set()
        for envelope in written:
            log.info("outbox.event_written", event_type=envelope.event_type, event_id=envelope.event_id,
                     correlation_id=envelope.correlation_id)

    def rollback(self) -> None:
        self._tx.rollback()
        if self._batch_tx is not None:
            del self._written[self._written_before:]
        else:
            self._written = []
