"""The only place notify builds clients: engine, senders, consumer, relay."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from functools import partial
from pathlib import Path

import structlog
from sqlalchemy import Engine, func, select

from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.files import private_directory
from mienskip_shared.links import secret_key
from mienskip_shared.messaging import ConfirmedPublisher, OutboxRelay
from mienskip_shared.runtime import Service, readiness
from mienskip_shared.workers import Wakeup

from .adapters import tables
from .adapters.composer import MessageComposer
from .adapters.senders import MailboxSender, SmsSender, SmtpSender, WebhookSender
from .adapters.unit_of_work import NotifyUnitOfWork
from .domain.channels import EMAIL, MAILBOX, SMS, WEBHOOK
from .entrypoints.consumer import build_consumer
from .entrypoints.schedule_worker import build_schedule_worker
from .service_layer.ports import Ports
from .settings import Settings
from .webhooks import kamer_secret

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version_notify"
WEBHOOK_KEY_FILE = "notify-webhook-master.key"
CONNECT_TIMEOUT_S = 3.05
RELAY_WAKEUP_INTERVAL_S = 0.05


class WebhookKeyMissing(RuntimeError):
    """Kamers have webhooks, but there is no master key to sign them with."""


def build(settings: Settings, *, migrate: bool = True) -> Service:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
    master_key = webhook_master_key(settings)
    if master_key is None:
        require_no_webhooks(engine)

    timeout = (CONNECT_TIMEOUT_S, settings.http_timeout_s)
    senders = {
        MAILBOX: MailboxSender(Path(settings.data_dir) / "mailbox"),
        WEBHOOK: WebhookSender(partial(_secret_or_none, master_key), timeout=timeout),
    }
    if settings.smtp_url:
        senders[EMAIL] = SmtpSender(settings.smtp_url)
    if settings.sms_url:
        senders[SMS] = SmsSender(settings.sms_url, settings.sms_key, timeout=timeout)
    relay_wakeup = Wakeup(RELAY_WAKEUP_INTERVAL_S)  # a fresh outbox row need not wait for the relay's idle poll
    uow = partial(NotifyUnitOfWork, engine, relay_wakeup)  # each commit that writes outbox rows wakes the relay
    ports = Ports(
        composer=MessageComposer(settings.mail_from),
        senders=senders,
        public_url=settings.public_url,
        link_secret=secret_key(settings.secret_key, Path(settings.data_dir)),
        sms_limit_per_kamer_month=settings.sms_limit_per_kamer_month,
        kamer_digest_every=timedelta(minutes=settings.kamer_digest_minutes),
    )
    consumer = build_consumer(settings, uow, ports, senders[MAILBOX], closeables=senders.values())
    relay = OutboxRelay(engine, tables.outbox, ConfirmedPublisher(settings.broker_connection), wakeup=relay_wakeup)
    return Service(
        name="notify",
        engine=engine,
        workers=[consumer, relay, build_schedule_worker(settings, uow, ports)],
        check_ready=lambda: readiness(engine, settings.broker_connection),
    )


# -- webhook signing keys -------------------------------------------------------------

def webhook_master_key(settings: Settings) -> str | None:
    """``MIENSKIP_WEBHOOK_SECRET``; else, for the embedded system (SQLite), a key made
    once and kept in ``data_dir`` beside the database; else None.

    Not generated for a server database: replicas on other machines, or a container
    without a volume, would each sign with a key of their own.
    """
    if settings.webhook_secret:
        return settings.webhook_secret
    if settings.database_url.startswith("sqlite"):
        return _stored_key(Path(settings.data_dir) / WEBHOOK_KEY_FILE)
    return None


def _secret_or_none(master_key: str | None, kamer_id: str) -> str | None:
    return None if master_key is None else kamer_secret(master_key, kamer_id)


def _stored_key(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    private_directory(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_hex(32) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(temporary, path)  # fails if another process made one first: then theirs counts
        log.warning("webhook.master_key_generated", path=str(path),
                    hint="set MIENSKIP_WEBHOOK_SECRET when notify runs on more than one machine")
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


def require_no_webhooks(engine: Engine) -> None:
    """Without a master key, refuse to start when a kamer (or care provider) already has a
    webhook; one that registers one later gets notification.failed naming the missing setting."""
    with engine.connect() as conn:
        with_hooks = sum(conn.execute(
            select(func.count()).select_from(table).where(table.c.webhook_url.is_not(None))
        ).scalar_one() for table in (tables.kamers, tables.providers))
    if with_hooks:
        raise WebhookKeyMissing(
            f"{with_hooks} kamer(s) or provider(s) have a webhook URL but MIENSKIP_WEBHOOK_SECRET is empty: "
            "set it (a long random string, the same for every notify process) to sign webhooks")
    log.warning("webhook.no_master_key", hint="set MIENSKIP_WEBHOOK_SECRET before kamers register webhooks")
