"""What events schedule for later, and cancel, inside the planning transaction.

An accepted assignment schedules its reminder, "how did it go?" and follow-up (see
``domain.schedule`` for when); a cancellation, a decline or an erasure cancels what is
still pending; a recorded visit cancels its "how did it go?" (``after_match``). A
redelivered event finds its items known by (kind, assignment) and changes nothing; a
new assignment of the request (re-matched, accepted again) schedules under its own id.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from mienskip_shared.contracts import Envelope

from ..domain.after_match import ScheduledItem
from ..domain.contacts import VOLUNTEER
from ..domain.schedule import AFTER_ACCEPTANCE, after_acceptance
from .ports import UnitOfWork

log = structlog.get_logger(__name__)


def schedule_batch(uow: UnitOfWork, messages: Sequence[Envelope]) -> None:
    """What the batch's events schedule and cancel (after ``planning._remember``, so a
    cancellation in the batch is known)."""
    accepted = [e for e in messages if e.event_type == "assignment.accepted"]
    tasks = uow.tasks.get_all({e.data["request_id"] for e in accepted})
    for envelope in messages:
        data = envelope.data
        if envelope.event_type == "request.cancelled":
            uow.schedule.cancel(request_id=data["request_id"])
        elif envelope.event_type == "assignment.declined":  # before or after its acceptance arrives
            uow.schedule.call_off(AFTER_ACCEPTANCE, data["assignment_id"], data["kamer_id"], envelope.occurred_at)
    for envelope in accepted:
        data = envelope.data
        task = tasks.get(data["request_id"])
        if task is not None and task.cancelled_at is not None:
            continue  # cancelled before (another queue): nothing to remind anyone of
        window = data.get("window")
        start, end = (window["start"], window["end"]) if window else ((task.start, task.end) if task else (None, None))
        if start is None:
            log.info("schedule.no_task_time", assignment_id=data["assignment_id"])
            continue
        times = uow.schedule.kamer_times(data["kamer_id"])
        uow.schedule.add([ScheduledItem(
            kind=due.kind, subject_id=data["assignment_id"], kamer_id=data["kamer_id"], due_at=due.due_at,
            request_id=data["request_id"], assignment_id=data["assignment_id"], volunteer_id=data["volunteer_id"],
            category=data.get("category") or (task.category if task else None), start=start, end=end,
            correlation_id=envelope.correlation_id,
        ) for due in after_acceptance(start, end, envelope.occurred_at, times)])
        log.info("schedule.planned", assignment_id=data["assignment_id"], request_id=data["request_id"])


def forget_person(uow: UnitOfWork, kind: str, subject_id: str) -> None:
    """personal_data.erased: nothing more is sent to or about them."""
    if kind == VOLUNTEER:
        uow.schedule.cancel(volunteer_id=subject_id)
    else:
        uow.schedule.cancel(request_id=subject_id)
