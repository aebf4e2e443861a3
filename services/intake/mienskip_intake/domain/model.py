"""Intake's domain: roles, request statuses, the records intake keeps and the rules
about them. Stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    KAMER = "kamer"  # one kamer's staff: only that kamer's residents and volunteers
    COORDINATOR = "coordinator"  # a region's coordinator
    OPERATOR = "operator"  # runs the system: metrics and ids, never personal data
    VOLUNTEER = "volunteer"  # holds a signed link for one assignment: accept or decline it
    PROVIDER = "provider"  # a care provider's signed link for one referral: read, accept or decline it


class Status(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REJECTED = "rejected"
    UNMATCHED = "unmatched"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.QUEUED, Status.PROPOSED, Status.APPROVED, Status.ACCEPTED,
     Status.DECLINED, Status.REJECTED, Status.UNMATCHED}
)

# Which status a request may move to from which (DOMAIN.md, "The workflow of one request").
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.QUEUED, Status.PROPOSED, Status.UNMATCHED, Status.CANCELLED}),
    Status.QUEUED: frozenset({Status.PROPOSED, Status.UNMATCHED, Status.CANCELLED}),
    Status.PROPOSED: frozenset({Status.APPROVED, Status.REJECTED, Status.QUEUED, Status.CANCELLED}),
    Status.REJECTED: frozenset({Status.QUEUED, Status.PROPOSED, Status.UNMATCHED, Status.CANCELLED}),
    Status.APPROVED: frozenset({Status.ACCEPTED, Status.DECLINED, Status.CANCELLED}),
    Status.DECLINED: frozenset({Status.QUEUED, Status.PROPOSED, Status.UNMATCHED, Status.CANCELLED}),
    Status.ACCEPTED: frozenset({Status.COMPLETED, Status.DECLINED, Status.CANCELLED}),
    Status.UNMATCHED: frozenset({Status.QUEUED, Status.PROPOSED, Status.CANCELLED}),
    Status.CANCELLED: frozenset(),
    Status.COMPLETED: frozenset(),
}


class AssignmentStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a person picked another volunteer
    CANCELLED = "cancelled"
    COMPLETED = "completed"


# A volunteer who backs out this close to the task makes it urgent for the coordinator.
LATE_DECLINE = timedelta(hours=48)


def is_late_decline(window_start: datetime, now: datetime) -> bool:
    return window_start - now < LATE_DECLINE


# What a request moves to when a person acts on its current assignment.
ACTIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "approve": (frozenset({Status.PROPOSED}), Status.APPROVED),
    "reject": (frozenset({Status.PROPOSED}), Status.REJECTED),
    "accept": (frozenset({Status.APPROVED}), Status.ACCEPTED),
    "decline": (frozenset({Status.APPROVED, Status.ACCEPTED}), Status.DECLINED),
    "reassign": (frozenset({Status.PROPOSED, Status.REJECTED, Status.DECLINED, Status.UNMATCHED}), Status.QUEUED),
}


def act(action: str, current: Status) -> Status:
    """The request's next status for ``action``, or :class:`IllegalTransition` (a 409)."""
    allowed_from, result = ACTIONS[action]
    if current not in allowed_from:
        raise IllegalTransition(current, result)
    return result


class IllegalTransition(Exception):
    def __init__(self, current: Status, wanted: Status):
        super().__init__(f"a request that is {current} cannot become {wanted}")
        self.current, self.wanted = current, wanted


def can_transition(current: Status, wanted: Status) -> bool:
    return wanted in TRANSITIONS[current]


def transition(current: Status, wanted: Status) -> Status:
    if not can_transition(current, wanted):
        raise IllegalTransition(current, wanted)
    return wanted


# About 100 m: enough for matching by distance, too coarse to find a front door.
COARSE_DECIMALS = 3


def coarse(lat: float, lon: float) -> dict[str, float]:
    return {"lat": round(lat, COARSE_DECIMALS), "lon": round(lon, COARSE_DECIMALS)}


_POSTCODE = re.compile(r"^\d{4}\s?[A-Z]{2}\s+")


def first_name(full_name: str | None) -> str | None:
    """What a volunteer or resident is called in messages: the first name only."""
    parts = (full_name or "").split()
    return parts[0] if parts else None


