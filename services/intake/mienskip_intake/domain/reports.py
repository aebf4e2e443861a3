"""The monthly report the municipality asks each kamer for (issue 17): plain rows in, the
month's figures out, counts only. Stdlib only.

A month is a calendar month in Europe/Amsterdam. Anonymous: a count of 1 to 4 reads
``"< 5"`` (0 stays 0), and so does a median of fewer than 5 cases, and the hours and km
of fewer than 5 visit records -- in every output (:func:`suppressed`).
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SMALL = "< 5"  # what a count of 1 to 4 reads
FEWEST_SHOWN = 5
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")

# What became of a request. Today a request is helped by a volunteer or by nobody; the
# request's ``helper`` (volunteer | professional | both, issue 13) adds "professional" and
# "both" in :func:`outcome`, the one place that decides it.
OUTCOMES = ("volunteer", "professional", "both", "none")
IN_PROGRESS = "open"  # no outcome yet: still on its way


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str | None) -> Month:
        """``YYYY-MM`` (2000 to 2099), else ``ValueError``."""
        found = _MONTH.match(text or "")
        if not found or not 2000 <= int(found[1]) <= 2099 or not 1 <= int(found[2]) <= 12:
            raise ValueError("must be a month as YYYY-MM")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, at: datetime) -> Month:
        local = at.astimezone(AMSTERDAM)
        return cls(local.year, local.month)

    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    @property
    def start(self) -> datetime:
        """Midnight on the 1st in Amsterdam, in UTC."""
        return datetime(self.year, self.month, 1, tzinfo=AMSTERDAM).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return self.next().start

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# -- the rows a report is made of (read by adapters.reports) ------------------------------------

@dataclass(frozen=True)
class RequestRow:
    """A request received in the month."""

    id: str
    kamer_id: str
    category: str
    status: str
    created_at: datetime
    helper: str = "volunteer"  # the request's helper (issue 13's column): volunteer | professional | both
    professional: bool = False  # a care provider accepted its referral


@dataclass(frozen=True)
class StepRow:
    """A status step of a request's history (a request received in the month, or one with
    a step in the month)."""

    request_id: str
    kamer_id: str
    at: datetime
    status: str


@dataclass(frozen=True)
class VisitRow:
    """A visit record of a task in the month (``intake_visits``)."""

    kamer_id: str
    volunteer_id: str
    done: bool
    hours: float | None
    km: float | None


@dataclass(frozen=True)
class MonthRows:
    month: Month
    requests: Sequence[RequestRow] = ()
    steps: Sequence[StepRow] = ()
    visits: Sequence[VisitRow] = ()
    accepted_tasks: Sequence[tuple[str, str]] = ()  # (kamer_id, volunteer_id): accepted, task in the month
    new_volunteers: Sequence[str] = ()  # kamer_id of each volunteer registered in the month

    def of_kamer(self, kamer_id: str) -> MonthRows:
        return MonthRows(self.month, [r for r in self.requests if r.kamer_id == kamer_id],
                         [s for s in self.steps if s.kamer_id == kamer_id],
                         [v for v in self.visits if v.kamer_id == kamer_id],
                         [a for a in self.accepted_tasks if a[0] == kamer_id],
                         [k for k in self.new_volunteers if k == kamer_id])


# -- the figures -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """One kamer's (or the region's) month, before "< 5"."""

    requests: int
    by_category: dict[str, int]
    outcomes: dict[str, int]  # OUTCOMES, and IN_PROGRESS
    hours_to_match: list[float] = field(repr=False)  # received -> proposed, one per request
    hours_to_answer: list[float] = field(repr=False)  # offered -> accepted or declined, one per answer
    visits_recorded: int
    visits_done: int
    hours: float
    km: float
    volunteers_active: int
    volunteers_new: int
    declines: int  # an offer declined before accepting it
    back_outs: int  # declined after accepting


def outcome(status: str, steps: Sequence[StepRow], helper: str = "volunteer", professional: bool = False) -> str:
    """What became of one request: ``volunteer`` once a volunteer accepted it (and did not
    back out), ``professional`` once a care provider accepted its referral
    (``professional``: a provider accepted, issue 13), ``both`` for both, ``none`` when it
    ended unmatched or cancelled without either, else still open. ``steps`` are its status
    steps, oldest first; a "professional" request's status follows its referral, never a
    volunteer."""
    volunteer = helper != "professional" and (
        status in ("accepted", "completed")
        or (status == "cancelled" and [s.status for s in steps if s.status != "cancelled"][-1:] == ["accepted"]))
    if volunteer and professional:
        return "both"
    if volunteer or professional:
        return "volunteer" if volunteer else "professional"
    if status in ("unmatched", "cancelled"):
        return "none"
    return IN_PROGRESS


def _hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


def _by_request(steps: Iterable[StepRow]) -> dict[str, list[StepRow]]:
    out: dict[str, list[StepRow]] = {}
    for step in sorted(steps, key=lambda s: s.at):
        out.setdefault(step.request_id, []).append(step)
    return out


def figures(rows: MonthRows) -> Figures:
    """The month's figures of ``rows`` (one kamer's, or a region's)."""
    start, end = rows.month.start, rows.month.end
    stories = _by_request(rows.steps)
    outcomes: Counter = Counter({name: 0 for name in (*OUTCOMES, IN_PROGRESS)})
    to_match = []
    for request in rows.requests:
        story = stories.get(request.id, [])
        outcomes[outcome(request.status, story, request.helper, request.professional)] += 1
        proposed = next((s.at for s in story if s.status == "proposed"), None)
        if proposed is not None:
            to_match.append(_hours(request.created_at, proposed))
    to_answer, declines, back_outs = [], 0, 0
    for story in stories.values():
        proposed_at = approved_at = previous = None
        for step in story:
            if step.status == "proposed":
                proposed_at = step.at
            elif step.status == "approved":
                approved_at = step.at  # the offer goes to the volunteer once approved
            elif step.status in ("accepted", "declined") and previous in ("approved", "accepted"):
                if start <= step.at < end:
                    if step.status == "declined" and previous == "accepted":
                        back_outs += 1
                    else:
                        declines += step.status == "declined"
                        offered_at = approved_at or proposed_at
                        if offered_at is not None:
                            to_answer.append(_hours(offered_at, step.at))
                proposed_at = approved_at = None
            previous = step.status
    active = {volunteer for _, volunteer in rows.accepted_tasks} | {v.volunteer_id for v in rows.visits}
    return Figures(
        requests=len(rows.requests),
        by_category=dict(sorted(Counter(r.category for r in rows.requests).items())),
        outcomes=dict(outcomes),
        hours_to_match=to_match, hours_to_answer=to_answer,
        visits_recorded=len(rows.visits), visits_done=sum(1 for v in rows.visits if v.done),
        hours=round(sum(v.hours or 0 for v in rows.visits), 1), km=round(sum(v.km or 0 for v in rows.visits), 1),
        volunteers_active=len(active), volunteers_new=len(rows.new_volunteers),
        declines=declines, back_outs=back_outs)


