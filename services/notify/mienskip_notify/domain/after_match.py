"""The messages after the match, as facts: the reminder the day before, "how did it go?",
the follow-up question, the kamer told of a visit not done, the coordinator's weekly
digest and the kamer's digest of proposals ready for review.

Routing as for every message (``routing``): each person in their language over their
own channel. Who nobody can reach: for a reminder or "how did it go?" the kamer is not
asked to call (it phoned them with the task, and its attention page lists visits not
recorded); the follow-up question goes to the kamer to ask by phone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from .channels import EMAIL, MAILBOX, Channels
from .contacts import RESIDENT, VOLUNTEER, Known
from .contexts import review_url, volunteer_first_name
from .facts import Category, TaskTime, local_date
from .languages import message_language
from .notifications import Notification, notification_key
from .routing import MessagePlan
from .schedule import (
    FOLLOW_UP,
    FOLLOW_UP_LINK_VALIDITY,
    HOW_DID_IT_GO,
    REMINDER,
    REVIEW_DIGEST,
    VISIT_LINK_VALIDITY,
    item_event_id,
)

COORDINATORS = "coordinators"  # the mailbox folder (and kamer_id) of a coordinator's digest
PERSON = "person"  # a recipient known by their account's address (as an invitation's)


@dataclass(frozen=True)
class ScheduledItem:
    """One due message (or pair of messages) of one assignment, as the schedule keeps it."""

    kind: str
    subject_id: str  # the assignment's id; a review digest's own id
    kamer_id: str
    due_at: datetime
    request_id: str | None = None
    assignment_id: str | None = None
    volunteer_id: str | None = None
    category: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    correlation_id: str = ""
    attempts: int = 0

    @property
    def event_id(self) -> str:
        return item_event_id(self.kind, self.subject_id)


@dataclass(frozen=True)
class Age:
    """How long something has waited (hours; worded as days past two days)."""

    hours: float


@dataclass(frozen=True)
class HeldReview:
    """A proposal whose "ready for review" mail went into the kamer's digest."""

    request_id: str
    category: str | None
    proposed_at: datetime


@dataclass(frozen=True)
class ReviewList:
    """The proposals of one digest, oldest first."""

    reviews: tuple[HeldReview, ...]


@dataclass(frozen=True)
class CategoryCounts:
    """How many of each category (None: not known to notify), most first."""

    counts: tuple[tuple[str | None, int], ...]

    @classmethod
    def of(cls, categories: Sequence[str | None]) -> CategoryCounts:
        tally: dict[str | None, int] = {}
        for code in categories:
            tally[code] = tally.get(code, 0) + 1
        return cls(tuple(sorted(tally.items(), key=lambda item: (-item[1], item[0] or "~"))))


Signer = Callable[[str, str, datetime], str]


def _task(item: ScheduledItem) -> dict[str, Any]:
    return {"category": Category(item.category) if item.category else None,
            "when": TaskTime(item.start, item.end) if item.start else None,
            "day": local_date(item.start) if item.start else None}


def _plan(item: ScheduledItem, known: Known, channels: Channels, public_url: str) -> MessagePlan:
    data = {"request_id": item.request_id, "kamer_id": item.kamer_id, "assignment_id": item.assignment_id,
            "volunteer_id": item.volunteer_id, "kind": item.kind}
    return MessagePlan(f"schedule.{item.kind}", item.event_id, item.due_at, data, known, channels, public_url, None)


