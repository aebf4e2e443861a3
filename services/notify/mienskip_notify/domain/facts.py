"""What a message says, as facts: codes with their parameters, times as aware datetimes
(a task's day as a date on the clock in Leeuwarden), numbers as numbers.

The planner puts these in a notification's context; the composer words them in the
reader's language when it renders the message (``adapters.wording``), so the domain
decides what to say and never how it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")  # every kamer, volunteer and resident reads this clock


def local_date(moment: datetime) -> date:
    """The day ``moment`` falls on in Leeuwarden.

    Raises ``ValueError`` for a naive datetime: without a zone we cannot know the day.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("need a timezone-aware datetime")
    return moment.astimezone(LOCAL_TIME).date()


@dataclass(frozen=True)
class Category:
    """A task's category code (DOMAIN.md's categories; an unknown one reads as "help")."""

    code: str


@dataclass(frozen=True)
class TaskTime:
    """When a task is: from ``start`` to ``end`` (aware), or a moment when the end is unknown."""

    start: datetime
    end: datetime | None = None


@dataclass(frozen=True)
class Distance:
    km: float


@dataclass(frozen=True)
class ProposalReasons:
    """Why matching proposed the volunteer: the proposal's ``explanation`` as matching sent
    it (codes and numbers, see ``mienskip_shared.contracts.matching``)."""

    explanation: Mapping[str, Any]


@dataclass(frozen=True)
class UnmatchedSummary:
    """How to read an unmatched request's counts: the rules' exclusions and how many
    volunteers were considered."""

    reasons: Mapping[str, int]
    considered: int | None


@dataclass(frozen=True)
class RuleCounts:
    """How many volunteers each rule excluded, as ``(rule code, count)``: most first, so
    the main reason leads."""

    counts: tuple[tuple[str, int], ...]

    @classmethod
    def most_first(cls, reasons: Mapping[str, int]) -> RuleCounts:
        return cls(tuple(sorted(reasons.items(), key=lambda item: (-item[1], item[0]))))


@dataclass(frozen=True)
class DeclineReason:
    """Why an assignment was declined when the volunteer did not say no themselves."""

    code: str


@dataclass(frozen=True)
class Urgency:
    """A request's urgency code (``low``, ``normal``, ``high``, ``urgent``)."""

    code: str
