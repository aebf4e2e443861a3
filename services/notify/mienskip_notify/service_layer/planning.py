"""Which messages a batch of events needs, planned in one transaction.

Contacts in the batch are stored first (a message in the same batch may need them),
the events' inbox rows claimed, what they tell notify remembered (tasks' category and
time, cancellations), and every message planned as a ``pending`` notification whose
key is deterministic and UNIQUE. A redelivered event plans again from what notify
knows and picks out only what its first plan still owes: it never adds recipients.

A cancellation travels another queue than the assignment events, so it may be handled
before an approval or acceptance that happened earlier. notify remembers cancelled
requests (``notify_tasks.cancelled_at``, no personal data); any later event about a
cancelled request then plans nothing (see :attr:`Known.request_cancelled`), and what an
earlier plan of it still owes fails for good (as ``REQUEST_CANCELLED`` unless an attempt
already stored its own reason). An offer that went out (or was owed) before the
cancellation was handled makes the volunteer one the cancellation tells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import structlog

from mienskip_shared.contracts import Envelope, distinct

from ..domain.contacts import KAMER, Known
from ..domain.notifications import MESSAGE_EVENTS, TOLD_OF_TASK, Notification
from .contacts import CONTACT_EVENTS, record_contacts
from .outcomes import failed_event
from .ports import Ports, UnitOfWork
from .review_digest import REVIEW_EVENT, ReviewHolds
from .scheduling import schedule_batch
from .sms_budget import within_budget

log = structlog.get_logger(__name__)

# What the consumer may hand over in batches: everything that plans messages, and the
# contacts they need (stored first within a batch).
BATCHED_EVENTS = frozenset(MESSAGE_EVENTS) | frozenset(CONTACT_EVENTS)
RECIPIENT_CHANGED = "recipient changed before delivery"
REQUEST_CANCELLED = "request cancelled before delivery"


class KamerNotKnownYet(Exception):
    """A message for a kamer whose kamer.registered has not arrived (events from two
    sources travel separate queues). Retried: it normally arrives within the back-off."""


class ProviderNotKnownYet(Exception):
    """A referral event about a provider whose provider.registered has not arrived (another
    queue). Retried, as for a kamer: the provider's name and address come with that event."""


def plan_batch(uow: UnitOfWork, envelopes: Sequence[Envelope], ports: Ports) -> list[tuple[Notification, Envelope]]:
    """Step 1 for a batch, inside the caller's transaction; returns the notifications due
    now, each with its cause."""
    # contacts first: a message in the same batch may need them
    record_contacts([e for e in envelopes if e.event_type in CONTACT_EVENTS], uow)
    # the same event twice in one batch (a redelivery overtaking its ack) is planned once
    messages = distinct(e for e in envelopes if e.event_type not in CONTACT_EVENTS)
    if not messages:
        return []
    kamers = uow.contacts.kamers({e.data["kamer_id"] for e in messages})
    missing = sorted({e.data["kamer_id"] for e in messages} - set(kamers))
    if missing:
        raise KamerNotKnownYet(", ".join(missing))
    providers = uow.contacts.providers({e.data["provider_id"] for e in messages if "provider_id" in e.data})
    missing = sorted({e.data["provider_id"] for e in messages if "provider_id" in e.data} - set(providers))
    if missing:
        raise ProviderNotKnownYet(", ".join(missing))
    volunteers = uow.contacts.volunteers({e.data["volunteer_id"] for e in messages if "volunteer_id" in e.data})
    request_ids = {e.data["request_id"] for e in messages}
    residents = uow.contacts.residents(request_ids)
    uow.claim_all(messages)
    _remember(uow, messages)
    schedule_batch(uow, messages)  # reminders and the rest after an acceptance; cancelled with the task
    tasks = uow.tasks.get_all(request_ids)
    planned_before = uow.notifications.planned_for_events([e.event_id for e in messages])
    holds, new = ReviewHolds(uow, messages, ports), []
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
            provider=providers.get(data.get("provider_id", "")),
        )
        if known.request_cancelled and envelope.event_type != "request.cancelled":
            log.info("assignment.request_already_cancelled", event_type=envelope.event_type,
                     request_id=data["request_id"], assignment_id=data.get("assignment_id"))
        due += _due_now(uow, envelope, known, planned_before[envelope.event_id], ports, holds, new)
    uow.notifications.add_all(new)
    holds.flush()
    return within_budget(uow, due, ports)


def _remember(uow: UnitOfWork, messages: Sequence[Envelope]) -> None:
    """What events change besides messages: tasks' facts, cancelled requests (before any
    message of the batch is planned, so an approval in the same batch knows)."""
    uow.tasks.remember({  # only events that carry them: one without must not hide another's in the batch
        e.data["request_id"]: (e.data.get("category"), e.data.get("window")) for e in messages
        if (e.event_type.startswith("assignment.") or e.event_type == "referral.sent")
        and (e.data.get("category") or e.data.get("window"))},
        hold={e.data["request_id"] for e in messages
              if e.event_type in TOLD_OF_TASK or e.event_type == "request.cancelled"})
    cancelled: dict[str, datetime] = {}
    for e in messages:
        if e.event_type == "request.cancelled":
            request_id = e.data["request_id"]
            cancelled[request_id] = min(cancelled.get(request_id, e.occurred_at), e.occurred_at)
    uow.tasks.remember_cancelled(cancelled)


def _due_now(uow: UnitOfWork, envelope: Envelope, known: Known, before: list, ports: Ports, holds: ReviewHolds,
             new: list[Notification]):
    """The first plan of an event is stored whole (added to ``new``, which the batch
    stores at once); a later plan (a redelivery, a retry) only picks out what the first
    plan still owes: it never adds recipients, so a contact that arrived or changed
    meanwhile cannot make anyone hear twice."""
    if not before:
        planned = ports.messages_for(envelope, known)
        if envelope.event_type == REVIEW_EVENT:
            planned = holds.hold_or_mail(envelope, planned)  # the kamer's mail may wait for its digest
        new += planned
        return [(n, envelope) for n in planned]
    # people whose own channel failed for good were handed to the kamer: plan it so again
    unreachable = frozenset((r.subject_kind, r.subject_id) for r in before
                            if r.recipient_kind != KAMER and r.status == "failed")
    planned = ports.messages_for(envelope, replace(known, unreachable=unreachable))
    called_off = known.request_cancelled and envelope.event_type != "request.cancelled"
    return still_owed(uow, before, planned, envelope, REQUEST_CANCELLED if called_off else RECIPIENT_CHANGED)


def still_owed(uow: UnitOfWork, before: list, planned: Sequence[Notification], cause: Envelope,
               reason: str) -> list[tuple[Notification, Envelope]]:
    """Of a first plan's rows (``before``), the pending ones a new plan still makes. One it
    no longer makes (its recipient changed or was erased since, or the request was
    cancelled since) fails for good with ``reason``, rather than stay pending."""
    again = {n.key: n for n in planned}
    due = []
    for row in before:
        if row.status != "pending":
            continue
        if row.key in again:
            due.append((again[row.key], cause))
            continue
        uow.publish_all([failed_event(failed, cause)
                         for failed in uow.notifications.fail_for_good(key=row.key, error=reason)])
    return due