def scheduled_messages(item: ScheduledItem, known: Known, channels: Channels, public_url: str, *,
                       sign_visit: Signer, sign_follow_up: Signer) -> list[Notification]:
    """The messages one due item sends (nothing for a cancelled request).

    ``sign_visit(assignment_id, volunteer_id, expires_at)`` and
    ``sign_follow_up(request_id, assignment_id, expires_at)`` make the links' tokens;
    expiry counts from the item's due time, so a retry signs the same link."""
    if known.request_cancelled or item.kind == REVIEW_DIGEST:
        return []
    plan = _plan(item, known, channels, public_url)
    resident = known.resident
    volunteer = known.volunteers.get(item.volunteer_id or "")
    volunteer_name = (volunteer.first_name or None) if volunteer else None
    kamer_name = known.kamer.name
    if item.kind == REMINDER:
        plan.to_person(VOLUNTEER, item.volunteer_id, "volunteer_reminder", {
            **_task(item), "first_name": volunteer_name, "kamer_name": kamer_name,
            "resident_first_name": resident.first_name if resident else None,
            "address": resident.address if resident else None,
            "resident_phone": resident.phone if resident else None,
        }, call_instead=False)
        plan.to_person(RESIDENT, item.request_id, "resident_reminder", {
            **_task(item), "first_name": resident.first_name if resident else None, "kamer_name": kamer_name,
            "volunteer_first_name": volunteer_first_name({"volunteer_id": item.volunteer_id}, known),
        }, call_instead=False)
    elif item.kind == HOW_DID_IT_GO:
        expires = item.due_at + VISIT_LINK_VALIDITY
        token = sign_visit(item.assignment_id, item.volunteer_id, expires)
        plan.to_person(VOLUNTEER, item.volunteer_id, "visit_question", {
            **_task(item), "first_name": volunteer_name, "kamer_name": kamer_name,
            "link": f"{public_url.rstrip('/')}/v/{token}", "link_expires": expires,
        }, call_instead=False)
    elif item.kind == FOLLOW_UP:
        expires = item.due_at + FOLLOW_UP_LINK_VALIDITY
        token = sign_follow_up(item.request_id, item.assignment_id, expires)
        reached = plan.to_person(RESIDENT, item.request_id, "resident_follow_up", {
            **_task(item), "first_name": resident.first_name if resident else None, "kamer_name": kamer_name,
            "link": f"{public_url.rstrip('/')}/f/{token}", "link_expires": expires,
        }, call_instead=False)
        if not reached:
            plan.to_kamer("follow_up_by_phone", {
                **_task(item), "kamer_name": kamer_name, "request_id": item.request_id,
                "review_url": review_url(public_url, item.request_id),
            }, subject=(RESIDENT, item.request_id))
    return plan.notifications


def review_digest_messages(item: ScheduledItem, known: Known, channels: Channels, public_url: str,
                           reviews: Sequence[HeldReview]) -> list[Notification]:
    """One message to the kamer's mailbox or e-mail for the proposals gathered in a digest.
    Not to its webhook: that had one call per proposal already."""
    if not reviews:
        return []
    reviews = tuple(sorted(reviews, key=lambda r: (r.proposed_at, r.request_id)))
    plan = _plan(item, replace(known, kamer=replace(known.kamer, webhook_url=None)), channels, public_url)
    plan.to_kamer("review_digest", {
        "kamer_name": known.kamer.name,
        "count": len(reviews),
        "categories": CategoryCounts.of([r.category for r in reviews]),
        "proposals": ReviewList(reviews),
        "first_at": reviews[0].proposed_at,
        "last_at": reviews[-1].proposed_at,
        "review_url": review_url(public_url),
    })
    return plan.notifications


def visit_not_done_messages(event_id: str, occurred_at: datetime, data: Mapping[str, Any], known: Known,
                            channels: Channels, public_url: str) -> list[Notification]:
    """assignment.completed with done=false: the kamer is told, with the reason (the
    volunteer's own words, which intake sends notify for this) and the request's link."""
    if data.get("done") or known.request_cancelled:
        return []
    plan = MessagePlan("assignment.completed", event_id, occurred_at, data, known, channels, public_url, None)
    task = known.task
    plan.to_kamer("visit_not_done", {
        "kamer_name": known.kamer.name,
        "request_id": data["request_id"],
        "volunteer_first_name": volunteer_first_name(data, known),
        "category": Category(task.category) if task and task.category else None,
        "when": TaskTime(task.start, task.end) if task and task.start else None,
        "reason": data.get("reason"),
        "review_url": review_url(public_url, data["request_id"]),
    }, subject=(VOLUNTEER, data["volunteer_id"]))
    return plan.notifications


def attention_digest_message(event_id: str, data: Mapping[str, Any], *, email_enabled: bool) -> Notification:
    """attention.digest: one e-mail to the coordinator whose address the event carries
    (used for sending only): counts per kind, the oldest's age, the attention page."""
    counts = data["counts"]
    channel = EMAIL if email_enabled else MAILBOX
    oldest = counts.get("oldest_hours")
    return Notification(
        key=notification_key(event_id, data["email"], channel),
        source_event_id=event_id, source_event_type="attention.digest", request_id=None,
        kamer_id=COORDINATORS, recipient_kind=PERSON, recipient=data["email"], channel=channel,
        template="attention_digest", language=message_language(data["language"]),
        context={
            "region": data["region"],
            "week": data["week"] if isinstance(data["week"], date) else None,
            "proposals_unreviewed": int(counts["proposals_unreviewed"]),
            "offers_unanswered": int(counts["offers_unanswered"]),
            "referrals_unanswered": int(counts["referrals_unanswered"]),
            "visits_unrecorded": int(counts["visits_unrecorded"]),
            "follow_ups_open": int(counts.get("follow_ups_open") or 0),
            "oldest": Age(float(oldest)) if oldest is not None else None,
            "link": data["link"],
        })
