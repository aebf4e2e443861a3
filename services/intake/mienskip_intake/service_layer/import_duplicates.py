"""Likely duplicates in an imported sheet, shown on its preview to skip (the default),
merge (volunteers) or import anyway: for a sheet of volunteers the kamer's own
volunteers (:func:`domain.volunteers.same_person`), for a sheet of open requests the
kamer's open requests (:func:`domain.request_duplicates.same_request`), and in both the
rows above in the same sheet. Never another kamer's records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ..domain.model import HelpRequest
from ..domain.request_duplicates import RequestFacts, address_key, likely_the_same, point_of
from ..domain.volunteers import name_key, same_person
from .unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Match:
    """A volunteer the kamer already has whom a row likely is."""

    volunteer_id: str
    name: str


@dataclass(frozen=True)
class RequestMatch:
    """An open request of the kamer that a row is likely the same as."""

    request_id: str
    name: str
    start: datetime
    end: datetime


def volunteer_duplicates(uow: UnitOfWork, kamer_id: str, rows: Sequence) -> list:
    """The preview's rows with the kamer's volunteers each likely is, and the row above it likely is."""
    seen: dict[str, list] = {}
    found = []
    for row in rows:
        name = str(row.shown.get("name") or "")
        key = name_key(name)
        if not key:
            found.append(row)
            continue
        phone, email = row.shown.get("phone"), row.shown.get("email")
        matches = tuple(Match(other.id, other.name) for other in uow.volunteers.named_alike(kamer_id, name)
                        if same_person(name, phone, email, other))
        earlier = next((above.number for above in seen.get(key, ())
                        if same_person(name, phone, email, _AsVolunteer(above.shown))), None)
        seen.setdefault(key, []).append(row)
        found.append(replace(row, matches=matches, same_as_row=earlier))
    return found


def request_duplicates(uow: UnitOfWork, kamer_id: str, rows: Sequence) -> list:
    """The preview's rows with the kamer's open requests each is likely the same as, and
    the row above it likely is. A row with problems is not compared (it imports nothing)."""
    stored = {request.id: request for request in uow.requests.open_of_kamer(kamer_id)}
    existing = [(request.id, _stored_facts(request)) for request in stored.values()]
    above: list[tuple[int, RequestFacts]] = []
    found = []
    for row in rows:
        facts = _row_facts(row)
        if facts is None:
            found.append(row)
            continue
        matches = tuple(RequestMatch(request_id, stored[request_id].resident_name or "",
                                     stored[request_id].window_start, stored[request_id].window_end)
                        for request_id in likely_the_same(facts, existing))
        earlier = next(iter(likely_the_same(facts, above)), None)
        above.append((row.number, facts))
        found.append(replace(row, request_matches=matches, same_as_row=earlier))
    return found


def _stored_facts(request: HelpRequest) -> RequestFacts:
    return RequestFacts(name=request.resident_name, phone=request.resident_phone,
                        address=address_key(request.exact_lookup) or address_key(request.resident_address),
                        point=point_of(request.lat, request.lon, request.location_precision),
                        start=request.window_start, end=request.window_end, weekly=request.recurrence == "weekly")


def _row_facts(row) -> RequestFacts | None:
    data: Mapping[str, Any] | None = row.data
    if data is None:
        return None
    resident = data.get("resident") or {}
    placement = row.placement
    return RequestFacts(name=resident.get("name"), phone=resident.get("phone"),
                        address=address_key(data.get("address")) or address_key(resident.get("address")),
                        point=point_of(placement.lat, placement.lon, placement.precision.value) if placement else None,
                        start=data["window"]["start"], end=data["window"]["end"],
                        weekly=data.get("recurrence") == "weekly")


@dataclass(frozen=True)
class _AsVolunteer:
    """An earlier row, as :func:`same_person` reads a volunteer (one rule for both)."""

    shown: Mapping[str, Any]
    erased_at: None = None

    @property
    def name(self) -> str:
        return str(self.shown.get("name") or "")

    @property
    def phone(self) -> str | None:
        return self.shown.get("phone")

    @property
    def email(self) -> str | None:
        return self.shown.get("email")
