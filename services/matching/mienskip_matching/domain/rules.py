"""Hard rules: a volunteer may take a request only if every rule passes.

Each rule returns ``None`` (passes) or its reason key. The order of
:data:`HARD_RULES` matters: an unmatched request reports, per volunteer, the *first*
rule that failed, so cheap and obvious rules come first ("3 volunteers have the
skill; 2 too far, 1 busy").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mienskip_shared.contracts.vocabulary import RULES

from .model import Booking, OpenRequest, Volunteer, WeeklySlot, Window


@dataclass(frozen=True)
class RuleContext:
    """Facts about one (request, volunteer) pair that the rules need."""

    distance_km: float  # estimated travel distance: great-circle x road factor
    bookings: Sequence[Booking] = ()  # the volunteer's active bookings


Rule = Callable[[OpenRequest, Volunteer, RuleContext], "str | None"]


def in_region(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return None if volunteer.region == request.region else "region"


def is_active(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return None if volunteer.active else "inactive"


def has_required_skills(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return None if request.required_skills <= volunteer.skills else "skills"


def has_car_for_transport(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return "transport" if "transport" in request.required_skills and not volunteer.has_car else None


def has_vog_when_needed(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    """A VOG counts until it is older than the region's period on the window's (local) day."""
    if not request.needs_vog:
        return None
    valid_until = volunteer.vog_valid_until
    return None if valid_until is not None and request.window.local_dates[0] <= valid_until else "vog"


def speaks_language_when_needed(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    if request.needs_language is None or request.needs_language in volunteer.languages:
        return None
    return "language"


def within_max_distance(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return None if ctx.distance_km <= volunteer.max_distance_km else "distance"


def available_for_window(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return None if covering_slot(volunteer, request.window) else "availability"


def not_away(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    first, last = request.window.local_dates
    return "away" if any(period.covers(first, last) for period in volunteer.away) else None


def has_capacity_left(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    tasks = [b for b in ctx.bookings if not b.reserved]
    return None if load_in_week(tasks, request) < volunteer.max_tasks_per_week else "capacity"


def has_no_overlapping_task(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    clash = any(not b.reserved and b.request_id != request.id and b.window.overlaps(request.window)
                for b in ctx.bookings)
    return "overlap" if clash else None


def not_reserved_for_series(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    """The next occurrence of a weekly series the volunteer helps is held for them: its
    time, and a task in its week's load (the capacity and overlap rules count tasks only)."""
    held = [b for b in ctx.bookings if b.reserved]
    if not held:
        return None
    full = load_in_week(ctx.bookings, request) >= volunteer.max_tasks_per_week
    clash = any(b.request_id != request.id and b.window.overlaps(request.window) for b in held)
    return "reserved_for_series" if full or clash else None


def not_excluded_before(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext) -> str | None:
    return "excluded" if volunteer.id in request.excluded_volunteers else None


HARD_RULES: tuple[Rule, ...] = (
    in_region,
    has_required_skills,
    is_active,
    has_car_for_transport,
    has_vog_when_needed,
    speaks_language_when_needed,
    within_max_distance,
    available_for_window,
    not_away,
    has_capacity_left,
    has_no_overlapping_task,
    not_reserved_for_series,
    not_excluded_before,
)

# The order reasons are counted and shown in: the rules as checked, then "taken" (passed
# every rule, but another request of the batch needed them). Words live with each reader.
REASON_ORDER = (*RULES, "taken")


def first_failing_rule(request: OpenRequest, volunteer: Volunteer, ctx: RuleContext,
                       rules: Sequence[Rule] = HARD_RULES) -> str | None:
    for rule in rules:
        reason = rule(request, volunteer, ctx)
        if reason is not None:
            return reason
    return None


def load_in_week(bookings: Sequence[Booking], request: OpenRequest) -> int:
    """Active bookings in the ISO week (local time) of the request's window, itself excluded."""
    week = request.window.iso_week
    return sum(1 for b in bookings if b.request_id != request.id and b.window.iso_week == week)


def covering_slot(volunteer: Volunteer, window: Window) -> WeeklySlot | None:
    """The (merged) weekly slot that holds the whole window in Amsterdam local time, if any.

    The window is converted with zoneinfo, so summer time is right: 07:00Z is 09:00
    in July and 08:00 in January. Windows past midnight fit no weekly slot.
    """
    span = window.local_span
    if span is None:
        return None
    day, start_min, end_min = span
    for slot in volunteer.free_by_day.get(day, ()):
        if slot.start <= start_min and end_min <= slot.end:
            return slot
    return None
