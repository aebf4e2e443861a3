"""What notify does with each event it consumes: plain functions of (event, database, senders).

Sending cannot share a transaction with the database, so a notification goes through
two transactions around the send:

1. claim the inbox row and record the notification as ``pending`` (its key is
   deterministic and UNIQUE, so a redelivered event finds the row instead of adding one);
2. send it;
3. mark it ``sent`` and put ``notification.sent`` in the outbox, in one transaction.

A failed send counts the attempt (``attempts``, ``last_error``; still ``pending``); the
event's other notifications are still tried, then the failure is raised, so the shared
consumer retries the event with back-off. A redelivered event sends every notification
that is still ``pending``. After the last retry the consumer calls :func:`give_up`: the
event's pending notifications become ``failed`` for good and each is announced by
``notification.failed`` in the same transaction; redeliveries leave them alone. An SMS
over the kamer's monthly budget fails for good at once, without a retry.

A crash between step 2 and step 3 sends the same message twice; the e-mail carries the
same Message-ID (``<key@mienskip>``) and the webhook the same ``id`` both times, so the
receiving side shows it once, and the mailbox file is simply written again.

Errors stored, logged and announced are exception types, codes and statuses: never an
address, phone number, URL or message body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import Engine

from mienskip_shared.contracts import Envelope, new_event
from mienskip_shared.messaging import add_to_outbox, claim_inbox

from ..adapters import repository, tables
from ..adapters.senders import SendFailed
from ..domain.notifications import (
    EMAIL,
    SMS,
    SMS_LIMIT_REACHED,
    KamerContact,
    Notification,
    notifications_for,
    sms_month,
)

log = structlog.get_logger(__name__)

DEFAULT_SMS_LIMIT_PER_KAMER_MONTH = 200


class Sender(Protocol):
    def send(self, notification: Notification, content: Any) -> None: ...


class Composer(Protocol):
    def compose(self, notification: Notification) -> Any: ...  # what the channel's sender takes


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
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH,
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
            email_enabled=EMAIL in senders,
            public_url=public_url,
        )
        claim_inbox(tx, tables.inbox, envelope)  # False on redelivery: the keys below decide
        due = [n for n in planned if repository.plan_notification(tx, n) == "pending"]
    try:
        deliver_all(due, engine, composer, senders, envelope, sms_limit_per_kamer_month=sms_limit_per_kamer_month)
    finally:
        if due:
            on_outbox_written()


def deliver_all(
    notifications: list[Notification],
    engine: Engine,
    composer: Composer,
    senders: Mapping[str, Sender],
    cause: Envelope,
    *,
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH,
) -> None:
    """Try every one, so a kamer's webhook being down does not hold back its e-mail;
    then raise the first failure, for the consumer to retry the event."""
    first_failure: Exception | None = None
    for notification in notifications:
        try:
            deliver(notification, engine, composer, senders, cause,
                    sms_limit_per_kamer_month=sms_limit_per_kamer_month)
        except Exception as exc:  # noqa: BLE001 -- recorded by deliver, raised below
            first_failure = first_failure or exc
    if first_failure is not None:
        raise first_failure


def deliver(
    notification: Notification,
    engine: Engine,
    composer: Composer,
    senders: Mapping[str, Sender],
    cause: Envelope,
    *,
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH,
) -> None:
    """Send one pending notification, then record it as sent and announce it."""
    ids = _ids(notification)
    if notification.channel == SMS and not sms_budget_allows(notification, engine, cause,
                                                             sms_limit_per_kamer_month):
        log.warning("notification.failed", reason=SMS_LIMIT_REACHED, **ids)
        return
    try:
        sender = senders.get(notification.channel)
        if sender is None:
            raise SendFailed(f"no {notification.channel} channel configured")
        sender.send(notification, composer.compose(notification))
    except Exception as exc:
        # Not swallowed: recorded for the operator, then raised for retry / dead-letter.
        reason = stored_reason(exc)
        with engine.begin() as tx:
            attempts = repository.record_failure(tx, notification.key, reason)
        log.warning("notification.send_failed", attempts=attempts, reason=reason, **ids)
        raise
    with engine.begin() as tx:
        if repository.mark_sent(tx, notification.key):
            add_to_outbox(tx, tables.outbox, sent_event(notification, cause))
    log.info("notification.sent", **ids)


def sms_budget_allows(notification: Notification, engine: Engine, cause: Envelope, limit: int,
                      now: datetime | None = None) -> bool:
    """Take a place in the kamer's SMS budget for this month; if it is spent, the
    notification fails for good (no retry can help this month) and is announced."""
    month = sms_month(now or datetime.now(UTC))
    with engine.begin() as tx:
        if repository.reserve_sms(tx, notification.key, notification.kamer_id, month, limit):
            return True
        for row in repository.fail_for_good(tx, key=notification.key, error=SMS_LIMIT_REACHED):
            add_to_outbox(tx, tables.outbox, failed_event(row, cause))
    return False


def give_up(envelope: Envelope, exc: Exception, engine: Engine,
            on_outbox_written: Callable[[], None] = lambda: None) -> None:
    """The consumer's last retry of ``envelope`` failed: what is still pending fails for
    good, and each such notification is announced by notification.failed, in one transaction."""
    with engine.begin() as tx:
        failed = repository.fail_for_good(tx, source_event_id=envelope.event_id, error=stored_reason(exc))
        for row in failed:
            add_to_outbox(tx, tables.outbox, failed_event(row, envelope))
    for row in failed:
        log.error("notification.failed", attempts=row.attempts, reason=row.last_error, **_ids(row))
    if failed:
        on_outbox_written()
    else:  # e.g. the kamer never registered: no notification exists; the dead letter keeps the event
        log.error("notification.gave_up_before_planning", reason=stored_reason(exc))


def stored_reason(exc: BaseException) -> str:
    """SendFailed texts are written to be safe; of anything else only the type is kept."""
    return str(exc) if isinstance(exc, SendFailed) else type(exc).__name__


def _ids(notification) -> dict[str, Any]:
    return {"notification_key": notification.key, "kamer_id": notification.kamer_id,
            "request_id": notification.request_id, "channel": notification.channel}


def _delivery(notification) -> dict[str, Any]:
    """notification.sent's and .failed's common fields, from a Notification or a table row."""
    return {
        "notification_id": notification.key,
        "source_event_id": notification.source_event_id,
        "source_event_type": notification.source_event_type,
        "request_id": notification.request_id,
        "recipient_kind": notification.recipient_kind,
        "channel": notification.channel,
        "template": notification.template,
        "language": notification.language,
    }


def sent_event(notification: Notification, cause: Envelope) -> Envelope:
    return new_event("notification.sent", _delivery(notification),
                     correlation_id=cause.correlation_id, kamer_id=notification.kamer_id)


def failed_event(row, cause: Envelope) -> Envelope:
    """notification.failed for a row that just became 'failed'; ``error`` is its safe reason."""
    return new_event(
        "notification.failed",
        {**_delivery(row), "error": row.last_error or "unknown", "attempts": row.attempts},
        correlation_id=cause.correlation_id,
        kamer_id=row.kamer_id,
    )
