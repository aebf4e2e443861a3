"""Use cases about a volunteer once registered: change them (fields, away periods, pause
or resume), stop volunteering, list them; and what every change announces.

Each change is one transaction: the record with one more ``revision``, the audit entry,
``volunteer.updated`` (the whole matching-relevant state: matching keeps only the newest
revision), ``contact.volunteer`` when contact details changed (for notify), and the end of
offers the volunteer can no longer keep, as a decline would (see
:func:`.workflow.release_volunteer_in`). Registration is in :mod:`.handlers`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event

from ..domain import commands
from ..domain.addresses import Precision
from ..domain.model import (
    AssignmentStatus,
    Principal,
    Role,
    Volunteer,
    coarse,
    first_name,
    first_name_or_dash,
    neighbourhood_of,
)
from ..domain.places import Place, nearest_place
from ..domain.volunteers import (
    CONTACT_FIELDS,
    LOCAL_TZ,
    Release,
    away_from_json,
    away_periods,
    is_away,
    name_key,
    same_person,
    vog_expires_soon,
    vog_valid_until,
    volunteer_status,
)
from . import geocoding, workflow
from .common import NotFound, audit
from .geocoding import AddressLookup
from .unit_of_work import UnitOfWork

# What a volunteer may change themselves, through their link.
OWN_FIELDS = frozenset({"availability", "away"})
# Offers a pause or an away period ends; a task already accepted stays (they said yes).
OFFERS = (AssignmentStatus.PROPOSED.value, AssignmentStatus.APPROVED.value)


class DuplicateVolunteer(Exception):
    """The kamer already has this volunteer (same name, same phone or e-mail): a 409 that
    names them, unless the caller says ``allow_duplicate``."""

    def __init__(self, existing_id: str):
        super().__init__(f"likely the same person as volunteer {existing_id}")
        self.existing_id = existing_id


# -- what a volunteer's record announces ------------------------------------------------------

def state_payload(volunteer: Volunteer) -> dict[str, Any]:
    """``volunteer.registered`` / ``volunteer.updated``: matching's facts, the home to ~100 m."""
    return {
        "volunteer_id": volunteer.id, "kamer_id": volunteer.kamer_id, "region": volunteer.region,
        "home": coarse(volunteer.home_lat, volunteer.home_lon), "languages": volunteer.languages,
        "skills": volunteer.skills, "has_car": volunteer.has_car, "vog_checked_on": volunteer.vog_checked_on,
        "availability": volunteer.availability, "max_tasks_per_week": volunteer.max_tasks_per_week,
        "max_distance_km": volunteer.max_distance_km,
        "away": [{"start": p.start, "end": p.end} for p in away_from_json(volunteer.away)],
        "active": volunteer.active, "revision": volunteer.revision,
    }


def announce_state(uow: UnitOfWork, volunteer: Volunteer, event_type: str, correlation_id: str) -> None:
    uow.publish(new_event(event_type, state_payload(volunteer), correlation_id=correlation_id,
                          kamer_id=volunteer.kamer_id))


def announce_contact(uow: UnitOfWork, volunteer: Volunteer, correlation_id: str) -> None:
    """For notify only (the one place contact details travel); the newest wins there."""
    uow.publish(new_event("contact.volunteer", {
        "volunteer_id": volunteer.id, "kamer_id": volunteer.kamer_id, "first_name": first_name(volunteer.name) or "",
        "email": volunteer.email, "phone": volunteer.phone, "language": volunteer.language,
    }, correlation_id=correlation_id, kamer_id=volunteer.kamer_id))


def with_home_placed(data: dict[str, Any], addresses: AddressLookup | None) -> dict[str, Any]:
    """``data`` with ``home`` ({lat, lon}) and ``home_precision``: as typed, or placed from
    ``home_address`` (an unknown one is an :class:`InvalidRequest` on
    ``home_address.postcode``). A volunteer placed on the postcode area's centre while the
    outside geocoder is away keeps it, marked ``postcode4``, with ``home_exact_lookup``: the
    address the exact-lookup worker looks up again later (:mod:`.locations`)."""
    if data.get("home_address") is None:
        return {**data, "home_precision": Precision.GIVEN.value} if data.get("home") is not None else data
    placed = geocoding.place(data, addresses, point="home", address="home_address")
    rest = {name: value for name, value in data.items() if name != "home_address"}
    return {**rest, "home": {"lat": placed.lat, "lon": placed.lon}, "home_precision": placed.precision.value,
            "home_exact_lookup": placed.exact_lookup}


