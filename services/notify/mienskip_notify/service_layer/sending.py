"""Sending what was planned, recording what happened, and giving up.

Sending cannot share a transaction with the database, so the events of one batch (one
event when the consumer hands them over singly) go through two transactions around
the sends:

1. one transaction plans every message as a ``pending`` notification (``planning``);
2. every pending notification is sent, over the senders' kept connections;
3. one transaction marks the delivered ones ``sent`` and puts a ``notification.sent``
   per notification in the outbox.

The consumer acks the batch only after that. A failed send counts the attempt
(``attempts``, ``last_error``; still ``pending``), the others are still tried, then
the failure is raised: the consumer hands each event of the batch to the single-event
handler, which sends what is still pending and, failing again, is retried with
back-off. After the last retry the consumer calls :func:`give_up`: what is still
pending fails for good and is announced by ``notification.failed``, and for a volunteer
or resident the kamer is asked to call them (``handover``). An SMS over the kamer's
monthly budget fails for good at once, and the kamer is asked to call too (``sms_budget``).

A crash between step 2 and step 3 sends the same message twice; the e-mail carries the
same Message-ID (``<key@mienskip>``) and the webhook the same ``id`` both times, so the
receiving side shows it once, and the mailbox file is simply written again.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from mienskip_shared.contracts import Envelope

from ..domain.channels import EMAIL, SMS
from ..domain.notifications import Notification, SendFailed
from .handover import kamer_calls_instead
from .outcomes import failed_event, log_ids, sent_event, stored_reason
from .planning import plan_batch
from .ports import Ports, UnitOfWork

log = structlog.get_logger(__name__)

# Channels that are one server for everyone: once down within a batch, the rest of
# the batch does not queue behind its timeouts (each event is retried on its own).
SHARED_CHANNELS = (EMAIL, SMS)


def notify_batch(envelopes: Sequence[Envelope], uow: UnitOfWork, ports: Ports) -> None:
    """A batch of message and contact events: plan in one transaction, send, mark in one."""
    with uow:
        due = plan_batch(uow, envelopes, ports)
        uow.commit()
    deliver(due, uow, ports)


def deliver(due: Sequence[tuple[Notification, Envelope]], uow: UnitOfWork, ports: Ports) -> None:
    """Steps 2 and 3: send each, then record all outcomes in one transaction; raise the
    first failure afterwards (for the consumer to retry the events)."""
    sent: list[tuple[Notification, Envelope]] = []
    failed: list[tuple[Notification, Exception]] = []
    down: dict[str, Exception] = {}
    for notification, cause in due:
        if notification.channel in down:
            failed.append((notification, down[notification.channel]))
            continue
        try:
            sender = ports.senders.get(notification.channel)
            if sender is None:
                raise SendFailed(f"no {notification.channel} channel configured")
            sender.send(notification, ports.composer.compose(notification))
        except Exception as exc:  # noqa: BLE001 -- recorded below, raised at the end
            failed.append((notification, exc))
            if notification.channel in SHARED_CHANNELS and isinstance(exc, SendFailed):
                down[notification.channel] = exc
        else:
            sent.append((notification, cause))
    if not due:
        return
    with uow:
        moved = uow.notifications.mark_all_sent([n.key for n, _ in sent])
        uow.publish_all([sent_event(n, cause) for n, cause in sent if n.key in moved])
        attempts = {n.key: uow.notifications.record_failure(n.key, stored_reason(exc)) for n, exc in failed}
        uow.commit()
    for notification, _ in sent:
        log.info("notification.sent", **log_ids(notification))
    for notification, exc in failed:
        log.warning("notification.send_failed", attempts=attempts[notification.key], reason=stored_reason(exc),
                    **log_ids(notification))
    if failed:
        raise failed[0][1]


def give_up(envelope: Envelope, exc: Exception, uow: UnitOfWork, ports: Ports) -> None:
    """The consumer's last retry of ``envelope`` failed: what is still pending fails for
    good, and each such notification is announced by notification.failed, in one
    transaction. A volunteer or resident among them is handed to the kamer ("please
    call"), tried once now; if that fails too it is announced as failed."""
    calls = _fail_pending(envelope, exc, uow, ports)
    if calls:
        try:
            deliver([(n, envelope) for n in calls], uow, ports)
        except Exception as call_failed:  # noqa: BLE001 -- announced as failed, not swallowed
            _fail_pending(envelope, call_failed, uow, None)


def _fail_pending(envelope: Envelope, exc: Exception, uow: UnitOfWork, ports: Ports | None) -> list[Notification]:
    """Fail and announce what ``envelope`` still owes; with ``ports``, plan the kamer's calls."""
    with uow:
        failed = uow.notifications.fail_for_good(source_event_id=envelope.event_id, error=stored_reason(exc))
        uow.publish_all([failed_event(row, envelope) for row in failed])
        calls = kamer_calls_instead(uow, envelope, failed, ports) if ports is not None else []
        uow.commit()
    for row in failed:
        log.error("notification.failed", attempts=row.attempts, reason=row.last_error, **log_ids(row))
    if not failed:  # e.g. the kamer never registered: no notification exists; the dead letter keeps the event
        log.error("notification.gave_up_before_planning", reason=stored_reason(exc))
    return calls
