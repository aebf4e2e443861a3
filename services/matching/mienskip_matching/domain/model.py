"""What matching reasons about: volunteers, open requests, bookings, and its answers.

Plain dataclasses, stdlib only. Times are timezone-aware datetimes (UTC on the wire);
weekly slots are whole minutes since local midnight in Europe/Amsterdam.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from mienskip_shared import geo

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


def great_circle_km(a: Point, b: Point) -> float:
    """Haversine distance; good to a few metres at Fryslân's scale."""
    return geo.great_circle_km(a.lat, a.lon, b.lat, b.lon)


def parse_clock(text: str) -> int:
    """``"09:30"`` -> 570 minutes; ``"24:00"`` is the end of the day."""
    hours, minutes = text.split(":")
    value = int(hours) * 60 + int(minutes)
    if not 0 <= value <= MINUTES_PER_DAY:
        raise ValueError(f"not a clock time: {text!r}")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True, order=True)
class WeeklySlot:
    """A volunteer is free every ``day`` from ``start`` to ``end`` (minutes, local time)."""

    day: str
    start: int
    end: int

    @classmethod
    def parse(cls, day: str, start: str, end: str) -> WeeklySlot:
        if day not in DAYS:
            raise ValueError(f"unknown day {day!r}")
        return cls(day, parse_clock(start), parse_clock(end))

    def label(self) -> str:
        return f"{self.day} {format_clock(self.start)}-{format_clock(self.end)}"


def merge_slots(slots: tuple[WeeklySlot, ...]) -> dict[str, tuple[WeeklySlot, ...]]:
    by_day: dict[str, list[WeeklySlot]] = {}
    for slot in sorted(slots, key=lambda s: (DAYS.index(s.day), s.start, s.end)):
        day = by_day.setdefault(slot.day, [])
        if day and slot.start <= day[-1].end:
            day[-1] = WeeklySlot(slot.day, day[-1].start, max(day[-1].end, slot.end))
        else:
            day.append(slot)
    return {day: tuple(day_slots) for day, day_slots in by_day.items()}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self):
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window times must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("window must end after it starts")

    def overlaps(self, other: Window) -> bool:
        return self.start < other.end and other.start < self.end

    @cached_property
    def local_start(self) -> datetime:
        return self.start.astimezone(LOCAL_TZ)

    @cached_property
    def local_end(self) -> datetime:
        return self.end.astimezone(LOCAL_TZ)

    @cached_property
    def local_span(self) -> tuple[str, int, int] | None:
        """(weekday, start minute, end minute) in local time; None if it runs past midnight."""
        start, end = self.local_start, self.local_end
        start_min = start.hour * 60 + start.minute
        end_min = end.hour * 60 + end.minute + (1 if end.second or end.microsecond else 0)
        if end.date() == start.date() + timedelta(days=1) and end_min == 0:
            end_min = MINUTES_PER_DAY  # ends exactly at midnight
        elif end.date() != start.date():
            return None
        return DAYS[start.weekday()], start_min, end_min

    @cached_property
    def local_dates(self) -> tuple[date, date]:
        """(first, last) local day the window touches; one ending at midnight ends the day before."""
        return self.local_start.date(), (self.end - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()

    @cached_property
    def iso_week(self) -> tuple[int, int]:
        """(ISO year, ISO week) of the local start: the week a task counts in."""
        year, week, _ = self.local_start.isocalendar()
        return year, week

    @cached_property
    def week_and_instants(self) -> tuple[int, int, int]:
        """(ISO week as year * 100 + week, start, end in whole microseconds since 1970): the
        window as the solver's arrays hold it; kept, as a volunteer's bookings are read again
        for every solve."""
        year, week = self.iso_week
        return year * 100 + week, micros(self.start), micros(self.end)


def micros(moment: datetime) -> int:
    """Whole microseconds since 1970: exact, so window comparisons are the datetime ones."""
    return (moment - EPOCH) // MICROSECOND


VOG_VALID_YEARS = 3  # a VOG older than this no longer counts (per region: SolverConfig)


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, order=True)
class AwayPeriod:
    """Days a volunteer is away (holidays, illness), both inclusive, in local dates."""

    start: date
    end: date

    def covers(self, first: date, last: date) -> bool:
        """True if any day from ``first`` to ``last`` lies in the period."""
        return self.start <= last and first <= self.end


@dataclass(frozen=True)
class Volunteer:
    id: str
    kamer_id: str
    region: str
    home: Point
    skills: frozenset[str]
    languages: frozenset[str]
    has_car: bool
    vog_checked_on: date | None
    availability: tuple[WeeklySlot, ...]
    max_tasks_per_week: int
    max_distance_km: float
    version: int = 0
    away: tuple[AwayPeriod, ...] = ()
    active: bool = True  # False: paused or stopped; never proposed
    vog_valid_years: int = VOG_VALID_YEARS  # the region's rule, set when the pool is read

    @cached_property
    def vog_valid_until(self) -> date | None:
        """The last day the VOG counts (it is then exactly this many years old), if any."""
        if self.vog_checked_on is None:
            return None
        return years_after(self.vog_checked_on, self.vog_valid_years)

    @cached_property
    def free_by_day(self) -> dict[str, tuple[WeeklySlot, ...]]:
        """Availability per day, touching or overlapping slots joined (09-12 + 12-15 = 09-15).

        Read-only: computed once, a volunteer's week is checked against many requests.
        """
        return merge_slots(self.availability)


@dataclass(frozen=True)
class OpenRequest:
    id: str
    kamer_id: str
    region: str
    category: str
    skills: frozenset[str]
    needs_vog: bool
    needs_language: str | None
    window: Window
    location: Point
    urgency: str = "normal"
    recurrence: str | None = None
    # Volunteers who declined or were rejected for this request are not asked again.
    excluded_volunteers: frozenset[str] = frozenset()
    # A recurring request may follow an earlier one of the same series; whoever holds
    # that one is preferred (continuity).
    follows: str | None = None
    previous_volunteer: str | None = None

    @property
    def required_skills(self) -> frozenset[str]:
        return self.skills | {self.category}


@dataclass(frozen=True)
class Booking:
    """An active proposal or assignment: it uses a volunteer's time and weekly capacity."""

    volunteer_id: str
    request_id: str
    window: Window
    # Not a task yet: the next occurrence of a weekly series this volunteer helps, held
    # for them until its request arrives (``series.reservations``).
    reserved: bool = False


@dataclass(frozen=True)
class Proposal:
    request_id: str
    volunteer_id: str
    distance_km: float
    explanation: dict


@dataclass(frozen=True)
class Unmatched:
    request_id: str
    reasons: dict[str, int]  # reason code -> volunteers it excluded
    considered: int  # volunteers considered


@dataclass(frozen=True)
class Assignment:
    """The answer of one solver run.

    ``optimal`` says whether ``total_cost`` is proven minimal: it is when it equals
    ``lower_bound``, the cost of the same flow without the rule that one volunteer's
    tasks may not overlap (no answer can cost less). When overlapping tasks had to be
    pulled apart by re-solving, or the time limit cut that short, ``note`` says so and
    how far from the bound the answer is. It is never left unsaid.
    """

    proposals: list[Proposal] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    total_cost: int = 0
    optimal: bool = True
    lower_bound: int = 0
    note: str = ""


class CapacityConflict(Exception):
    """Another process booked this volunteer since we read them: retry on fresh data."""


@dataclass(frozen=True)
class StoredProposal:
    assignment_id: str
    request_id: str
    volunteer_id: str
    kamer_id: str
    region: str
    distance_km: float
    explanation: dict
    status: str