def neighbourhood_of(address: str | None) -> str | None:
    """The place part of a Dutch address ("Tsjerkepaed 3, 9001 AB Grou" -> "Grou"):
    enough for a volunteer to judge the trip before they know the street."""
    if not address or "," not in address:
        return None
    place = _POSTCODE.sub("", address.rsplit(",", 1)[1].strip()).strip()
    return place or None


class InvalidRequest(ValueError):
    """A request the domain refuses though every field is well-formed; ``field`` names
    the offending part."""

    def __init__(self, field: str, problem: str):
        super().__init__(problem)
        self.field, self.problem = field, problem


class WindowError(InvalidRequest):
    """A time window that cannot be served."""


def check_follows(follows: str | None, recurrence: str | None, earlier_recurrence: str | None | bool) -> None:
    """A request may follow an earlier one of its own kamer, both recurring: one series.

    ``earlier_recurrence`` is the earlier request's recurrence, False if the kamer has
    no such request.
    """
    if follows is None:
        return
    if recurrence is None:
        raise InvalidRequest("follows", "only a recurring request (recurrence: weekly) follows an earlier one")
    if earlier_recurrence is False:
        raise InvalidRequest("follows", "no such request of this kamer")
    if earlier_recurrence != recurrence:
        raise InvalidRequest("follows", f"that request does not recur {recurrence}")


# A window is planned at most a year ahead, and spans less than a week: matching fits it
# in one weekly slot, and a weekly series' windows must not overlap one another. A window
# already under way may have started, but not more than a week ago. Without these bounds
# a window in the year 9999 was accepted and then failed in matching until dead-lettered.
PLANNING_HORIZON = timedelta(days=365)
LONGEST_WINDOW = timedelta(days=7)

SERIES_AHEAD = timedelta(days=7)  # a weekly series always has its next week's request waiting