def check_not_duplicate(uow: UnitOfWork, kamer_id: str, data: dict[str, Any]) -> None:
    """Refuse a registration of someone the kamer already has (:class:`DuplicateVolunteer`)."""
    if data.get("allow_duplicate"):
        return
    for other in uow.volunteers.named_alike(kamer_id, data["name"]):
        if same_person(data["name"], data.get("phone"), data.get("email"), other):
            raise DuplicateVolunteer(other.id)


# -- changing a volunteer ----------------------------------------------------------------------

def _load_for_change(uow: UnitOfWork, principal: Principal, volunteer_id: str) -> Volunteer:
    """The volunteer, locked; 404 if missing, erased or not the caller's (a volunteer's link
    reaches only its own volunteer)."""
    volunteer = uow.volunteers.get(volunteer_id, lock=True)
    if volunteer is None or volunteer.erased_at is not None:
        raise NotFound(volunteer_id)
    if principal.role is Role.VOLUNTEER:
        if principal.volunteer_id != volunteer.id:
            raise NotFound(volunteer_id)
    elif not principal.may_see_kamer(volunteer.kamer_id, volunteer.region):
        raise NotFound(volunteer_id)
    return volunteer


def changed(volunteer: Volunteer, changes: dict[str, Any], now: datetime) -> Volunteer:
    """The volunteer with ``changes`` (the patch schema's names) applied; checks away periods."""
    values: dict[str, Any] = {}
    for name in ("name", "email", "phone", "has_car", "vog_checked_on", "availability", "max_tasks_per_week",
                 "max_distance_km"):
        if name in changes:
            values[name] = changes[name]
    if changes.get("home") is not None:
        values.update(home_lat=changes["home"]["lat"], home_lon=changes["home"]["lon"],
                      home_precision=changes.get("home_precision", Precision.GIVEN.value),
                      home_exact_lookup=changes.get("home_exact_lookup"))  # a new home: an old lookup is moot
    if "skills" in changes:
        values["skills"] = list(dict.fromkeys(changes["skills"]))
    if "language" in changes or "languages" in changes:
        language = changes.get("language", volunteer.language)
        values.update(language=language, languages=list(dict.fromkeys(
            [language, *changes.get("languages", volunteer.languages)])))
    if "away" in changes:
        today = now.astimezone(LOCAL_TZ).date()
        values["away"] = [p.as_json() for p in away_periods(changes["away"], today)]
    if "active" in changes:
        values["active"] = changes["active"]
        if changes["active"]:
            values["stopped_at"] = None  # resumed: no longer due for erasure
    return replace(volunteer, **values)


def update_volunteer(cmd: commands.UpdateVolunteer, uow: UnitOfWork,
                     addresses: AddressLookup | None = None) -> Volunteer:
    """Apply a change (a new ``home_address`` placed by ``addresses`` first); a volunteer's
    own link may change only their availability and away periods (PermissionError
    otherwise). A change that changes nothing writes nothing."""
    if cmd.principal.role is Role.VOLUNTEER and not set(cmd.changes) <= OWN_FIELDS:
        raise PermissionError("a volunteer changes only their availability and away periods")
    changes = with_home_placed(cmd.changes, addresses)
    with uow:
        after = change_volunteer_in(uow, cmd.principal, cmd.volunteer_id, changes, cmd.correlation_id)
        uow.commit()
        return after


def change_volunteer_in(uow: UnitOfWork, principal: Principal, volunteer_id: str, changes: dict[str, Any],
                        correlation_id: str | None) -> Volunteer:
    """Inside an open unit of work: the change, saved, audited and announced, and the
    offers it ends (an update or an import's merge commits)."""
    before = _load_for_change(uow, principal, volunteer_id)
    now = utcnow()
    after = changed(before, changes, now)
    if after == before:
        return before
    save_and_announce(uow, principal, before, after, now, "update", correlation_id)
    if before.active and not after.active:
        workflow.release_volunteer_in(uow, after.id, principal, why=Release.PAUSED.value, holding=OFFERS)
    if after.active and after.away != before.away:
        workflow.release_volunteer_in(uow, after.id, principal, why=Release.AWAY.value, holding=OFFERS,
                                      only=lambda r: is_away(after, r.window_start, r.window_end))
    return uow.volunteers.get(after.id) or after


def stop_volunteering(cmd: commands.StopVolunteering, uow: UnitOfWork) -> Volunteer:
    """They stop: never proposed again, every open offer and task ends as a decline would
    (within 48 hours of a task the coordinator decides), and retention erases them later."""
    with uow:
        before = _load_for_change(uow, cmd.principal, cmd.volunteer_id)
        if before.stopped_at is not None:
            return before  # stopped before: nothing more to do
        now = utcnow()
        after = replace(before, active=False, stopped_at=now)
        save_and_announce(uow, cmd.principal, before, after, now, "stop", cmd.correlation_id)
        workflow.release_volunteer_in(uow, after.id, cmd.principal, why=Release.STOPPED.value)
        uow.commit()
        return uow.volunteers.get(after.id) or after


