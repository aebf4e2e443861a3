"""The only place notify builds clients: engine, senders, consumer, relay."""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path

from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.messaging import ConfirmedPublisher, OutboxRelay
from mienskip_shared.runtime import Service, readiness

from .adapters import tables
from .adapters.composer import MessageComposer
from .adapters.senders import MailboxSender, SmtpSender
from .domain.notifications import EMAIL, MAILBOX
from .entrypoints.consumer import build_consumer
from .service_layer import handlers
from .settings import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_notify"


def build(settings: Settings, *, migrate: bool = True) -> Service:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine, MIGRATIONS, VERSION_TABLE)

    senders = {MAILBOX: MailboxSender(Path(settings.data_dir) / "mailbox")}
    if settings.smtp_url:
        senders[EMAIL] = SmtpSender(settings.smtp_url)
    composer = MessageComposer(settings.mail_from)
    relay_wakeup = threading.Event()  # a fresh outbox row need not wait for the relay's idle poll

    notify = partial(
        handlers.notify_kamer,
        engine=engine,
        composer=composer,
        senders=senders,
        public_url=settings.public_url,
        on_outbox_written=relay_wakeup.set,
    )
    consumer = build_consumer(
        settings,
        {
            "kamer.registered": partial(handlers.record_kamer, engine=engine),
            "assignment.proposed": notify,
            "request.unmatched": notify,
        },
        closeables=senders.values(),
    )
    relay = OutboxRelay(engine, tables.outbox, ConfirmedPublisher(settings.broker_connection), wakeup=relay_wakeup)
    return Service(
        name="notify",
        engine=engine,
        workers=[consumer, relay],
        check_ready=lambda: readiness(engine, settings.broker_connection),
    )
