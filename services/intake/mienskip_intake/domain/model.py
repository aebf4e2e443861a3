"""Intake's domain: roles, request statuses and the rules about them. Stdlib only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    KAMER = "kamer"  # one kamer's staff: only that kamer's residents and volunteers
    COORDINATOR = "coordinator"  # a region's coordinator
    OPERATOR = "operator"  # runs the system: metrics and ids, never personal data
    VOLUNTEER = "volunteer"  # holds a signed link for one assignment: accept or decline it


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


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if end <= start:
        raise WindowError("window.end", "must be after window.start")
    if end <= now:
        raise WindowError("window.end", "lies in the past")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the holder of one API token."""

    token_id: str
    role: Role
    kamer_id: str | None = None
    region: str | None = None
    volunteer_id: str | None = None  # a volunteer link's holder
    assignment_id: str | None = None  # ... and the one assignment it is for

    @property
    def actor(self) -> str:
        """How history and events name who acted: a role and token, never a name."""
        return f"{self.role.value}:{self.token_id}"

    def may_see_kamer(self, kamer_id: str, region: str) -> bool:
        if self.role is Role.KAMER:
            return self.kamer_id == kamer_id
        if self.role is Role.COORDINATOR:
            return self.region is None or self.region == region
        return False  # operators see no personal data
