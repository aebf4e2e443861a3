"""notify's handlers against a real database (SQLite and PostgreSQL) and the mailbox channel."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from structlog.testing import capture_logs

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import MessageComposer
from mienskip_notify.adapters.senders import SendFailed
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import MIGRATIONS, VERSION_TABLE
from mienskip_notify.domain.notifications import notification_key
from mienskip_notify.domain.planner import notifications_for
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.planning import KamerNotKnownYet
from mienskip_notify.service_layer.ports import Ports
from mienskip_notify.service_layer.sending import notify_batch
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.db import make_engine

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def event(event_type, data, *, occurred_at=T0, **kwargs):
    """What the consumer hands a handler: built by the producer, parsed from JSON."""
    envelope = new_event(event_type, data, correlation_id="corr-1", kamer_id=data.get("kamer_id"),
                         occurred_at=occurred_at, **kwargs)
    return parse(envelope.to_json())


def kamer_registered(*, language="fy", email=None, name="Dorpskamer Grou ❤️", occurred_at=T0):
    return event("kamer.registered", {
        "kamer_id": "grou", "name": name, "region": "leeuwarden", "location": {"lat": 53.094, "lon": 5.834},
        "email": email, "webhook_url": None, "language": language,
    }, occurred_at=occurred_at)


def review_requested():
    """intake's ask: a proposal its policy does not approve waits for the kamer's review."""
    return event("assignment.review_requested", {
        "assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "distance_km": 1.23,
        "explanation": {"distance_km": 1.2, "skills_matched": ["pets"],
                        "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3},
                                      "rule": None}},
    })


def request_unmatched():
    return event("request.unmatched", {
        "request_id": "rq-2", "kamer_id": "grou", "region": "leeuwarden",
        "reasons": {"distance": 2, "overlap": 1}, "considered": 3,
    })


def notify(envelope, engine, senders):
    notify_batch([envelope], NotifyUnitOfWork(engine),
                 Ports(MessageComposer("mienskip@localhost"), senders, public_url="http://127.0.0.1:8000"))


def count(engine, table):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def only_row(engine, table):
    with engine.connect() as conn:
        (row,) = conn.execute(select(table)).all()
    return row


def mailbox_files(mailbox):
    return sorted(mailbox.root.rglob("*.eml"))


def test_the_migration_creates_exactly_the_tables_the_code_uses(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "version_table": VERSION_TABLE,
            # other services may share the database; their tables are not ours to compare
            "include_name": lambda name, kind, _parent: kind != "table" or name.startswith("notify_"),
        })
        differences = compare_metadata(context, tables.metadata)
    assert differences == []


def _migrate(engine, revision, *, down=False):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["version_table"] = VERSION_TABLE
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)


def test_held_reviews_go_by_migration_and_a_review_still_held_is_named_not_dropped_silently(empty_database_url):
    engine = make_engine(empty_database_url)
    try:
        _migrate(engine, "0004")
        with engine.begin() as conn:
            for event_id, assignment_id, status in (("e1", "as-1", "held"), ("e2", "as-2", "released"),
                                                    ("e3", "as-3", "withdrawn"), ("e4", "as-4", "held")):
                conn.execute(text(
                    "INSERT INTO notify_held_reviews (event_id, assignment_id, request_id, kamer_id, body, due_at,"
                    " status, attempts) VALUES (:e, :a, 'rq', 'grou', '{}', :due, :status, 0)"),
                    {"e": event_id, "a": assignment_id, "due": T0, "status": status})
        with capture_logs() as logs:
            _migrate(engine, "head")
        assert "notify_held_reviews" not in inspect(engine).get_table_names()
        assert [(entry["event"], entry["log_level"], entry["kamer_id"], entry["assignment_ids"]) for entry in logs] == [
            ("migration.held_review_not_sent", "warning", "grou", ["as-1", "as-4"])]

        _migrate(engine, "0004", down=True)  # the previous release finds its table again, empty
        held = inspect(engine)
        assert {index["name"] for index in held.get_indexes("notify_held_reviews")} == {
            "ix_notify_held_reviews_due", "ix_notify_held_reviews_assignment_id", "ix_notify_held_reviews_request_id"}
        assert [column["name"] for column in held.get_columns("notify_held_reviews")] == [
            "event_id", "assignment_id", "request_id", "kamer_id", "body", "due_at", "status", "attempts", "last_error"]
        with capture_logs() as logs:
            _migrate(engine, "head")
        assert logs == [] and "notify_held_reviews" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_review_request_reaches_the_kamers_mailbox_once_and_is_announced(engine, mailbox):
    record_kamer(kamer_registered(), NotifyUnitOfWork(engine))
    review = review_requested()
    notify(review, engine, {"mailbox": mailbox})

    (path,) = mailbox_files(mailbox)
    key = notification_key(review.event_id, "mailbox:grou", "mailbox")
    assert path == mailbox.root / "grou" / f"{key}.eml"
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["Subject"] == "In foarstel stiet klear foar beoardieling – helpfraach rq-1"
    assert message["Message-ID"] == f"<{key}@mienskip>"
    text = message.get_body(("plain",)).get_content()
    assert "Dorpskamer Grou ❤️" in text and "1,2 km fan de helpfreger" in text and "kin: húsdieren" in text
    assert "folgjende kandidaat (2,5 km): 1,3 km fierder" in text
    assert "http://127.0.0.1:8000/review" in text
    assert not list(path.parent.glob(".*.tmp"))

    row = only_row(engine, tables.notifications)
    assert (row.key, row.status, row.attempts, row.channel, row.language) == (key, "sent", 1, "mailbox", "fy")
    assert (row.source_event_type, row.request_id, row.kamer_id, row.recipient_kind) == (
        "assignment.review_requested", "rq-1", "grou", "kamer")
    assert row.sent_at is not None and row.last_error is None

    out = only_row(engine, tables.outbox)
    sent = parse(out.body)
    assert (out.event_type, out.published_at) == ("notification.sent", None)
    assert sent.kamer_id == "grou" and sent.correlation_id == "corr-1"
    (delivery,) = sent.data["deliveries"]
    assert delivery["notification_id"] == key and delivery["source_event_id"] == review.event_id
    assert delivery["correlation_id"] == "corr-1"
    assert (delivery["channel"], delivery["template"], delivery["language"]) == (
        "mailbox", "assignment_proposed", "fy")
    assert count(engine, tables.inbox) == 2


def test_the_same_event_twice_is_one_file_one_row_one_announcement(engine, mailbox):
    registered = kamer_registered()
    record_kamer(registered, NotifyUnitOfWork(engine))
    record_kamer(registered, NotifyUnitOfWork(engine))
    review = review_requested()
    notify(review, engine, {"mailbox": mailbox})
    notify(review, engine, {"mailbox": mailbox})

    assert len(mailbox_files(mailbox)) == 1
    assert count(engine, tables.kamers) == 1
    assert count(engine, tables.notifications) == 1
    assert count(engine, tables.outbox) == 1
    assert count(engine, tables.inbox) == 2


def test_an_unmatched_request_tells_the_kamer_with_the_reasons(engine, mailbox):
    record_kamer(kamer_registered(language="de"), NotifyUnitOfWork(engine))  # no German templates: Dutch
    unmatched = request_unmatched()
    notify(unmatched, engine, {"mailbox": mailbox})

    key = notification_key(unmatched.event_id, "mailbox:grou", "mailbox")
    message = message_from_bytes((mailbox.root / "grou" / f"{key}.eml").read_bytes(), policy=default)
    assert message["Subject"] == "Geen vrijwilliger gevonden – hulpvraag rq-2"
    text = message.get_body(("plain",)).get_content()
    assert "3 vrijwilligers hebben de vaardigheid; 2 te ver weg, 1 geen tijd" in text and "- te ver weg: 2" in text
    with engine.connect() as conn:
        rows = conn.execute(select(tables.notifications).order_by(tables.notifications.c.id)).all()
    assert [(r.template, r.language, r.status) for r in rows] == [
        ("request_unmatched", "nl", "sent"), ("please_call", "nl", "sent")]  # the resident is not known here


def test_a_message_for_an_unknown_kamer_is_retried_not_dropped(engine, mailbox):
    review = review_requested()
    with pytest.raises(KamerNotKnownYet):
        notify(review, engine, {"mailbox": mailbox})
    assert count(engine, tables.inbox) == 0 and count(engine, tables.notifications) == 0

    record_kamer(kamer_registered(), NotifyUnitOfWork(engine))  # arrives while the proposal waits to be retried
    notify(review, engine, {"mailbox": mailbox})
    assert len(mailbox_files(mailbox)) == 1


def test_an_older_kamer_event_does_not_undo_a_newer_one(engine):
    record_kamer(kamer_registered(language="en", occurred_at=T0 + timedelta(hours=1)), NotifyUnitOfWork(engine))
    record_kamer(kamer_registered(language="fy", occurred_at=T0), NotifyUnitOfWork(engine))
    with NotifyUnitOfWork(engine) as uow:
        assert uow.contacts.kamer("grou").language == "en"
    record_kamer(kamer_registered(language="nl", occurred_at=T0 + timedelta(hours=2)), NotifyUnitOfWork(engine))
    with NotifyUnitOfWork(engine) as uow:
        assert uow.contacts.kamer("grou").language == "nl"


class FailsFirst:
    """The mailbox, except that the first write fails (a full disk, say)."""

    def __init__(self, mailbox):
        self.mailbox, self.failed = mailbox, False

    def send(self, notification, message):
        if not self.failed:
            self.failed = True
            raise SendFailed("OSError: No space left on device")
        self.mailbox.send(notification, message)


def test_a_failed_send_is_recorded_raised_and_sent_on_redelivery(engine, mailbox):
    record_kamer(kamer_registered(), NotifyUnitOfWork(engine))
    review = review_requested()
    senders = {"mailbox": FailsFirst(mailbox)}
    with pytest.raises(SendFailed):
        notify(review, engine, senders)

    row = only_row(engine, tables.notifications)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "OSError: No space left on device")
    assert count(engine, tables.outbox) == 0 and mailbox_files(mailbox) == []

    notify(review, engine, senders)
    row = only_row(engine, tables.notifications)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert count(engine, tables.outbox) == 1 and len(mailbox_files(mailbox)) == 1


def test_a_notification_left_pending_by_a_crash_is_sent_on_redelivery(engine, mailbox):
    record_kamer(kamer_registered(), NotifyUnitOfWork(engine))
    review = review_requested()
    with NotifyUnitOfWork(engine) as uow:  # transaction 1 committed, then the process died
        kamer = uow.contacts.kamer("grou")
        (planned,) = notifications_for(review.event_type, review.event_id, review.occurred_at,
                                       review.data, kamer, email_enabled=False, public_url="http://x")
        uow.notifications.add(planned)
        uow.commit()

    notify(review, engine, {"mailbox": mailbox})
    assert only_row(engine, tables.notifications).status == "sent"
    assert count(engine, tables.outbox) == 1 and len(mailbox_files(mailbox)) == 1


def test_the_outbox_row_carries_a_valid_envelope(engine, mailbox):
    record_kamer(kamer_registered(), NotifyUnitOfWork(engine))
    notify(review_requested(), engine, {"mailbox": mailbox})
    body = json.loads(only_row(engine, tables.outbox).body)
    assert set(body) >= {"event_id", "event_type", "schema_version", "occurred_at", "correlation_id", "data"}
    assert "recipient" not in body["data"]  # addresses stay in notify


def test_a_kamer_id_that_is_no_directory_name_is_refused(engine, mailbox):
    record_kamer(event("kamer.registered", {
        "kamer_id": "../etc", "name": "x", "region": "r", "location": {"lat": 0, "lon": 0}}),
        NotifyUnitOfWork(engine))
    bad = event("request.unmatched", {"request_id": "rq-3", "kamer_id": "../etc", "region": "r",
                                      "reasons": {}, "summary": "none"})
    with pytest.raises(SendFailed):
        notify(bad, engine, {"mailbox": mailbox})
    assert not any(mailbox.root.parent.rglob("*.eml"))
