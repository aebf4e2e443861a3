"""Weekly series: the next occurrence a volunteer holds before its request arrives.

A series keeps its volunteer whatever the batching: when the requests of a week are
solved in several batches, an earlier batch must not take the time or the weekly
capacity that the series' next request will need. So whoever holds the latest request
of a weekly series (an active proposal, approved or accepted included; not after a
cancellation, a reject or a decline) has its next occurrence -- the same local time
seven days on -- counted as a busy slot and a task in that week's load
(:class:`.model.Booking` with ``reserved``) while *other* requests are solved. When the
follow-up arrives it replaces the reservation: the repository only reports series whose
latest request has no follow-up yet, and the follow-up then prefers its volunteer by
the solver's continuity tier.

A reservation is only made where the volunteer could take the follow-up by every hard
rule (region, skills, availability that day, distance, and any rule added later):
a volunteer who left the pool, or can no longer help at that time, holds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, timedelta

from .facts import travel_km
from .model import Booking, OpenRequest, Volunteer, Window
from .rules import RuleContext, first_failing_rule

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class HeldSeries:
    """The latest request of a weekly series, and the volunteer whose proposal holds it."""

    latest: OpenRequest
    volunteer_id: str


def next_occurrence(window: Window) -> Window:
    """The same local wall-clock time a week later (summer time may start or end between)."""
    # aware arithmetic in Europe/Amsterdam adds to the wall-clock time
    return Window((window.local_start + WEEK).astimezone(UTC), (window.local_end + WEEK).astimezone(UTC))


def reservations(held: Iterable[HeldSeries], volunteers: Sequence[Volunteer], road_factor: float,
                 solving: Sequence[OpenRequest] = ()) -> list[Booking]:
    """One reserved booking per held series whose volunteer could take its next request.

    ``solving`` are the requests about to be solved: a series one of them follows is
    not reserved (its follow-up is here, and competes for its volunteer itself).
    """
    pool = {v.id: v for v in volunteers}
    followed = {r.follows for r in solving if r.follows}
    out = []
    for series in held:
        volunteer = pool.get(series.volunteer_id)
        if volunteer is None or series.latest.id in followed:
            continue
        follow_up = replace(series.latest, id=f"{series.latest.id}/next", window=next_occurrence(series.latest.window),
                            excluded_volunteers=frozenset(), follows=series.latest.id,
                            previous_volunteer=volunteer.id)
        ctx = RuleContext(travel_km(follow_up, volunteer, road_factor))
        if first_failing_rule(follow_up, volunteer, ctx) is None:
            out.append(Booking(volunteer.id, follow_up.id, follow_up.window, reserved=True))
    return out
