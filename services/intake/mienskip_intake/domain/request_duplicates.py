"""Likely the same resident's request twice: the rule an import of open requests flags
rows by, against the kamer's open requests and the rows above in the sheet. Stdlib only.

Two requests are likely one when the resident's name is the same (case and spaces
aside: :func:`.volunteers.name_key`), and the phone number or the address is the same,
and their times meet: the windows overlap (or are equal), or one of them is weekly and
the other falls in its weekly slot (the same weekday, overlapping hours, in Dutch time).
An address is the same when the postcode, house number and addition are (read from the
sheet's columns, or from a stored request's address text), or, for two places typed or
found exactly, the same point to about 10 m; two postcode-area centres never are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .addresses import AddressError, DutchAddress, Precision
from .volunteers import LOCAL_TZ, name_key, phone_key

_HOUSE_AND_POSTCODE = re.compile(
    r"\b(\d{1,5})(?:\s*-\s*([A-Za-z0-9]{1,4})|\s*([A-Za-z]{1,4}))?\s*,?\s+(\d{4})\s?([A-Za-z]{2})\b")
POINT_DECIMALS = 4  # about 10 m


def address_key(address: DutchAddress | Mapping[str, Any] | str | None) -> str | None:
    """``9001AB 3 A``: a Dutch address as a key, from the parts or from an address text."""
    if not address:
        return None
    if isinstance(address, str):
        found = _HOUSE_AND_POSTCODE.search(address)
        if found is None:
            return None
        number, dashed, lettered, digits, letters = found.groups()
        return f"{digits}{letters.upper()} {int(number)} {(dashed or lettered or '').upper()}".rstrip()
    try:
        dutch = address if isinstance(address, DutchAddress) else DutchAddress.parse(
            address["postcode"], address["house_number"], address.get("addition"))
    except (AddressError, KeyError, TypeError, ValueError):
        return None
    return f"{dutch.postcode.replace(' ', '')} {int(dutch.house_number)} {(dutch.addition or '').upper()}".rstrip()


@dataclass(frozen=True)
class RequestFacts:
    """What the rule compares of a request (stored, or a row of a sheet)."""

    name: str | None
    phone: str | None
    address: str | None  # :func:`address_key`
    point: tuple[float, float] | None  # a place typed or found exactly; None for an area's centre
    start: datetime
    end: datetime
    weekly: bool = False


def point_of(lat: float, lon: float, precision: str) -> tuple[float, float] | None:
    if precision == Precision.POSTCODE4.value:
        return None
    return round(lat, POINT_DECIMALS), round(lon, POINT_DECIMALS)


def _same_weekly_slot(weekly: RequestFacts, other: RequestFacts) -> bool:
    a_start, a_end = weekly.start.astimezone(LOCAL_TZ), weekly.end.astimezone(LOCAL_TZ)
    b_start, b_end = other.start.astimezone(LOCAL_TZ), other.end.astimezone(LOCAL_TZ)
    if a_start.weekday() != b_start.weekday():
        return False
    return a_start.time() < b_end.time() and b_start.time() < a_end.time()


def times_meet(a: RequestFacts, b: RequestFacts) -> bool:
    if a.start < b.end and b.start < a.end:
        return True
    return (a.weekly and _same_weekly_slot(a, b)) or (b.weekly and _same_weekly_slot(b, a))


def same_request(a: RequestFacts, b: RequestFacts) -> bool:
    """Likely the same resident asking for the same time (see the module's docstring)."""
    if not name_key(a.name) or name_key(a.name) != name_key(b.name):
        return False
    same_phone = phone_key(a.phone) is not None and phone_key(a.phone) == phone_key(b.phone)
    same_address = (a.address is not None and a.address == b.address) or (
        a.point is not None and a.point == b.point)
    return (same_phone or same_address) and times_meet(a, b)


def likely_the_same(row: RequestFacts, others: Iterable[tuple[str, RequestFacts]]) -> list[str]:
    """The ids (of ``others``: ``(id, facts)``) that ``row`` is likely the same request as."""
    return [other_id for other_id, facts in others if same_request(row, facts)]
