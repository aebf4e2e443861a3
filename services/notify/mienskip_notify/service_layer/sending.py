"""Sending what was planned, recording what happened, and giving up.

Sending cannot share a transaction with the database, so the events of one batch (one
event when the consumer hands them over singly) go through two transactions around
the sends:

1. one transaction plans every message as a ``pending`` notification (``planning``);
2. every pending notification is sent, over the senders' kept connections; an e-mail's
   next message is composed while the SMTP server takes in the one before, and read its
   answer only then (``submit``), so composing costs no time waiting on the server;
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
from dataclasses import dataclass, field

import structlog

from mienskip_shared.contracts import Envelope

from ..domain.channels import EMAIL, SMS
from ..domain.notifications import Notification, SendFailed
from .handover import kamer_calls_instead
from .outcomes import failed_event, log_ids, sent_events, stored_reason
from .planning import plan_batch
from .ports import Answer, Ports, UnitOfWork

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
    first failure afterwards (for the consumer to retry the events).

    A sender with ``submit`` (SMTP) returns before the server answered the content; the
    next message is composed meanwhile, and the answer is read before anything else is
    sent. A message counts as sent only on that answer, so outcomes stay in order and a
    channel found down stops the rest of the batch as before."""
    outcomes = _Outcomes()
    waiting: tuple[Notification, Envelope, Answer] | None = None  # handed over, not answered yet
    for notification, cause in due:
        sender, content, error = None, None, None
        if notification.channel not in outcomes.down:
            try:
                sender = ports.senders.get(notification.channel)
                if sender is None:
                    raise SendFailed(f"no {notification.channel} channel configured")
                content = ports.composer.compose(notification)  # while the server answers `waiting`
            except Exception as exc:  # noqa: BLE001 -- recorded below, raised at the end
                error = exc
        outcomes.settle(waiting)
        waiting = None
        if notification.channel in outcomes.down:
            outcomes.fail(notification, outcomes.down[notification.channel])
            continue
        if error is not None:
            outcomes.fail(notification, error)
            continue
        try:
            submit = getattr(sender, "submit", None)  # a Submitter
            if submit is not None:
                waiting = (notification, cause, submit(notification, content))
                continue
            sender.send(notification, content)
        except Exception as exc:  # noqa: BLE001 -- recorded below, raised at the end
            outcomes.fail(notification, exc)
        else:
            outcomes.sent.append((notification, cause))
    outcomes.settle(waiting)
    if not due:
        return
    sent, failed = outcomes.sent, outcomes.failed
    with uow:
        moved = uow.notifications.mark_all_sent([n.key for n, _ in sent])
        uow.publish_all(sent_events([(n, cause) for n, cause in sent if n.key in moved]))
        attempts = {n.key: uow.notifications.record_failure(n.key, stored_reason(exc)) for n, exc in failed}
        uow.commit()
    for notification, _ in sent:
        log.info("notification.sent", **log_ids(notification))
    for notification, exc in failed:
        log.warning("notification.send_failed", attempts=attempts[notification.key], reason=stored_reason(exc),
                    **log_ids(notification))
    if failed:
        raise failed[0][1]


@dataclass
class _Outcomes:
    """What one delivery round sent and failed, in the order of ``due``, and which shared
    channels went down in it."""

    sent: list[tuple[Notification, Envelope]] = field(default_factory=list)
    failed: list[tuple[Notification, Exception]] = field(default_factory=list)
    down: dict[str, Exception] = field(default_factory=dict)

    def fail(self, notification: Notification, exc: Exception) -> None:
        self.failed.append((notification, exc))
        if notification.channel in SHARED_CHANNELS and isinstance(exc, SendFailed):
            self.down[notification.channel] = exc

    def settle(self, waiting: tuple[Notification, Envelope, Answer] | None) -> None:
        """Read the server's answer for a submitted message, and record it."""
        if waiting is None:
            return
        notification, cause, answer = waiting
        try:
            answer.result()
        except Exception as exc:  # noqa: BLE001 -- recorded, raised at the end of deliver
            self.fail(notification, exc)
        else:
            self.sent.append((notification, cause))


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