def save_and_announce(uow: UnitOfWork, principal: Principal, before: Volunteer, after: Volunteer, now: datetime,
                       action: str, correlation_id: str | None) -> None:
    after = replace(after, revision=before.revision + 1, updated_at=now)
    uow.volunteers.save(after)
    audit(uow, principal, action, "volunteer", after.id)
    correlation = correlation_id or after.id
    announce_state(uow, after, "volunteer.updated", correlation)
    if any(getattr(before, name) != getattr(after, name) for name in CONTACT_FIELDS):
        announce_contact(uow, after, correlation)


# -- listing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VolunteerPage:
    items: list[Volunteer]
    next: str | None


def _encode_cursor(volunteer: Volunteer) -> str:
    return base64.urlsafe_b64encode(json.dumps([volunteer.name, volunteer.id]).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        name, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(name), str(last_id)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a cursor from this API") from exc


def list_volunteers(cmd: commands.ListVolunteers, uow: UnitOfWork) -> VolunteerPage:
    """A page of the volunteers the caller may see, by name; each read is audited. A cursor
    not from this API is a ``ValueError``."""
    if cmd.principal.role not in (Role.KAMER, Role.COORDINATOR):
        raise PermissionError("only kamer staff and coordinators list volunteers")
    after = _decode_cursor(cmd.cursor) if cmd.cursor else None
    q = name_key(cmd.q) if cmd.q else None
    with uow:
        rows = uow.volunteers.page(cmd.principal, q=q, status=cmd.status, limit=cmd.limit, after=after)
        items = rows[:cmd.limit]
        for volunteer in items:
            audit(uow, cmd.principal, "list", "volunteer", volunteer.id)
        uow.commit()
    return VolunteerPage(items, _encode_cursor(items[-1]) if len(rows) > cmd.limit else None)


def vog_expiring(principal: Principal, uow: UnitOfWork, valid_years_in: Callable[[str], int],
                 today: date) -> list[tuple[Volunteer, date]]:
    """Active volunteers whose VOG stops counting within two months (the region's period),
    with the last day it counts, soonest first; each read is audited."""
    if principal.role not in (Role.KAMER, Role.COORDINATOR):
        raise PermissionError("only kamer staff and coordinators list volunteers")
    with uow:
        soon = []
        for volunteer in uow.volunteers.with_vog(principal):
            years = valid_years_in(volunteer.region)
            if vog_expires_soon(volunteer.vog_checked_on, years, today):
                soon.append((volunteer, vog_valid_until(volunteer.vog_checked_on, years)))
                audit(uow, principal, "list", "volunteer", volunteer.id)
        uow.commit()
    return sorted(soon, key=lambda pair: (pair[1], pair[0].id))


# -- the volunteer's own page ------------------------------------------------------------------

UPCOMING = (AssignmentStatus.APPROVED.value, AssignmentStatus.ACCEPTED.value)


def own_page(cmd: commands.ShowOwnPage, uow: UnitOfWork, places: Sequence[Place]) -> dict[str, Any] | None:
    """What a volunteer's link shows besides its task: their tasks to come (category, time,
    place, the resident's first name; the address only on their page of a task they
    accepted), their weekly availability, away periods and status, and whom to call at the
    kamer. None for a volunteer erased (the link no longer leads anywhere)."""
    principal = cmd.principal
    with uow:
        volunteer = uow.volunteers.get(principal.volunteer_id)
        if volunteer is None or volunteer.erased_at is not None:
            return None
        kamer = uow.kamers.get(volunteer.kamer_id)
        now = utcnow()
        upcoming = []
        for assignment_id, request_id in uow.requests.assignments_of_volunteer(volunteer.id, UPCOMING):
            request = uow.requests.get(request_id)
            if request is None or request.window_end <= now:
                continue
            upcoming.append({"assignment_id": assignment_id, "category": request.category,
                             "window_start": request.window_start, "window_end": request.window_end,
                             "status": uow.requests.assignment(assignment_id).status,
                             "first_name": first_name_or_dash(request.resident_name),
                             "place": neighbourhood_of(request.resident_address)
                             or nearest_place(places, request.lat, request.lon)})
    return {"volunteer": volunteer, "status": volunteer_status(volunteer),
            "upcoming": sorted(upcoming, key=lambda task: task["window_start"]),
            "kamer_name": kamer.name if kamer else None, "kamer_phone": kamer.phone if kamer else None}
