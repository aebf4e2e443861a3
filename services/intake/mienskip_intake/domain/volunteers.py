"""What intake knows about a volunteer's time: away periods, pausing and stopping, a VOG
that ages, and whether a new registration is someone the kamer already has. Stdlib only.

Matching applies the same rules when it proposes (its ``rules.py``); intake applies them
to what was already offered when a volunteer's record changes, and to proposals that
crossed such a change on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from .model import InvalidRequest, Volunteer

LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
MAX_AWAY_PERIODS = 20
MAX_AWAY_DAYS = 366  # one period; longer is a stop, not an absence
AWAY_HORIZON = timedelta(days=2 * 366)  # how far ahead a period may start
VOG_SOON = timedelta(days=61)  # "expires within two months"


class Release(StrEnum):
    """Why a volunteer's open offers end without their own "no" (``assignment.declined``'s
    ``reason_code`` and the history's note code)."""

    PAUSED = "volunteer_paused"
    STOPPED = "volunteer_stopped"
    AWAY = "volunteer_away"


@dataclass(frozen=True, order=True)
class AwayPeriod:
    """Days away (holidays, illness), both inclusive, in local dates."""

    start: date
    end: date

    def covers(self, moment_from: datetime, moment_to: datetime) -> bool:
        """True if any local day of the window ``moment_from``-``moment_to`` lies in the period."""
        first = moment_from.astimezone(LOCAL_TZ).date()
        last = (moment_to - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
        return self.start <= last and first <= self.end

    def as_json(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def away_periods(given: Iterable[Mapping[str, Any]], today: date) -> tuple[AwayPeriod, ...]:
    """The periods a kamer or volunteer gave (``start``/``end`` dates), checked and sorted;
    periods already over are dropped (they can never matter again). A problem is an
    :class:`InvalidRequest` naming ``away.<n>.<field>``."""
    periods = []
    given = list(given)
    if len(given) > MAX_AWAY_PERIODS:
        raise InvalidRequest("away", f"at most {MAX_AWAY_PERIODS} periods")
    for n, period in enumerate(given):
        start, end = period["start"], period["end"]
        if end < start:
            raise InvalidRequest(f"away.{n}.to", "must not be before 'from'")
        if (end - start).days + 1 > MAX_AWAY_DAYS:
            raise InvalidRequest(f"away.{n}.to", f"a period is at most {MAX_AWAY_DAYS} days; pause the volunteer "
                                                 "instead")
        if start > today + AWAY_HORIZON:
            raise InvalidRequest(f"away.{n}.from", "lies more than two years ahead")
        if end >= today:
            periods.append(AwayPeriod(start, end))
    return tuple(sorted(set(periods)))


def away_from_json(stored: Iterable[Mapping[str, str]] | None) -> tuple[AwayPeriod, ...]:
    return tuple(AwayPeriod(date.fromisoformat(p["from"]), date.fromisoformat(p["to"])) for p in stored or ())


def is_away(volunteer: Volunteer, window_start: datetime, window_end: datetime) -> bool:
    return any(period.covers(window_start, window_end) for period in away_from_json(volunteer.away))


def why_not_available(volunteer: Volunteer, window_start: datetime, window_end: datetime) -> Release | None:
    """Why this volunteer may not keep an offer for this window any more, if so."""
    if not volunteer.active:
        return Release.STOPPED if volunteer.stopped_at is not None else Release.PAUSED
    if is_away(volunteer, window_start, window_end):
        return Release.AWAY
    return None


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def vog_valid_until(checked_on: date | None, valid_years: int) -> date | None:
    """The last day a VOG counts for requests that need one (then exactly ``valid_years`` old)."""
    return None if checked_on is None else years_after(checked_on, valid_years)


def vog_expires_soon(checked_on: date | None, valid_years: int, today: date) -> bool:
    """Still valid today, no longer within two months: time to ask for a new one."""
    until = vog_valid_until(checked_on, valid_years)
    return until is not None and today <= until < today + VOG_SOON


_NOT_DIGITS = re.compile(r"\D")


def phone_key(phone: str | None) -> str | None:
    """+31 6 1234 5678, 0612345678 and 06-12345678 are the same number: its last nine digits."""
    digits = _NOT_DIGITS.sub("", phone or "")
    return digits[-9:] if len(digits) >= 9 else (digits or None)


def name_key(name: str | None) -> str:
    return " ".join((name or "").split()).casefold()


def same_person(name: str, phone: str | None, email: str | None, other: Volunteer) -> bool:
    """A likely duplicate: the same name and the same phone number or e-mail address."""
    if other.erased_at is not None or name_key(name) != name_key(other.name):
        return False
    same_phone = phone_key(phone) is not None and phone_key(phone) == phone_key(other.phone)
    same_email = bool(email) and (email or "").strip().casefold() == (other.email or "").strip().casefold()
    return same_phone or same_email


# What a change may touch, and which fields reach matching or notify.
EDITABLE = ("name", "email", "phone", "language", "languages", "home_lat", "home_lon", "skills", "has_car",
            "vog_checked_on", "availability", "max_tasks_per_week", "max_distance_km", "away", "active")
CONTACT_FIELDS = ("name", "email", "phone", "language")


def volunteer_status(volunteer: Volunteer) -> str:
    """``active``, ``paused`` or ``stopped``: what a list filters on."""
    if volunteer.active:
        return "active"
    return "stopped" if volunteer.stopped_at is not None else "paused"