# -- "< 5" ------------------------------------------------------------------------------------

def count(n: int) -> int | str:
    """A count as shown: 1 to 4 read ``"< 5"``; 0 stays 0."""
    return SMALL if 0 < n < FEWEST_SHOWN else n


def median(values: Sequence[float]) -> float | str | None:
    """Hours, one decimal; ``"< 5"`` from fewer than 5 cases; None from none."""
    if not values:
        return None
    if len(values) < FEWEST_SHOWN:
        return SMALL
    return round(statistics.median(values), 1)


def suppressed(f: Figures) -> dict[str, Any]:
    """What every output shows of ``f``: no count under 5, no median of fewer than 5
    cases, no hours or km of fewer than 5 visit records."""
    few_visits = 0 < f.visits_recorded < FEWEST_SHOWN
    return {
        "requests": count(f.requests),
        "by_category": {category: count(n) for category, n in f.by_category.items()},
        "outcomes": {name: count(n) for name, n in f.outcomes.items()},
        "median_hours_to_match": median(f.hours_to_match),
        "median_hours_to_answer": median(f.hours_to_answer),
        "visits_done": count(f.visits_done),
        "hours": SMALL if few_visits else f.hours,
        "km": SMALL if few_visits else f.km,
        "volunteers_active": count(f.volunteers_active),
        "volunteers_new": count(f.volunteers_new),
        "declines": count(f.declines),
        "back_outs": count(f.back_outs),
    }


def report(rows: MonthRows, kamers: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The whole report: the total of ``rows`` and one entry per kamer (``(id, name)``),
    each already suppressed. The total counts from the rows, never from shown cells."""
    return {"month": str(rows.month), "start": rows.month.start, "end": rows.month.end,
            "total": suppressed(figures(rows)),
            "kamers": [{"id": kamer_id, "name": name, **suppressed(figures(rows.of_kamer(kamer_id)))}
                       for kamer_id, name in kamers]}


# The report as a table (CSV, XLSX): one row per kamer and the total, these columns.
COLUMNS = ("requests", "outcomes.volunteer", "outcomes.none", "outcomes.open", "median_hours_to_match",
           "median_hours_to_answer", "visits_done", "hours", "km", "volunteers_active", "volunteers_new",
           "declines", "back_outs")


def table(shown: dict[str, Any], categories: Sequence[str]) -> list[list[Any]]:
    """Rows (without a header) of a :func:`report`: name, the :data:`COLUMNS`, then one
    column per category; the total last, named ``None`` (the caller words it)."""
    def row(name: str | None, part: dict[str, Any]) -> list[Any]:
        cells = [part[c.split(".")[0]][c.split(".")[1]] if "." in c else part[c] for c in COLUMNS]
        return [name, *cells, *(part["by_category"].get(category, 0) for category in categories)]

    return [*(row(kamer["name"], kamer) for kamer in shown["kamers"]), row(None, shown["total"])]
