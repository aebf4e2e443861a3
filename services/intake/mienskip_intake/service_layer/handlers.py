"""Intake's use cases for kamers, tokens, volunteers and requests: plain functions of
``(command, uow)``. Each is one transaction.

State change, outbox event and audit entry commit together, so a 202 means the request
and the event announcing it are both durably stored. The review workflow is in
:mod:`.workflow`, erasure and retention in :mod:`.privacy`, what other services
announce in :mod:`.events`.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope, new_event

from ..domain import commands
from ..domain.model import (
    AssignmentStatus,
    HelpRequest,
    IllegalTransition,
    InvalidRequest,
    Kamer,
    Note,
    Principal,
    Role,
    Status,
    Volunteer,
    check_follows,
    check_window,
    coarse,
    first_name,
    first_name_or_dash,
    neighbourhood_of,
    transition,
)
from ..domain.places import Place, nearest_place
from ..domain.volunteers import LOCAL_TZ, away_periods
from . import geocoding, referrals, volunteers
from .common import Conflict, NotFound, audit, new_id, record_history
from .geocoding import AddressLookup
from .unit_of_work import UnitOfWork

__all__ = ["Conflict", "IdempotencyKeyReused", "NotFound"]


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different body (API.md, 422)."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def body_fingerprint(raw_body: bytes) -> str:
    return hashlib.sha256(raw_body).hexdigest()


# -- kamers and tokens ---------------------------------------------------------------

def register_kamer(cmd: commands.RegisterKamer, uow: UnitOfWork) -> str:
    kamer = Kamer(id=new_id(), name=cmd.name, region=cmd.region, lat=cmd.lat, lon=cmd.lon, email=cmd.email,
                  webhook_url=cmd.webhook_url, language=cmd.language, created_at=utcnow(), phone=cmd.phone,
                  mileage_rate_cents=cmd.mileage_rate_cents, reminder_time=cmd.reminder_time,
                  follow_up_days=cmd.follow_up_days)
    with uow:
        uow.kamers.add(kamer)
        uow.publish(kamer_registered(kamer))
        uow.commit()
    return kamer.id


def kamer_registered(kamer: Kamer) -> Envelope:
    """``kamer.registered``: the kamer as notify knows it; sent again whenever its settings
    change (a newer event wins)."""
    return new_event("kamer.registered", {
        "kamer_id": kamer.id, "name": kamer.name, "region": kamer.region,
        "location": {"lat": kamer.lat, "lon": kamer.lon}, "email": kamer.email,
        "webhook_url": kamer.webhook_url, "language": kamer.language, "phone": kamer.phone,
        "reminder_time": kamer.reminder_time, "follow_up_days": kamer.follow_up_days,
    }, correlation_id=kamer.id, kamer_id=kamer.id)


def issue_token(cmd: commands.IssueToken, uow: UnitOfWork) -> tuple[str, str]:
    """A new random token; only its hash is stored, so it is shown exactly once."""
    if cmd.role is Role.KAMER and not cmd.kamer_id:
        raise ValueError("a kamer token needs a kamer")
    token = "msk_" + secrets.token_urlsafe(32)
    token_id = new_id()
    region = cmd.region
    with uow:
        if cmd.kamer_id is not None:
            kamer = uow.kamers.get(cmd.kamer_id)
            if kamer is None:
                raise NotFound(f"kamer {cmd.kamer_id}")
            region = region or kamer.region
        uow.tokens.add(token_id, hash_token(token), cmd.role, kamer_id=cmd.kamer_id, region=region,
                       label=cmd.label, at=utcnow())
        uow.commit()
    return token_id, token


def revoke_token(cmd: commands.RevokeToken, uow: UnitOfWork) -> bool:
    with uow:
        revoked = uow.tokens.revoke(cmd.token_id, utcnow())
        uow.web_sessions.end_for_token(cmd.token_id, utcnow())  # a page signed in with it: signed out now
        uow.commit()
    return revoked


def authenticate(token: str, uow: UnitOfWork) -> Principal | None:
    with uow:
        return uow.tokens.principal_for(hash_token(token))


def _kamer_of(uow: UnitOfWork, principal: Principal) -> Kamer:
    if principal.role is not Role.KAMER:
        raise PermissionError("only kamer staff register residents and volunteers")
    kamer = uow.kamers.get(principal.kamer_id)
    if kamer is None:
        raise LookupError(f"the token's kamer {principal.kamer_id} is gone")
    return kamer


# -- volunteers ----------------------------------------------------------------------------

def register_volunteer(cmd: commands.RegisterVolunteer, uow: UnitOfWork,
                       addresses: AddressLookup | None = None) -> Volunteer:
    """A new volunteer of the caller's kamer, their home typed or placed from its Dutch
    address by ``addresses`` (outside the transaction); someone the kamer already has
    (same name, same phone or e-mail) is a :class:`volunteers.DuplicateVolunteer` unless
    the body says ``allow_duplicate``."""
    data = volunteers.with_home_placed(cmd.data, addresses)
    with uow:
        kamer = _kamer_of(uow, cmd.principal)
        volunteers.check_not_duplicate(uow, kamer.id, data)
        volunteer = add_volunteer_in(uow, kamer, cmd.principal, data, cmd.correlation_id)
        uow.commit()
    return volunteer


def add_volunteer_in(uow: UnitOfWork, kamer: Kamer, principal: Principal, data: dict[str, Any],
                     correlation_id: str | None) -> Volunteer:
    """Inside an open unit of work: the new volunteer, audited and announced
    (``volunteer.registered`` + ``contact.volunteer``); a registration or an import commits."""
    stamp = utcnow()
    volunteer = Volunteer(
        id=new_id(), kamer_id=kamer.id, region=kamer.region, name=data["name"], email=data.get("email"),
        phone=data.get("phone"), language=data["language"],
        languages=list(dict.fromkeys([data["language"], *data.get("languages", [])])),
        home_lat=data["home"]["lat"], home_lon=data["home"]["lon"], skills=list(dict.fromkeys(data["skills"])),
        has_car=data["has_car"], vog_checked_on=data.get("vog_checked_on"), availability=data["availability"],
        max_tasks_per_week=data["max_tasks_per_week"], max_distance_km=data["max_distance_km"],
        created_at=stamp, active=data.get("active", True), home_precision=data["home_precision"],
        home_exact_lookup=data.get("home_exact_lookup"),
        away=[p.as_json() for p in away_periods(data.get("away", []), stamp.astimezone(LOCAL_TZ).date())])
    uow.volunteers.add(volunteer)
    audit(uow, principal, "create", "volunteer", volunteer.id)
    correlation = correlation_id or volunteer.id
    volunteers.announce_state(uow, volunteer, "volunteer.registered", correlation)
    volunteers.announce_contact(uow, volunteer, correlation)
    return volunteer


def show_volunteer(cmd: commands.ShowVolunteer, uow: UnitOfWork) -> Volunteer:
    """One volunteer: the kamer's own, or any in the coordinator's region; the read is audited."""
    with uow:
        volunteer = uow.volunteers.get(cmd.volunteer_id)
        if volunteer is None or not cmd.principal.may_see_kamer(volunteer.kamer_id, volunteer.region):
            raise NotFound(cmd.volunteer_id)
        audit(uow, cmd.principal, "read", "volunteer", cmd.volunteer_id)
        uow.commit()
    return volunteer


# -- requests ------------------------------------------------------------------------------

def submit_request(cmd: commands.SubmitRequest, uow: UnitOfWork,
                   addresses: AddressLookup | None = None) -> tuple[int, dict[str, Any]]:
    """Store the request with its ``request.submitted`` event; answer (202, body).

    With an ``Idempotency-Key`` the first answer is stored in the same transaction
    and replayed for the same key and body; the same key with another body is refused.
    A request given by its Dutch ``address`` is placed by ``addresses`` first, outside
    the transaction (:func:`geocoding.place`).
    """
    data, principal = cmd.data, cmd.principal
    resident = data["resident"]
    placed = geocoding.place(data, addresses, text=resident.get("address"))
    with uow:
        kamer = _kamer_of(uow, principal)
        if cmd.idempotency_key:
            replay = _replay(uow, kamer.id, cmd.idempotency_key, cmd.body_hash)
            if replay is not None:
                return replay
        stamp = utcnow()
        _check_request(uow, kamer.id, data, stamp)
        request = store_request_in(uow, kamer, principal, data, placed, cmd.correlation_id)
        if data.get("provider_id"):  # a professional named at once: referred in the same transaction
            referrals.refer_in(uow, request, data["provider_id"], data.get("referral_note"), principal,
                               cmd.correlation_id)
        answer = (202, {"id": request.id, "status": Status.RECEIVED.value})
        if cmd.idempotency_key:
            uow.idempotency.remember(kamer.id, cmd.idempotency_key, cmd.body_hash, *answer, at=stamp)
        uow.commit()
    return answer


def store_request_in(uow: UnitOfWork, kamer: Kamer, principal: Principal, data: dict[str, Any],
                     placed: geocoding.Placement, correlation_id: str | None) -> HelpRequest:
    """Inside an open unit of work, a request already checked: stored through
    :func:`add_request` (history, ``request.submitted``, ``contact.resident``) and audited;
    a submission or an import commits."""
    resident, window, stamp = data["resident"], data["window"], utcnow()
    request = HelpRequest(
        id=new_id(), kamer_id=kamer.id, region=kamer.region,
        resident_name=resident.get("name"), resident_phone=resident.get("phone"),
        resident_email=resident.get("email"), resident_language=resident.get("language") or "nl",
        resident_address=resident.get("address") or placed.address_text,
        lat=placed.lat, lon=placed.lon, location_precision=placed.precision.value,
        exact_lookup=placed.exact_lookup, category=data["category"],
        skills=list(dict.fromkeys([data["category"], *data.get("skills", [])])),
        needs_vog=data.get("needs_vog", False), needs_language=data.get("needs_language"),
        window_start=window["start"], window_end=window["end"], recurrence=data.get("recurrence"),
        follows=data.get("follows"), urgency=data.get("urgency", "normal"), notes=data.get("notes"),
        status=Status.RECEIVED.value, created_at=stamp, updated_at=stamp, helper=data.get("helper") or "volunteer")
    add_request(uow, request, principal.credential, Note.SUBMITTED, correlation_id or request.id)
    audit(uow, principal, "create", "request", request.id)
    return request


def add_request(uow: UnitOfWork, request: HelpRequest, actor: str, note: Note, correlation_id: str,
                **note_params: Any) -> None:
    """A new request stored, its first history entry, and its events: ``request.submitted``
    for matching and ``contact.resident`` for notify. One place for every way a request
    comes in (a kamer's, or the next week of a series)."""
    uow.requests.add(request)
    record_history(uow, request.id, Status.RECEIVED, actor, code=note, **note_params)
    if request.helper == "professional":
        uow.publish(resident_contact(request, correlation_id))  # matching never sees a professional's request
        return
    uow.publish_all([submitted_event(request, correlation_id), resident_contact(request, correlation_id)])


def submitted_event(request: HelpRequest, correlation_id: str) -> Envelope:
    """``request.submitted``: what matching needs of a request, its place coarsened (no person)."""
    helper = {"helper": request.helper} if request.helper != "volunteer" else {}
    return new_event("request.submitted", {
        "request_id": request.id, "kamer_id": request.kamer_id, "region": request.region,
        "category": request.category, "skills": request.skills, "needs_vog": request.needs_vog,
        "needs_language": request.needs_language,
        "window": {"start": request.window_start, "end": request.window_end},
        "location": coarse(request.lat, request.lon), "urgency": request.urgency,
        "recurrence": request.recurrence, "follows": request.follows, **helper,
    }, correlation_id=correlation_id, kamer_id=request.kamer_id)


def resident_contact(request: HelpRequest, correlation_id: str) -> Envelope:
    """``contact.resident``: the resident's contact details, for notify only (a newer one wins)."""
    return new_event("contact.resident", {
        "request_id": request.id, "kamer_id": request.kamer_id, "first_name": first_name(request.resident_name),
        "phone": request.resident_phone, "language": request.resident_language,
        "address": request.resident_address, "neighbourhood": neighbourhood_of(request.resident_address),
    }, correlation_id=correlation_id, kamer_id=request.kamer_id)


def validate_request(cmd: commands.ValidateRequest, uow: UnitOfWork, addresses: AddressLookup | None = None) -> None:
    """Every check :func:`submit_request` makes, storing nothing."""
    geocoding.place(cmd.data, addresses)
    with uow:
        _check_request(uow, cmd.principal.kamer_id, cmd.data, utcnow())


def _check_request(uow: UnitOfWork, kamer_id: str | None, data: dict[str, Any], at: datetime) -> None:
    """The domain's checks of a request that field validation cannot do: a window still
    to come; and the earlier request a recurring one follows is the same kamer's
    (another kamer's is as unknown as a missing one) and recurs the same way."""
    check_window(data["window"]["start"], data["window"]["end"], at)
    follows = data.get("follows")
    earlier = None if follows is None else uow.requests.recurrence_of(follows, kamer_id)
    check_follows(follows, data.get("recurrence"), earlier)
    if data.get("provider_id") and (data.get("helper") or "volunteer") == "volunteer":
        raise InvalidRequest("provider_id", 'only with helper "professional" or "both"')


def _replay(uow: UnitOfWork, kamer_id: str, key: str, body_hash: str) -> tuple[int, dict] | None:
    stored = uow.idempotency.answer_for(kamer_id, key)
    if stored is None:
        return None
    first_hash, status_code, response = stored
    if first_hash != body_hash:
        raise IdempotencyKeyReused(key)
    return status_code, response


def show_request(cmd: commands.ShowRequest, uow: UnitOfWork) -> HelpRequest:
    """A request with its assignments and history; the read is audited."""
    with uow:
        request = uow.requests.get(cmd.request_id)
        if request is None or not cmd.principal.may_see_kamer(request.kamer_id, request.region):
            raise NotFound(cmd.request_id)
        request = uow.requests.with_story(request)
        audit(uow, cmd.principal, "read", "request", cmd.request_id)
        uow.commit()
    return request


def cancel_request(cmd: commands.CancelRequest, uow: UnitOfWork) -> dict[str, str]:
    with uow:
        request = uow.requests.get(cmd.request_id)
        if request is None or not cmd.principal.may_see_kamer(request.kamer_id, request.region):
            raise NotFound(cmd.request_id)
        try:
            status = transition(Status(request.status), Status.CANCELLED)
        except IllegalTransition as exc:
            raise Conflict.transition(exc) from exc
        uow.requests.set_status(request.id, status, utcnow())
        uow.requests.set_every_assignment_status(request.id, Status.CANCELLED.value, utcnow())
        referrals.close_open_referral_in(uow, request.id, cmd.principal.credential)
        record_history(uow, request.id, status, cmd.principal.credential, cmd.reason)
        audit(uow, cmd.principal, "cancel", "request", request.id)
        uow.publish(new_event("request.cancelled", {
            "request_id": request.id, "kamer_id": request.kamer_id, "reason": cmd.reason,
        }, correlation_id=cmd.correlation_id or request.id, kamer_id=request.kamer_id))
        uow.commit()
    return {"id": request.id, "status": status.value}


# -- a volunteer's link ---------------------------------------------------------------------

def show_volunteer_task(cmd: commands.ShowVolunteerTask, uow: UnitOfWork,
                        places: Sequence[Place]) -> dict[str, Any] | None:
    """The one task a volunteer link is for, as the volunteer may see it (API.md); None
    if the link names another volunteer's assignment.

    Before accepting: category, time, the resident's first name and neighbourhood. After
    accepting: also the address and phone, and that read is audit-logged.
    """
    principal = cmd.principal
    with uow:
        assignment = uow.requests.assignment(principal.assignment_id)
        if assignment is None or assignment.volunteer_id != principal.volunteer_id:
            return None
        request = uow.requests.get(assignment.request_id)
        if request is None:
            return None
        volunteer = uow.volunteers.get(assignment.volunteer_id)
        accepted = assignment.status == AssignmentStatus.ACCEPTED.value
        if accepted:
            audit(uow, principal, "read", "request", request.id)
        uow.commit()
    task = {"assignment_id": assignment.id, "status": assignment.status, "request_status": request.status,
            "category": request.category, "window_start": request.window_start, "window_end": request.window_end,
            "first_name": first_name_or_dash(request.resident_name),
            # as the offer message names it (the address's place), else the nearest place
            "place": neighbourhood_of(request.resident_address) or nearest_place(places, request.lat, request.lon),
            "distance_km": assignment.distance_km, "urgency": request.urgency,
            "language": (volunteer.language if volunteer else None) or "nl",
            "may_answer": assignment.status == AssignmentStatus.APPROVED.value,
            "may_back_out": accepted,
            # what to expect, before saying yes (the address and phone only after)
            "notes": request.notes, "professional_too": request.helper == "both"}
    if accepted:
        task.update(address=request.resident_address, phone=request.resident_phone)
    return task
