"""The shared unit of work: state, outbox and inbox commit together, and a commit that
announced something wakes the relay and logs each event it wrote (every service alike)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from structlog.testing import capture_logs

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope
from mienskip_shared.db import make_engine
from mienskip_shared.messaging import inbox_table, outbox_table
from mienskip_shared.unit_of_work import SqlUnitOfWork
from mienskip_shared.workers import Wakeup

metadata = MetaData()
things = Table("uowtest_things", metadata, Column("id", String(36), primary_key=True))


class ThingsUnitOfWork(SqlUnitOfWork):
    outbox = outbox_table(metadata, "uowtest")
    inbox = inbox_table(metadata, "uowtest")


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _event():
    return Envelope(event_id="e1", event_type="thing.made", schema_version=1, occurred_at=utcnow(),
                    correlation_id="c1", kamer_id=None, data={"id": "t1"})


def test_commit_writes_all_and_wakes_the_relay(sqlite_url):
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    wakeup = Wakeup()
    with ThingsUnitOfWork(engine, wakeup) as uow:
        assert uow.claim(_event())
        uow.connection.execute(insert(things).values(id="t1"))
        uow.publish(_event())
        uow.commit()
    counts = [_count(engine, table) for table in (things, ThingsUnitOfWork.outbox, ThingsUnitOfWork.inbox)]
    assert counts == [1, 1, 1]
    assert wakeup.wait(0)


def test_leaving_without_commit_keeps_nothing_and_a_redelivery_is_seen(sqlite_url):
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    event = _event()
    wakeup = Wakeup()
    with ThingsUnitOfWork(engine, wakeup) as uow:
        uow.claim(event)
        uow.publish(event)
    assert _count(engine, ThingsUnitOfWork.outbox) == 0 and not wakeup.wait(0)
    with ThingsUnitOfWork(engine) as uow:
        assert uow.claim(event)
        uow.commit()
    with ThingsUnitOfWork(engine) as uow:
        assert not uow.claim(event)


def test_each_event_written_is_logged_after_the_commit_by_its_ids_only(sqlite_url):
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    with capture_logs() as logs, ThingsUnitOfWork(engine) as uow:
        uow.publish(_event())
        assert logs == []  # not before the commit: it may still roll back
        uow.commit()
    assert logs == [{"event": "outbox.event_written", "log_level": "info", "event_type": "thing.made",
                     "event_id": "e1", "correlation_id": "c1"}]  # no data: it may name a person


def test_a_rolled_back_event_is_not_logged(sqlite_url):
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    with capture_logs() as logs:
        with ThingsUnitOfWork(engine) as uow:
            uow.publish(_event())  # left without commit
        with ThingsUnitOfWork(engine) as uow:
            uow.publish(_event())
            uow.rollback()
    assert logs == [] and _count(engine, ThingsUnitOfWork.outbox) == 0


def test_a_commit_in_another_process_wakes_the_relay_through_postgresql(postgres_url):
    """Two engines stand for two processes (gunicorn's web worker, the relay's process): the
    relay's listener hears the commit's NOTIFY; a rolled-back transaction says nothing."""
    import threading

    from polling import eventually

    from mienskip_shared.messaging.outbox import OutboxListener

    writer, relay_side = make_engine(postgres_url), make_engine(postgres_url)
    metadata.create_all(writer)
    wakeup, stop = Wakeup(), threading.Event()
    listener = threading.Thread(target=OutboxListener(relay_side, ThingsUnitOfWork.outbox, wakeup).run, args=(stop,))
    listener.start()
    try:
        assert eventually(lambda: wakeup.wait(0.1), timeout=10)  # the first wake-up: listening now
        with ThingsUnitOfWork(writer) as uow:  # no wake-up of its own: only NOTIFY can tell
            uow.publish(_event())
        assert not wakeup.wait(0.5)  # rolled back: nothing announced
        with ThingsUnitOfWork(writer) as uow:
            uow.publish(_event())
            uow.commit()
        assert eventually(lambda: wakeup.wait(0.1), timeout=10)
    finally:
        stop.set()
        listener.join(timeout=10)
        writer.dispose()
        relay_side.dispose()
    assert not listener.is_alive()


def _thing_handler(thing_id: str, *, commit: bool = True):
    """A handler as the services write them: its own ``with`` block, claim, change, commit."""
    def handle(uow: ThingsUnitOfWork) -> None:
        event = Envelope(event_id=f"e-{thing_id}", event_type="thing.made", schema_version=1, occurred_at=utcnow(),
                         correlation_id=f"c-{thing_id}", kamer_id=None, data={"id": thing_id})
        with uow:
            if not uow.claim(event):
                return
            uow.connection.execute(insert(things).values(id=thing_id))
            uow.publish(event)
            if commit:
                uow.commit()
    return handle


def test_a_batch_commits_once_and_a_block_left_without_commit_undoes_only_itself(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    wakeup = Wakeup()
    uow = ThingsUnitOfWork(engine, wakeup)
    with capture_logs() as logs:
        with uow.batch():
            _thing_handler("a")(uow)
            _thing_handler("b", commit=False)(uow)  # gave up half-way: its rows and event go
            _thing_handler("c")(uow)
            _thing_handler("a")(uow)  # the same delivery twice in one batch: claimed already
            assert not wakeup.wait(0)  # nothing announced before the end
    with engine.connect() as conn:
        assert sorted(conn.execute(select(things.c.id)).scalars()) == ["a", "c"]
        assert sorted(conn.execute(select(ThingsUnitOfWork.inbox.c.event_id)).scalars()) == ["e-a", "e-c"]
    assert _count(engine, ThingsUnitOfWork.outbox) == 2
    assert wakeup.wait(0)
    assert [entry["event_id"] for entry in logs if entry["event"] == "outbox.event_written"] == ["e-a", "e-c"]
    with uow:  # the unit of work is an ordinary one again
        assert not uow.claim(Envelope(event_id="e-a", event_type="thing.made", schema_version=1,
                                      occurred_at=utcnow(), correlation_id="c", kamer_id=None, data={}))


def test_a_batch_that_raises_keeps_nothing(database_url):
    engine = make_engine(database_url)
    metadata.create_all(engine)
    wakeup = Wakeup()
    uow = ThingsUnitOfWork(engine, wakeup)
    try:
        with uow.batch():
            _thing_handler("a")(uow)
            raise RuntimeError("the next delivery's handler failed")
    except RuntimeError:
        pass
    assert [_count(engine, t) for t in (things, ThingsUnitOfWork.outbox, ThingsUnitOfWork.inbox)] == [0, 0, 0]
    assert not wakeup.wait(0)