def next_in_series(start: datetime, end: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """A weekly request's next occurrence: the same local time a week on (so 10:00 stays
    10:00 across a change to or from summer time), as aware UTC datetimes."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    following = (local_start.replace(tzinfo=None) + timedelta(days=7)).replace(tzinfo=zone)
    length = local_end.replace(tzinfo=None) - local_start.replace(tzinfo=None)
    return following.astimezone(UTC), (following.replace(tzinfo=None) + length).replace(tzinfo=zone).astimezone(UTC)


def series_continues(request: HelpRequest, now: datetime) -> bool:
    """Whether intake makes the next week's request of this one: it recurs weekly, is
    neither cancelled (which ends the series) nor erased, and starts within a week."""
    return (request.recurrence == "weekly" and request.erased_at is None
            and request.status != Status.CANCELLED.value and request.window_start < now + SERIES_AHEAD)


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise WindowError("window.end", "must be after window.start")
    if end <= now:
        raise WindowError("window.end", "lies in the past")
    if start > now + PLANNING_HORIZON:
        raise WindowError("window.start", "lies more than a year ahead")
    if start < now - LONGEST_WINDOW:
        raise WindowError("window.start", "lies more than a week in the past")
    if end - start >= LONGEST_WINDOW:
        raise WindowError("window.end", "must be less than a week after window.start")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the holder of one API token, or a person signed in to the pages
    (``user_id``; ``token_id`` is then None)."""

    token_id: str | None
    role: Role
    kamer_id: str | None = None
    region: str | None = None
    volunteer_id: str | None = None  # a volunteer link's holder
    assignment_id: str | None = None  # ... and the one assignment it is for
    user_id: str | None = None  # a person with an account (domain.accounts)
    name: str | None = field(default=None, compare=False)  # theirs, for the pages' header only
    lead: bool = False  # a kamer's lead: may invite its staff
    provider_id: str | None = None  # a provider link's holder
    referral_id: str | None = None  # ... and the one referral it is for
    # A person's own kamers (staff of several choose which one the pages act for: ``kamer_id``).
    kamers: tuple[str, ...] = field(default=(), compare=False)

    @property
    def actor(self) -> str:
        """How history and events name who acted: the person (``user:<id>``), else a role
        and token; never a name."""
        return f"user:{self.user_id}" if self.user_id else f"{self.role.value}:{self.token_id}"

    @property
    def credential(self) -> str:
        """The person or the token behind a call: ``user:<id>`` or ``token:<id>``."""
        return f"user:{self.user_id}" if self.user_id else f"token:{self.token_id}"

    def may_see_kamer(self, kamer_id: str, region: str) -> bool:
        if self.role is Role.KAMER:
            return self.kamer_id == kamer_id
        if self.role is Role.COORDINATOR:
            return self.region is None or self.region == region
        return False  # operators see no personal data


# -- the records intake keeps ---------------------------------------------------------------

@dataclass(frozen=True)
class Kamer:
    id: str
    name: str
    region: str
    lat: float
    lon: float
    email: str | None = None
    webhook_url: str | None = None
    language: str = "nl"
    created_at: datetime | None = None
    phone: str | None = None  # what a volunteer calls with a question (their page shows it)
    mileage_rate_cents: int = 30  # paid back per km driven for a visit (domain.visits)
    reminder_time: str = "18:00"  # reminders go the day before at this local time
    follow_up_days: int = 3  # the resident is asked "did the help come?" this many days after


@dataclass(frozen=True)
class Volunteer:
    id: str
    kamer_id: str
    region: str
    name: str
    email: str | None
    phone: str | None
    language: str
    languages: list[str]
    home_lat: float
    home_lon: float
    skills: list[str]
    has_car: bool
    vog_checked_on: date | None
    availability: list[dict[str, Any]]
    max_tasks_per_week: int
    max_distance_km: float
    created_at: datetime
    erased_at: datetime | None = None
    # [{"from": "2026-12-20", "to": "2027-01-03"}]: never proposed on those days (domain/volunteers.py)
    away: list[dict[str, str]] = field(default_factory=list)
    active: bool = True  # False: paused, or stopped (stopped_at) -- never proposed
    stopped_at: datetime | None = None  # stopped volunteering: erased after the retention period
    revision: int = 0  # one more on every change: matching keeps only the newest
    updated_at: datetime | None = None
    home_precision: str = "given"  # exact | postcode4 | given (domain/addresses.py Precision)
    home_exact_lookup: dict[str, Any] | None = None  # the home address, while an exact lookup is still due

    @property
    def home(self) -> dict[str, float]:
        return {"lat": self.home_lat, "lon": self.home_lon}

    def erased(self, at: datetime) -> Volunteer:
        """Nothing that identifies them stays; the home only to about 100 m."""
        return replace(self, name="", email=None, phone=None, vog_checked_on=None,
                       home_lat=round(self.home_lat, COARSE_DECIMALS), home_lon=round(self.home_lon, COARSE_DECIMALS),
                       erased_at=at, away=[], active=False, home_exact_lookup=None)


@dataclass(frozen=True)
class Assignment:
    """Matching's proposal for a request, and what people made of it."""

    id: str
    request_id: str
    volunteer_id: str
    kamer_id: str
    status: str  # an AssignmentStatus value
    distance_km: float
    explanation: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Note(StrEnum):
    """What intake says in a request's history, as a code with parameters: the pages and
    the API word it in their reader's language (``history.<code>`` in the catalogue)."""

    SUBMITTED = "submitted"
    AUTO_APPROVED = "auto_approved"
    LATE_DECLINE = "late_decline"  # within 48 hours of the task: urgent for the coordinator
    VOLUNTEER_ERASED = "volunteer_erased"
    VOLUNTEER_ERASED_LATE = "volunteer_erased_late"
    VOLUNTEER_ERASED_CLOSED = "volunteer_erased_closed"  # {assignment_status, assignment_id}: overtaken, closed
    REASSIGNED = "reassigned"  # {volunteer_id}
    TRANSITION_IGNORED = "transition_ignored"  # {wanted, current}: statuses
    DECISION_OVERTAKEN = "decision_overtaken"  # {decision}
    UNMATCHED = "unmatched"  # {reasons, considered}: as matching sent them
    NOTIFICATION_SENT = "notification_sent"  # {template, recipient_kind, channel}
    NOTIFICATION_FAILED = "notification_failed"  # {template, recipient_kind, channel, attempts}; note: the error
    VOLUNTEER_PAUSED = "volunteer_paused"  # the offer ended: the kamer paused the volunteer
    VOLUNTEER_STOPPED = "volunteer_stopped"  # ... the volunteer stopped volunteering
    VOLUNTEER_AWAY = "volunteer_away"  # ... an away period now covers the task's day
    LOCATED_EXACTLY = "located_exactly"  # the address service was back: exact location instead of the area's
    SERIES_CONTINUED = "series_continued"  # {follows}: intake made this week's request of a weekly series
    VISIT_DONE = "visit_done"  # {hours, km}: the visit was recorded as done (domain.visits)
    VISIT_NOT_DONE = "visit_not_done"  # the visit did not happen; note: the reason
    FOLLOW_UP_ANSWERED = "follow_up_answered"  # {answer}: the resident's no or more (domain.follow_ups)
    REFERRED = "referred"  # {provider_id, referral_id}: sent to a care provider (domain.referrals)
    REFERRAL_ACCEPTED = "referral_accepted"  # {provider_id, referral_id}
    REFERRAL_DECLINED = "referral_declined"  # {provider_id, referral_id}; note: the provider's reason
    REFERRAL_OVERDUE = "referral_overdue"  # {provider_id, referral_id}: no answer in time
    REFERRAL_CLOSED = "referral_closed"  # {provider_id, referral_id, was}: replaced, cancelled or completed


@dataclass(frozen=True)
class HistoryEntry:
    """One step or note in a request's story. ``note`` is free text (what a person typed,
    or another system's error); what intake itself says is ``note_code`` with
    ``note_params`` (a :class:`Note`). Entries from before codes hold only a sentence."""

    request_id: str
    at: datetime
    status: str | None  # None: a note, not a step
    actor: str
    note: str | None
    id: int | None = None
    note_code: str | None = None
    note_params: dict[str, Any] | None = None

    @property
    def failed_delivery(self) -> bool:
        """Notify could not deliver a message about this request."""
        return self.note_code == Note.NOTIFICATION_FAILED or (self.note or "").startswith("FAILED")


@dataclass(frozen=True)
class HelpRequest:
    """A resident's request (*hulpvraag*), with its assignments and history once loaded."""

    id: str
    kamer_id: str
    region: str
    resident_name: str | None
    resident_phone: str | None
    resident_language: str
    resident_address: str | None
    lat: float
    lon: float
    category: str
    skills: list[str]
    needs_vog: bool
    needs_language: str | None
    window_start: datetime
    window_end: datetime
    recurrence: str | None
    follows: str | None
    urgency: str
    notes: str | None
    status: str  # a Status value
    created_at: datetime
    updated_at: datetime
    reasons: dict[str, int] | None = None  # unmatched: volunteers excluded per rule (or "taken")
    considered: int | None = None  # ... out of how many (None from an older matching)
    urgent: bool = False
    erased_at: datetime | None = None
    last_decision: int = 0
    resident_email: str | None = None
    location_precision: str = "given"  # domain.addresses.Precision: exact, postcode4 or given
    exact_lookup: dict[str, Any] | None = None  # the address, while an exact lookup is still due
    helper: str = "volunteer"  # who helps: volunteer, professional or both (domain.referrals.Helper)
    assignments: tuple[Assignment, ...] = field(default=(), compare=False)  # oldest first
    referral: Any = field(default=None, compare=False)  # the current domain.referrals.Referral, once loaded
    history: tuple[HistoryEntry, ...] = field(default=(), compare=False)

    @property
    def location(self) -> dict[str, Any]:
        """Where, and how exact (``domain.addresses.Precision``)."""
        return {"lat": self.lat, "lon": self.lon, "precision": self.location_precision}

    @property
    def assignment(self) -> Assignment | None:
        """The newest assignment: the one the request waits for, or waited for last."""
        return self.assignments[-1] if self.assignments else None

    def erased(self, at: datetime) -> HelpRequest:
        """What identifies the resident goes; the facts stay, the place to about 100 m."""
        return replace(self, resident_name=None, resident_phone=None, resident_address=None, notes=None,
                       resident_email=None, exact_lookup=None, lat=round(self.lat, COARSE_DECIMALS), lon=round(self.lon, COARSE_DECIMALS),
                       erased_at=at, updated_at=at)


def first_name_or_dash(full_name: str | None) -> str:
    """A list page names a person by first name only (a dash once erased)."""
    return first_name(full_name) or "—"
