"""Sending what falls due: the schedule's worker step.

One transaction claims the due items (a row lock and a conditional update: two notify
processes never take the same one) and plans their messages as ``pending``
notifications whose keys come from the item (kind and subject), through the same path
as an event's; then each item's messages are sent and recorded (``sending.deliver``)
and the item marked done. A process that stops in between leaves the item 'planned'
until its claim times out; the next claim plans it again and sends only what is still
pending. A failed send is tried again later (``domain.schedule.retry_delay``), and
after ``MAX_ATTEMPTS`` what is still owed fails for good and is announced.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from mienskip_shared.contracts import Envelope

from ..domain.after_match import ScheduledItem, review_digest_messages, scheduled_messages
from ..domain.contacts import Known
from ..domain.notifications import Notification
from ..domain.schedule import CLAIM_TIMEOUT, MAX_ATTEMPTS, REVIEW_DIGEST, retry_delay
from .outcomes import failed_event, stored_reason
from .planning import RECIPIENT_CHANGED, still_owed
from .ports import Ports, UnitOfWork
from .sending import deliver
from .sms_budget import within_budget

log = structlog.get_logger(__name__)

CLAIM_LIMIT = 50


def cause_of(item: ScheduledItem) -> Envelope:
    """The item as the cause of its messages (what notification.sent refers to)."""
    return Envelope(event_id=item.event_id, event_type=f"schedule.{item.kind}", schema_version=1,
                    occurred_at=item.due_at, correlation_id=item.correlation_id or item.event_id,
                    kamer_id=item.kamer_id, data={"request_id": item.request_id, "kamer_id": item.kamer_id})


def send_due(uow: UnitOfWork, ports: Ports, limit: int = CLAIM_LIMIT) -> bool:
    """One round: claim, plan, send, record. True if more may be due now."""
    now = ports.clock()
    with uow:
        claimed = uow.schedule.claim_due(now, now + CLAIM_TIMEOUT, limit)
        planned = [(item, _plan(uow, item, ports, now)) for item in claimed]
        uow.commit()
    for item, due in planned:
        try:
            deliver(due, uow, ports)
        except Exception as exc:  # noqa: BLE001 -- counted, tried again later or given up and announced
            _failed(uow, item, exc, ports)
            continue
        with uow:
            uow.schedule.finish(item, "done")
            uow.commit()
        log.info("schedule.sent", kind=item.kind, subject_id=item.subject_id, messages=len(due))
    return len(claimed) == limit


def _plan(uow: UnitOfWork, item: ScheduledItem, ports: Ports, now) -> list[tuple[Notification, Envelope]]:
    """The item's messages still owed, planned once (later plans pick out what the first still owes)."""
    kamer = uow.contacts.kamer(item.kamer_id)
    if kamer is None:
        return []
    request_ids = [item.request_id] if item.request_id else []
    known = Known(kamer=kamer, volunteers=uow.contacts.volunteers({item.volunteer_id} - {None}),
                  resident=uow.contacts.residents(request_ids).get(item.request_id),
                  task=uow.tasks.get_all(request_ids).get(item.request_id))
    if item.kind == REVIEW_DIGEST:
        uow.schedule.lock_digest(item.kamer_id)
        uow.schedule.mailed(item.kamer_id, now, closing=item.subject_id)
        reviews = uow.schedule.held_reviews(item.subject_id)
        tasks = uow.tasks.get_all({r.request_id for r in reviews})
        reviews = [replace(r, category=tasks[r.request_id].category) if r.request_id in tasks else r
                   for r in reviews if r.request_id not in tasks or tasks[r.request_id].cancelled_at is None]
        messages = review_digest_messages(item, known, ports.channels, ports.public_url, reviews)
    else:
        messages = scheduled_messages(item, known, ports.channels, ports.public_url,
                                      sign_visit=ports.sign_link, sign_follow_up=ports.sign_follow_up)
    cause = cause_of(item)
    before = uow.notifications.planned_for_events([item.event_id])[item.event_id]
    if not before:
        uow.notifications.add_all(messages)
        return within_budget(uow, [(n, cause) for n in messages], ports)
    return still_owed(uow, before, messages, cause, RECIPIENT_CHANGED)


def _failed(uow: UnitOfWork, item: ScheduledItem, exc: Exception, ports: Ports) -> None:
    attempts = item.attempts + 1
    with uow:
        if attempts < MAX_ATTEMPTS:
            uow.schedule.try_again(item, ports.clock() + retry_delay(attempts), attempts)
        else:
            cause = cause_of(item)
            failed = uow.notifications.fail_for_good(source_event_id=item.event_id, error=stored_reason(exc))
            uow.publish_all([failed_event(row, cause) for row in failed])
            uow.schedule.finish(item, "failed")
        uow.commit()
    log.warning("schedule.send_failed", kind=item.kind, subject_id=item.subject_id, attempts=attempts,
                reason=stored_reason(exc))
