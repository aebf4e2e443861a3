"""What is due when after a volunteer accepts a task: plain rules, the clock passed in.

The rules, on the clock in Leeuwarden (Europe/Amsterdam, summer and winter time alike):

* **Reminder**: the day before the task (its local date minus one day) at the kamer's
  ``reminder_time`` (default 18:00). Accepted after that moment but more than an hour
  before the task starts: sent at once. Accepted within the hour before the start (or
  later): no reminder, the volunteer has just said yes.
* **"How did it go?"**: at the task's end (its start when the end is unknown), to the
  volunteer, with their link to record the visit.
* **Follow-up**: ``follow_up_days`` (default 3) after the task's end, at the same local
  time of day, to the resident (or the kamer, to ask by phone).

A cancelled request, a declined assignment or an erased person cancels what is still
pending; a new assignment for the request (re-matched, accepted again) schedules anew
under its own id. Each item is known by ``(kind, subject)``: planned once, sent once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from .facts import LOCAL_TIME

REMINDER = "reminder"
HOW_DID_IT_GO = "how_did_it_go"
FOLLOW_UP = "follow_up"
REVIEW_DIGEST = "review_digest"  # the kamer's "proposals ready for review", gathered (see review_digest)
AFTER_ACCEPTANCE = (REMINDER, HOW_DID_IT_GO, FOLLOW_UP)  # what an assignment's acceptance schedules
KINDS = (*AFTER_ACCEPTANCE, REVIEW_DIGEST)

DEFAULT_REMINDER_TIME = time(18, 0)
DEFAULT_FOLLOW_UP_DAYS = 3
# Accepted this close to the start (or later): no reminder.
NO_REMINDER_WITHIN = timedelta(hours=1)
# How long the volunteer's "record the visit" link and the resident's follow-up link work.
VISIT_LINK_VALIDITY = timedelta(days=14)
FOLLOW_UP_LINK_VALIDITY = timedelta(days=14)

# Scheduled items are causes of messages like events are: each has a fixed id from its
# kind and subject, so its notifications' keys are the same on every plan.
_ITEM_NAMESPACE = uuid.UUID("4f6c2d0e-9b1a-5c3e-8d7f-2a6b0c1e9f35")


@dataclass(frozen=True)
class KamerTimes:
    """A kamer's choices for after the match (from kamer.registered)."""

    reminder_time: time = DEFAULT_REMINDER_TIME
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS

    @classmethod
    def parse(cls, reminder_time: str | None, follow_up_days: int | None) -> KamerTimes:
        """``"18:00"`` and a number of days; anything missing (or no time of day, as
        ``"25:00"``) takes the default."""
        at = DEFAULT_REMINDER_TIME
        try:
            hours, minutes = (reminder_time or "").split(":")
            at = time(int(hours), int(minutes))
        except ValueError:
            pass
        return cls(at, follow_up_days or DEFAULT_FOLLOW_UP_DAYS)


@dataclass(frozen=True)
class Due:
    kind: str
    due_at: datetime


def item_event_id(kind: str, subject_id: str) -> str:
    """The id a scheduled item's messages are keyed by (like an event's id)."""
    return str(uuid.uuid5(_ITEM_NAMESPACE, f"{kind}\n{subject_id}"))


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("need a timezone-aware datetime")
    return moment


def local_moment(day, at: time) -> datetime:
    """``day`` at ``at`` on the clock in Leeuwarden, as an aware datetime. A time that the
    spring change skips (02:30 on the last Sunday of March) is read with the offset before
    the change, as zoneinfo does: an hour later on the clock."""
    return datetime.combine(day, at, LOCAL_TIME)


def reminder_moment(start: datetime, at: time) -> datetime:
    """The day before the task (local date) at ``at``, local time."""
    local_start = _aware(start).astimezone(LOCAL_TIME)
    return local_moment(local_start.date() - timedelta(days=1), at)


def reminder_due(start: datetime, at: time, accepted_at: datetime) -> datetime | None:
    """When the reminder goes: the day before at ``at``; at once when accepted after that
    moment; None when accepted within the hour before the start, or after it."""
    moment = reminder_moment(start, at)
    if _aware(accepted_at) < moment:
        return moment
    if start - accepted_at > NO_REMINDER_WITHIN:
        return accepted_at
    return None


def follow_up_due(end: datetime, days: int) -> datetime:
    """``days`` calendar days after ``end`` at the same local time of day."""
    local_end = _aware(end).astimezone(LOCAL_TIME)
    return local_moment(local_end.date() + timedelta(days=days), local_end.time().replace(tzinfo=None))


def after_acceptance(start: datetime, end: datetime | None, accepted_at: datetime, kamer: KamerTimes) -> list[Due]:
    """Everything an accepted task schedules, earliest first."""
    finish = end or start
    due = []
    reminder = reminder_due(start, kamer.reminder_time, accepted_at)
    if reminder is not None:
        due.append(Due(REMINDER, reminder))
    due.append(Due(HOW_DID_IT_GO, finish))
    due.append(Due(FOLLOW_UP, follow_up_due(finish, kamer.follow_up_days)))
    return due


def retry_delay(attempts: int) -> timedelta:
    """How long a scheduled item whose message could not be delivered waits before the
    next try: 1, 2, 4 ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


MAX_ATTEMPTS = 8  # then what is still owed fails for good and is announced (notification.failed)
# A claimed item is handed back to the worker this long after its plan if the process
# stopped before recording the outcome (the send is then tried again, same keys).
CLAIM_TIMEOUT = timedelta(minutes=5)
