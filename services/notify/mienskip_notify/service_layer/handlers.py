"""What notify does with each event it consumes: plain functions of (event, database, senders).

Sending cannot share a transaction with the database, so a notification goes through
two transactions around the send:

1. claim the inbox row and record the notification as ``pending`` (its key is
   deterministic and UNIQUE, so a redelivered event finds the row instead of adding one);
2. send it;
3. mark it ``sent`` and put ``notification.sent`` in the outbox, in one transaction.

A failed send records the attempt (status ``failed``, ``attempts``, ``last_error``) and
raises, so the shared consumer retries with back-off and finally dead-letters. A
redelivered event sends every notification that is not ``sent`` yet. So a crash
between step 2 and step 3 sends the same message twice; the e-mail carries the same
Message-ID (``<key@mienskip>``) both times so mail clients show it once, and the
mailbox file is simply written again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from email.message import EmailMessage
from typing import Protocol

import structlog
from sqlalchemy import Engine

from mienskip_shared.contracts import Envelope, new_event
from mienskip_shared.messaging import add_to_outbox, claim_inbox

from ..adapters import repository, tables
from ..adapters.senders import SendFailed
from ..domain.notifications import KamerContact, Notification, notifications_for

log = structlog.get_logger(__name__)


class Sender(Protocol):
    def send(self, notification: Notification, message: EmailMessage) -> None: ...


class Composer(Protocol):
    def compose(self, notification: Notification) -> EmailMessage: ...


class KamerNotKnownYet(Exception):
    """A message for a kamer whose kamer.registered has not arrived (events from two
    sources travel separate queues). Retried: it normally arrives within the back-off."""


def record_kamer(envelope: Envelope, engine: Engine) -> None:
    """kamer.registered: keep the kamer's contact points (a newer event wins)."""
    data = envelope.data
    kamer = KamerContact(
        kamer_id=data["kamer_id"],
        name=data["name"],
        email=data.get("email"),
        webhook_url=data.get("webhook_url"),
        language=data.get("language") or "nl",
    )
    with engine.begin() as tx:
        if not claim_inbox(tx, tables.inbox, envelope):
            log.info("kamer.already_recorded", kamer_id=kamer.kamer_id)
            return
        stored = repository.save_kamer(tx, kamer, envelope.occurred_at)
    log.info("kamer.recorded" if stored else "kamer.outdated_event_ignored", kamer_id=kamer.kamer_id)


def notify_kamer(
    envelope: Envelope,
    engine: Engine,
    composer: Composer,
    senders: Mapping[str, Sender],
    *,
    public_url: str,
    on_outbox_written: Callable[[], None] = lambda: None,
) -> None:
    """assignment.proposed, request.unmatched: tell the kamer (see the module docstring)."""
    kamer_id = envelope.data["kamer_id"]
    with engine.begin() as tx:
        kamer = repository.kamer_contact(tx, kamer_id)
        if kamer is None:
            raise KamerNotKnownYet(kamer_id)
        planned = notifications_for(
            envelope.event_type,
            envelope.event_id,
            envelope.occurred_at,
            envelope.data,
            kamer,
            email_enabled="email" in senders,
            public_url=public_url,
        )
        claim_inbox(tx, tables.inbox, envelope)  # False on redelivery: the keys below decide
        due = [n for n in planned if repository.plan_notification(tx, n) != "sent"]
    for notification in due:
        deliver(notification, engine, composer, senders, envelope)
        on_outbox_written()


def deliver(
    notification: Notification,
    engine: Engine,
    composer: Composer,
    senders: Mapping[str, Sender],
    cause: Envelope,
) -> None:
    """Send one pending notification, then record it as sent and announce it."""
    ids = {"notification_key": notification.key, "kamer_id": notification.kamer_id,
           "request_id": notification.request_id, "channel": notification.channel}
    try:
        senders[notification.channel].send(notification, composer.compose(notification))
    except Exception as exc:
        # Not swallowed: recorded for the operator, then raised for retry / dead-letter.
        reason = str(exc) if isinstance(exc, SendFailed) else type(exc).__name__
        with engine.begin() as tx:
            attempts = repository.record_failure(tx, notification.key, reason)
        log.warning("notification.send_failed", attempts=attempts, reason=reason, **ids)
        raise
    with engine.begin() as tx:
        if repository.mark_sent(tx, notification.key):
            add_to_outbox(tx, tables.outbox, sent_event(notification, cause))
    log.info("notification.sent", **ids)


def sent_event(notification: Notification, cause: Envelope) -> Envelope:
    return new_event(
        "notification.sent",
        {
            "notification_id": notification.key,
            "source_event_id": notification.source_event_id,
            "source_event_type": notification.source_event_type,
            "request_id": notification.request_id,
            "recipient_kind": notification.recipient_kind,
            "channel": notification.channel,
            "template": notification.template,
            "language": notification.language,
        },
        correlation_id=cause.correlation_id,
        kamer_id=notification.kamer_id,
    )
