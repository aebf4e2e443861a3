"""What notify does with each event it consumes: plain functions of (event, unit of work, ports).

Sending cannot share a transaction with the database, so the events of one batch (one
event when the consumer hands them over singly) go through two transactions around
the sends:

1. one transaction claims their inbox rows, stores the contacts among them, and plans
   every message as a ``pending`` notification (its key is deterministic and UNIQUE);
2. every pending notification is sent, over the senders' kept connections;
3. one transaction marks the delivered ones ``sent`` and puts a ``notification.sent``
   per notification in the outbox.

The consumer acks the batch only after that. A failed send counts the attempt
(``attempts``, ``last_error``; still ``pending``), the others are still tried, then
the failure is raised: the consumer hands each event of the batch to the single-event
handler, which sends what is still pending and, failing again, is retried with
back-off. A redelivered event plans again from what notify knows and sends only the
notifications of the first plan that are still pending; it never adds recipients. After
the last retry the consumer calls :func:`give_up`: what is still pending fails for good
and is announced by ``notification.failed``, and for a volunteer or resident the kamer is
asked to call them. An SMS over the kamer's monthly budget fails for good at once, and
the kamer is asked to call too.

A crash between step 2 and step 3 sends the same message twice; the e-mail carries the
same Message-ID (``<key@mienskip>``) and the webhook the same ``id`` both times, so the
receiving side shows it once, and the mailbox file is simply written again.

A cancellation travels another queue than the assignment events, so it may be handled
before an approval or acceptance that happened earlier. notify remembers cancelled
requests (``notify_tasks.cancelled_at``, no personal data); any later event about a
cancelled request then plans nothing (see :attr:`Known.request_cancelled`), and what an
earlier plan of it still owes fails for good (as ``REQUEST_CANCELLED`` unless an attempt
already stored its own reason). An
offer that went out (or was owed) before the cancellation was handled makes the
volunteer one the cancellation tells.

"Proposal ready for review" waits ``review_hold_s`` (see :func:`release_held_reviews`):
a kamer whose policy approves the category at once sends assignment.approved within
that time, which withdraws it.

Errors stored, logged and announced are exception types, codes and statuses: never an
address, phone number, URL or message body. Contacts are never logged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, Self

import structlog

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, new_event, parse
from mienskip_shared.links import sign_volunteer_link

from ..adapters.contacts import ContactRepository
from ..adapters.notifications import NotificationRepository
from ..adapters.review_holds import ReviewHoldRepository
from ..adapters.senders import SendFailed
from ..adapters.sms_budget import SmsBudgetRepository
from ..adapters.tasks import TaskRepository
from ..domain.notifications import (
    EMAIL,
    KAMER,
    MAILBOX,
    MESSAGE_EVENTS,
    PLEASE_CALL,
    RESIDENT,
    SMS,
    SMS_LIMIT_REACHED,
    TOLD_OF_TASK,
    VOLUNTEER,
    Channels,
    KamerContact,
    Known,
    Notification,
    ResidentContact,
    VolunteerContact,
    notifications_for,
    sms_month,
)

log = structlog.get_logger(__name__)

DEFAULT_SMS_LIMIT_PER_KAMER_MONTH = 200
CONTACT_EVENTS = ("contact.volunteer", "contact.resident")
# What the consumer may hand over in batches: everything that plans messages, and the
# contacts they need (stored first within a batch).
BATCHED_EVENTS = frozenset(MESSAGE_EVENTS) | frozenset(CONTACT_EVENTS)
RECIPIENT_CHANGED = "recipient changed before delivery"
REQUEST_CANCELLED = "request cancelled before delivery"
# A releaser that crashed holding due reviews lets them go after this long.
REVIEW_LEASE = timedelta(seconds=60)
# Channels that are one server for everyone: once down within a batch, the rest of
# the batch does not queue behind its timeouts (each event is retried on its own).
SHARED_CHANNELS = (EMAIL, SMS)


class Sender(Protocol):
    def send(self, notification: Notification, content: Any) -> None: ...


class Composer(Protocol):
    def compose(self, notification: Notification) -> Any: ...  # what the channel's sender takes


class UnitOfWork(Protocol):
    """One transaction (see ``adapters.unit_of_work``); a fake in memory does for tests."""

    contacts: ContactRepository
    tasks: TaskRepository
    notifications: NotificationRepository
    sms_budget: SmsBudgetRepository
    review_holds: ReviewHoldRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info) -> None: ...
    def claim(self, envelope: Envelope) -> bool: ...
    def claim_all(self, envelopes: Sequence[Envelope]) -> set[str]: ...
    def publish_all(self, envelopes: Sequence[Envelope]) -> None: ...
    def commit(self) -> None: ...


class KamerNotKnownYet(Exception):
    """A message for a kamer whose kamer.registered has not arrived (events from two
    sources travel separate queues). Retried: it normally arrives within the back-off."""


@dataclass(frozen=True)
class Ports:
    """What planning and delivering need besides the event and the database: built once by bootstrap."""

    composer: Composer
    senders: Mapping[str, Sender]
    public_url: str
    link_secret: str = field(default="", repr=False)  # signs volunteers' accept/decline links
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH
    review_hold_s: float = 0.0  # 0: "ready for review" goes out at once

    @property
    def channels(self) -> Channels:
        return Channels(email=EMAIL in self.senders, sms=SMS in self.senders)

    def sign_link(self, assignment_id: str, volunteer_id: str, expires_at: datetime) -> str:
        if not self.link_secret:
            raise ValueError("no secret to sign volunteer links with")
        return sign_volunteer_link(self.link_secret, assignment_id, volunteer_id, expires_at)

    def messages_for(self, envelope: Envelope, known: Known) -> list[Notification]:
        """Every message ``envelope`` causes, given what notify knows (the domain's plan)."""
        return notifications_for(
            envelope.event_type, envelope.event_id, envelope.occurred_at, envelope.data, known.kamer,
            email_enabled=self.channels.email, sms_enabled=self.channels.sms, public_url=self.public_url,
            known=known, sign_link=self.sign_link)


def record_kamer(envelope: Envelope, uow: UnitOfWork) -> None:
    """kamer.registered: keep the kamer's contact points (a newer event wins)."""
    data = envelope.data
    kamer = KamerContact(
        kamer_id=data["kamer_id"],
        name=data["name"],
        email=data.get("email"),
        webhook_url=data.get("webhook_url"),
        language=data.get("language") or "nl",
    )
    with uow:
        if not uow.claim(envelope):
            log.info("kamer.already_recorded", kamer_id=kamer.kamer_id)
            return
        stored = uow.contacts.save_kamer(kamer, envelope.occurred_at)
        uow.commit()
    log.info("kamer.recorded" if stored else "kamer.outdated_event_ignored", kamer_id=kamer.kamer_id)


def _record_contact(uow: UnitOfWork, envelope: Envelope) -> None:
    if not uow.claim(envelope):
        return
    data = envelope.data
    if envelope.event_type == "contact.volunteer":
        uow.contacts.save_volunteer(VolunteerContact(
            volunteer_id=data["volunteer_id"], kamer_id=data["kamer_id"], first_name=data["first_name"],
            email=data.get("email"), phone=data.get("phone"), language=data["language"]), envelope.occurred_at)
        log.info("contact.recorded", volunteer_id=data["volunteer_id"])  # ids only, never the contact
    else:
        uow.contacts.save_resident(ResidentContact(
            request_id=data["request_id"], kamer_id=data["kamer_id"], first_name=data.get("first_name"),
            phone=data.get("phone"), language=data["language"], address=data.get("address"),
            neighbourhood=data.get("neighbourhood")), envelope.occurred_at)
        log.info("contact.recorded", request_id=data["request_id"])


def erase_person(envelope: Envelope, uow: UnitOfWork, mailbox=None) -> None:
    """personal_data.erased: forget the person's contact, blank the addresses we wrote
    to, and remove the copies of their messages from the local mailbox. Ids, status and
    times stay: the history says a message went, not to where."""
    data = envelope.data
    kind, subject_id = data["subject_kind"], data["subject_id"]
    with uow:
        uow.claim(envelope)  # erasing twice is harmless: no early return
        uow.contacts.forget(kind, subject_id)
        rows = uow.notifications.blank_recipients(kind, subject_id)
        uow.commit()
    if mailbox is not None:
        for row in rows:
            if row.channel == MAILBOX:
                mailbox.remove(row.kamer_id, row.key)
    log.info("person.erased", subject_kind=kind, subject_id=subject_id, notifications=len(rows))


# -- messages ------------------------------------------------------------------------------

def notify_batch(envelopes: Sequence[Envelope], uow: UnitOfWork, ports: Ports, *, releasing: bool = False) -> None:
    """A batch of message and contact events: plan in one transaction, send, mark in one.
    ``releasing``: the events are held reviews now due, to be sent rather than held."""
    with uow:
        due = plan_batch(uow, envelopes, ports, releasing=releasing)
        uow.commit()
    deliver(due, uow, ports)


def plan_batch(uow: UnitOfWork, envelopes: Sequence[Envelope], ports: Ports, *,
               releasing: bool = False) -> list[tuple[Notification, Envelope]]:
    """Step 1 for a batch, inside the caller's transaction; returns the notifications due
    now, each with its cause."""
    for envelope in envelopes:  # contacts first: a message in the same batch may need them
        if envelope.event_type in CONTACT_EVENTS:
            _record_contact(uow, envelope)
    # the same event twice in one batch (a redelivery overtaking its ack) is planned once
    messages = list({e.event_id: e for e in envelopes if e.event_type not in CONTACT_EVENTS}.values())
    if not messages:
        return []
    kamers = uow.contacts.kamers({e.data["kamer_id"] for e in messages})
    missing = sorted({e.data["kamer_id"] for e in messages} - set(kamers))
    if missing:
        raise KamerNotKnownYet(", ".join(missing))
    volunteers = uow.contacts.volunteers({e.data["volunteer_id"] for e in messages if "volunteer_id" in e.data})
    request_ids = {e.data["request_id"] for e in messages}
    residents = uow.contacts.residents(request_ids)
    claimed = uow.claim_all(messages)
    if ports.review_hold_s > 0 and not releasing:
        held = [e for e in messages if e.event_type == "assignment.proposed"]
        for envelope in held:  # before _remember: an approval in this same batch withdraws it
            if envelope.event_id in claimed:
                uow.review_holds.hold(envelope, utcnow() + timedelta(seconds=ports.review_hold_s))
        messages = [e for e in messages if e.event_type != "assignment.proposed"]
    _remember(uow, messages)
    tasks = uow.tasks.get_all(request_ids)
    planned_before = uow.notifications.planned_for_events([e.event_id for e in messages])
    due: list[tuple[Notification, Envelope]] = []
    for envelope in messages:
        data = envelope.data
        told = ()
        if envelope.event_type == "request.cancelled":
            told = uow.tasks.told_volunteers(data["request_id"])
            volunteers.update(uow.contacts.volunteers(set(told) - set(volunteers)))
        known = Known(
            kamer=kamers[data["kamer_id"]],
            volunteers=volunteers,
            resident=residents.get(data["request_id"]),
            task=tasks.get(data["request_id"]),
            told=told,
        )
        if known.request_cancelled and envelope.event_type != "request.cancelled":
            log.info("assignment.request_already_cancelled", event_type=envelope.event_type,
                     request_id=data["request_id"], assignment_id=data.get("assignment_id"))
        due += _due_now(uow, envelope, known, planned_before[envelope.event_id], ports)
    return within_sms_budget(uow, due, ports)


def _remember(uow: UnitOfWork, messages: Sequence[Envelope]) -> None:
    """What events change besides messages: tasks' facts, cancelled requests (before any
    message of the batch is planned, so an approval in the same batch knows), held
    reviews withdrawn."""
    uow.tasks.lock({e.data["request_id"] for e in messages
                    if e.event_type in TOLD_OF_TASK or e.event_type == "request.cancelled"})
    uow.tasks.remember({
        e.data["request_id"]: (e.data.get("category"), e.data.get("window")) for e in messages
        if e.event_type.startswith("assignment.") and e.event_type != "assignment.proposed"})
    cancelled: dict[str, datetime] = {}
    for e in messages:
        if e.event_type == "request.cancelled":
            request_id = e.data["request_id"]
            cancelled[request_id] = min(cancelled.get(request_id, e.occurred_at), e.occurred_at)
    uow.tasks.remember_cancelled(cancelled)
    # approved (by policy or by a person) before the hold ran out: nothing left to review
    withdrawn = uow.review_holds.withdraw(
        assignment_ids=[e.data["assignment_id"] for e in messages if e.event_type == "assignment.approved"],
        request_ids=[e.data["request_id"] for e in messages if e.event_type == "request.cancelled"])
    if withdrawn:
        log.info("review.withdrawn", count=withdrawn)


def _due_now(uow: UnitOfWork, envelope: Envelope, known: Known, before: list, ports: Ports):
    """The first plan of an event is stored whole; a later plan (a redelivery, a retry)
    only picks out what the first plan still owes: it never adds recipients, so a
    contact that arrived or changed meanwhile cannot make anyone hear twice."""
    if not before:
        planned = ports.messages_for(envelope, known)
        uow.notifications.add_all(planned)
        return [(n, envelope) for n in planned]
    # people whose own channel failed for good were handed to the kamer: plan it so again
    unreachable = frozenset((r.subject_kind, r.subject_id) for r in before
                            if r.recipient_kind != KAMER and r.status == "failed")
    planned = {n.key: n for n in ports.messages_for(envelope, replace(known, unreachable=unreachable))}
    due = []
    for row in before:
        if row.status != "pending":
            continue
        if row.key in planned:
            due.append((planned[row.key], envelope))
            continue
        # its recipient changed or was erased since, or the request was cancelled since:
        # say so rather than leave it pending
        called_off = known.request_cancelled and envelope.event_type != "request.cancelled"
        reason = REQUEST_CANCELLED if called_off else RECIPIENT_CHANGED
        uow.publish_all([failed_event(failed, envelope)
                         for failed in uow.notifications.fail_for_good(key=row.key, error=reason)])
    return due


def within_sms_budget(uow: UnitOfWork, due: list, ports: Ports) -> list[tuple[Notification, Envelope]]:
    """Take each SMS's place in its kamer's monthly budget; one over it fails for good
    and the kamer is asked to call the person instead."""
    kept = []
    month = sms_month(utcnow())
    for notification, cause in due:
        if notification.channel != SMS or uow.sms_budget.reserve(
                notification.key, notification.kamer_id, month, ports.sms_limit_per_kamer_month):
            kept.append((notification, cause))
            continue
        log.warning("notification.failed", reason=SMS_LIMIT_REACHED, **_ids(notification))
        failed = uow.notifications.fail_for_good(key=notification.key, error=SMS_LIMIT_REACHED)
        uow.publish_all([failed_event(row, cause) for row in failed])
        kept += [(n, cause) for n in _kamer_calls_instead(uow, cause, failed, ports)]
    return kept


def _kamer_calls_instead(uow: UnitOfWork, cause: Envelope, failed_rows, ports: Ports) -> list[Notification]:
    """Plan "please call" messages to the kamer for the people among ``failed_rows``."""
    people = frozenset((r.subject_kind, r.subject_id) for r in failed_rows
                       if r.recipient_kind in (VOLUNTEER, RESIDENT) and r.subject_id)
    if not people or cause.event_type not in MESSAGE_EVENTS:
        return []
    data = cause.data
    kamer = uow.contacts.kamer(data["kamer_id"])
    if kamer is None:
        return []
    volunteer_ids = {pid for kind, pid in people if kind == VOLUNTEER} | (
        {data["volunteer_id"]} if "volunteer_id" in data else set())
    known = Known(
        kamer=kamer,
        volunteers=uow.contacts.volunteers(volunteer_ids),
        resident=uow.contacts.residents([data["request_id"]]).get(data["request_id"]),
        task=uow.tasks.get_all([data["request_id"]]).get(data["request_id"]),
        told=tuple(pid for kind, pid in people if kind == VOLUNTEER) if cause.event_type == "request.cancelled"
        else (),
        unreachable=people,
    )
    calls = [n for n in ports.messages_for(cause, known)
             if n.recipient_kind == KAMER and (n.subject_kind, n.subject_id) in people and n.template == PLEASE_CALL]
    return [n for n in calls if uow.notifications.add(n) == "pending"]


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
        log.info("notification.sent", **_ids(notification))
    for notification, exc in failed:
        log.warning("notification.send_failed", attempts=attempts[notification.key], reason=stored_reason(exc),
                    **_ids(notification))
    if failed:
        raise failed[0][1]


# -- "proposal ready for review", held back ---------------------------------------------------

def release_held_reviews(uow: UnitOfWork, notify: Callable[[list[Envelope]], None],
                         give_up: Callable[[Envelope, Exception], None], retry_delays_s: Sequence[float], *,
                         limit: int = 32, now: datetime | None = None) -> int:
    """Hand the review messages whose hold ran out without an approval to ``notify`` (the
    batch handler, sending rather than holding); returns how many events were taken. A
    failed one waits ``retry_delays_s[attempt]``; after the last, it is handed to
    ``give_up``, as the consumer does with an event."""
    now = now or utcnow()
    with uow:
        rows = uow.review_holds.claim_due(now, now + REVIEW_LEASE, limit)
        uow.commit()
    if not rows:
        return 0
    envelopes = {row.event_id: parse(row.body) for row in rows}
    failures: dict[str, Exception] = {}
    try:
        notify(list(envelopes.values()))
    except Exception as exc:  # noqa: BLE001 -- not swallowed: recorded, or each tried again on its own
        if len(envelopes) == 1:
            failures = dict.fromkeys(envelopes, exc)
        else:
            for event_id, envelope in envelopes.items():
                try:
                    notify([envelope])
                except Exception as failure:  # noqa: BLE001 -- recorded per event, retried later or given up
                    failures[event_id] = failure
    attempts = {row.event_id: row.attempts for row in rows}
    with uow:
        for event_id in envelopes:
            if event_id not in failures:
                uow.review_holds.released(event_id)
            elif attempts[event_id] < len(retry_delays_s):
                uow.review_holds.retry_at(event_id, now + timedelta(seconds=retry_delays_s[attempts[event_id]]),
                                          stored_reason(failures[event_id]))
            else:
                uow.review_holds.released(event_id)
        uow.commit()
    for event_id, exc in failures.items():
        if attempts[event_id] >= len(retry_delays_s):
            give_up(envelopes[event_id], exc)
    return len(rows)


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
        calls = _kamer_calls_instead(uow, envelope, failed, ports) if ports is not None else []
        uow.commit()
    for row in failed:
        log.error("notification.failed", attempts=row.attempts, reason=row.last_error, **_ids(row))
    if not failed:  # e.g. the kamer never registered: no notification exists; the dead letter keeps the event
        log.error("notification.gave_up_before_planning", reason=stored_reason(exc))
    return calls


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
