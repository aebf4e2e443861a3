"""After the task: the visit record and the mileage it pays back (issue 17). Stdlib only.

A visit is recorded once per assignment, only for a task the volunteer accepted and
whose time has come: done (hours, km and a note for the kamer, all optional) or not
done (then the reason is required). Km of done visits add up per volunteer per month
into mileage claims at the kamer's rate, kept in whole cents.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from .model import Assignment, AssignmentStatus, HelpRequest, InvalidRequest

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
MAX_HOURS = 24.0
MAX_KM = 1000.0
MAX_TEXT = 1000
DEFAULT_RATE_CENTS = 30  # Dutch volunteer lifts pay about €0.30 per km
DEFAULT_REMINDER_TIME = "18:00"
DEFAULT_FOLLOW_UP_DAYS = 3


class VisitRefused(Exception):
    """The visit cannot be recorded now (a 409 that changes nothing). ``why``:
    ``recorded`` (once only), ``not_accepted`` (``status``: the assignment's),
    ``too_early`` (the task has not started)."""

    def __init__(self, why: str, **params: str):
        super().__init__(f"visit {why}")
        self.why, self.params = why, params


class InvalidVisit(InvalidRequest):
    """A visit record that breaks a rule about its own fields (a 422 naming the field)."""


@dataclass(frozen=True)
class Visit:
    assignment_id: str
    request_id: str
    volunteer_id: str
    kamer_id: str
    window_start: datetime
    done: bool
    hours: float | None
    km: float | None
    note: str | None
    reason: str | None
    recorded_by: str
    recorded_at: datetime


def _in_range(field: str, value: float | None, top: float) -> None:
    if value is not None and not 0 <= value <= top:
        raise InvalidVisit(field, f"must be between 0 and {top:g}")


def record_visit(assignment: Assignment, request: HelpRequest, *, already_recorded: bool, now: datetime,
                 done: bool, hours: float | None = None, km: float | None = None, note: str | None = None,
                 reason: str | None = None, actor: str) -> Visit:
    """The visit of ``assignment`` (for ``request``) as ``actor`` records it at ``now``; refused (409) when
    recorded before, when the task is not accepted, or before it starts; invalid (422)
    when a field breaks the rules."""
    if already_recorded or assignment.status == AssignmentStatus.COMPLETED.value:
        raise VisitRefused("recorded")
    if assignment.status != AssignmentStatus.ACCEPTED.value:
        raise VisitRefused("not_accepted", status=assignment.status)
    if now < request.window_start:
        raise VisitRefused("too_early")
    note = (note or "").strip() or None
    reason = (reason or "").strip() or None
    if done:
        _in_range("hours", hours, MAX_HOURS)
        _in_range("km", km, MAX_KM)
        reason = None
    else:
        if reason is None:
            raise InvalidVisit("reason", "say why the visit did not happen")
        for field, value in (("hours", hours), ("km", km)):
            if value is not None:
                raise InvalidVisit(field, "only for a visit that was done")
    return Visit(assignment_id=assignment.id, request_id=request.id, volunteer_id=assignment.volunteer_id,
                 kamer_id=request.kamer_id, window_start=request.window_start, done=done, hours=hours, km=km, note=note,
                 reason=reason, recorded_by=actor, recorded_at=now)


def may_record(assignment_status: str, window_start: datetime, now: datetime, recorded: bool) -> bool:
    """Whether the volunteer's page asks "how did it go?" now."""
    return not recorded and assignment_status == AssignmentStatus.ACCEPTED.value and now >= window_start


# -- mileage --------------------------------------------------------------------------------

def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``YYYY-MM`` as the first instant of that month and of the next, Europe/Amsterdam, in UTC;
    ValueError if it is not a month."""
    if len(month) != 7 or month[4] != "-":
        raise ValueError("not a month: YYYY-MM")
    first = date(int(month[:4]), int(month[5:]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return tuple(datetime(d.year, d.month, 1, tzinfo=LOCAL_TZ).astimezone(UTC)  # type: ignore[return-value]
                 for d in (first, following))


def month_of(at: datetime) -> str:
    return at.astimezone(LOCAL_TZ).strftime("%Y-%m")


def amount_cents(km: float, rate_cents: int) -> int:
    """What ``km`` pay at ``rate_cents`` per km, rounded to the cent (half up)."""
    return int((Decimal(str(km)) * rate_cents).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class ClaimLine:
    """One line of a kamer's claims list: a volunteer's month, open (computed now) or
    approved (frozen: ``claim_id`` set)."""

    volunteer_id: str
    month: str
    km: float
    visits: int
    amount_cents: int
    rate_cents: int
    claim_id: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None
    paid_by: str | None = None
    paid_at: datetime | None = None
    difference: bool = False  # open, but part of the month was approved before: a new line

    @property
    def status(self) -> str:
        if self.claim_id is None:
            return "open"
        return "paid" if self.paid_at else "approved"


def open_lines(done_km: Iterable[tuple[str, float, int]], approved: Iterable[ClaimLine], month: str,
               rate_cents: int) -> list[ClaimLine]:
    """Per volunteer: the km (and visits) of their done visits this month not yet in an
    approved claim, at today's rate. ``done_km``: (volunteer id, km, visits) totals."""
    before: dict[str, tuple[float, int]] = {}
    for line in approved:
        km, visits = before.get(line.volunteer_id, (0.0, 0))
        before[line.volunteer_id] = (km + line.km, visits + line.visits)
    lines = []
    for volunteer_id, km, visits in done_km:
        km_before, visits_before = before.get(volunteer_id, (0.0, 0))
        open_km = round(km - km_before, 3)
        if open_km > 0:
            lines.append(ClaimLine(volunteer_id, month, open_km, max(visits - visits_before, 0),
                                   amount_cents(open_km, rate_cents), rate_cents, difference=volunteer_id in before))
    return lines
