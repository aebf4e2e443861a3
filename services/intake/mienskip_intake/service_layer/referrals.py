"""Referrals to care providers (issue 13): a kamer refers a request, the provider answers
through its signed link (or the kamer notes an answer given by phone), a referral left
unanswered past its due time goes overdue. Each step is one transaction: the referral,
a history note on the request, an audit entry and the event (ids and codes only; the
resident's name, address and the note reach the provider only through its link)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import new_event

from ..domain import referral_commands as rc
from ..domain.model import (
    HelpRequest,
    InvalidRequest,
    Note,
    Principal,
    Role,
    Status,
    first_name_or_dash,
    neighbourhood_of,
)
from ..domain.places import Place, nearest_place
from ..domain.referrals import (
    REPLACEABLE,
    Helper,
    IllegalReferralTransition,
    Referral,
    ReferralStatus,
    due_after,
    may_refer_again,
    referral_transition,
)
from ..domain.volunteers import LOCAL_TZ
from .common import SYSTEM, Conflict, NotFound, audit, new_id, record_history
from .completion import complete_if_all_parts_done
from .unit_of_work import UnitOfWork

CLOSED_REQUEST = (Status.CANCELLED.value, Status.COMPLETED.value)


def actor_role(principal: Principal) -> str:
    return principal.role.value  # kamer, coordinator, provider: a role, never a name


def _conflict(exc: IllegalReferralTransition) -> Conflict:
    return Conflict("referral_transition", str(exc), current=exc.current.value, wanted=exc.wanted.value)


def _event(uow: UnitOfWork, event_type: str, referral: Referral, request: HelpRequest, actor: str,
           correlation_id: str | None, **data: Any) -> None:
    uow.publish(new_event(event_type, {
        "referral_id": referral.id, "request_id": request.id, "provider_id": referral.provider_id,
        "kamer_id": request.kamer_id, "region": request.region, "actor": actor, "category": request.category,
        "helper": request.helper if request.helper != Helper.VOLUNTEER else Helper.PROFESSIONAL.value, **data,
    }, correlation_id=correlation_id or request.id, kamer_id=request.kamer_id))


# -- referring -------------------------------------------------------------------------------

def refer_in(uow: UnitOfWork, request: HelpRequest, provider_id: str, note: str | None, principal: Principal,
             correlation_id: str | None) -> Referral:
    """Inside an open unit of work, the request locked: a new referral to ``provider_id``.

    The provider must be active and serve the request's kamer (else 422 on provider_id).
    The request must be open, and either ask for a professional or be ``unmatched`` (it
    then becomes a professional's request); its current referral, if any, must have
    been declined or gone overdue (it is closed now): otherwise a 409.
    """
    provider = uow.providers.get(provider_id)
    if provider is None or not provider.serves(request.region, request.kamer_id):
        raise InvalidRequest("provider_id", "is not an active provider serving this kamer")
    if request.status in CLOSED_REQUEST:
        raise Conflict("not_referable", f"a request that is {request.status} is not referred",
                       status=request.status)
    if request.helper == Helper.VOLUNTEER and request.status != Status.UNMATCHED.value:
        raise Conflict("not_referable", "only a request for a professional, or an unmatched one, is referred",
                       status=request.status)
    now = utcnow()
    current = uow.referrals.current_of(request.id)
    if not may_refer_again(current):
        raise Conflict("referral_open", f"its referral is {current.status}: wait for the answer",
                       status=current.status)
    if current is not None and ReferralStatus(current.status) in REPLACEABLE:
        _close(uow, current, request.id, now, principal.actor)
    if request.helper == Helper.VOLUNTEER:
        uow.requests.set_status(request.id, Status(request.status), now, helper=Helper.PROFESSIONAL.value)
        request = replace(request, helper=Helper.PROFESSIONAL.value)
    referral = Referral(id=new_id(), request_id=request.id, provider_id=provider.id, kamer_id=request.kamer_id,
                        region=request.region, status=ReferralStatus.SENT.value, sent_at=now,
                        due_at=due_after(now, provider.answer_within_days, LOCAL_TZ), updated_at=now, note=note)
    uow.referrals.add(referral)
    record_history(uow, request.id, None, principal.actor, code=Note.REFERRED, provider_id=provider.id,
                   referral_id=referral.id)
    audit(uow, principal, "refer", "request", request.id)
    _event(uow, "referral.sent", referral, request, actor_role(principal), correlation_id,
           window={"start": request.window_start, "end": request.window_end}, urgency=request.urgency,
           due_at=referral.due_at)
    return referral


def _close(uow: UnitOfWork, referral: Referral, request_id: str, now: datetime, actor: str) -> None:
    if uow.referrals.move(referral.moved(ReferralStatus.CLOSED, now), referral.status):
        record_history(uow, request_id, None, actor, code=Note.REFERRAL_CLOSED, provider_id=referral.provider_id,
                       referral_id=referral.id, was=referral.status)


def close_open_referral_in(uow: UnitOfWork, request_id: str, actor: str) -> None:
    """A cancelled request's referral, whatever its state, is closed (the provider's link then says so)."""
    current = uow.referrals.current_of(request_id)
    if current is not None and current.status != ReferralStatus.CLOSED.value:
        _close(uow, current, request_id, utcnow(), actor)


def refer(cmd: rc.Refer, uow: UnitOfWork) -> Referral:
    if cmd.principal.role not in (Role.KAMER, Role.COORDINATOR):
        raise PermissionError("only kamer staff and coordinators refer")
    with uow:
        request = uow.requests.get(cmd.request_id, lock=True)
        if request is None or not cmd.principal.may_see_kamer(request.kamer_id, request.region):
            raise NotFound(cmd.request_id)
        referral = refer_in(uow, request, cmd.provider_id, cmd.note, cmd.principal, cmd.correlation_id)
        uow.commit()
    return referral


# -- answering -------------------------------------------------------------------------------

def _visible(principal: Principal, referral: Referral) -> bool:
    if principal.role is Role.PROVIDER:
        return principal.referral_id == referral.id and principal.provider_id == referral.provider_id
    return principal.may_see_kamer(referral.kamer_id, referral.region)


def _load(uow: UnitOfWork, principal: Principal, referral_id: str, *, lock: bool = True) -> tuple[Referral, HelpRequest]:
    referral = uow.referrals.get(referral_id)
    if referral is None or not _visible(principal, referral):
        raise NotFound(referral_id)
    request = uow.requests.get(referral.request_id, lock=lock)
    if request is None:
        raise NotFound(referral_id)
    return referral, request


def _answer(uow: UnitOfWork, principal: Principal, referral_id: str, wanted: ReferralStatus, note: Note,
            event_type: str, correlation_id: str | None, history_text: str | None = None,
            event_data: dict[str, Any] | None = None, **values: Any) -> Referral:
    if principal.role not in (Role.KAMER, Role.COORDINATOR, Role.PROVIDER):
        raise PermissionError("not a referral's party")
    with uow:
        referral, request = _load(uow, principal, referral_id)
        try:
            referral_transition(referral.status, wanted)
        except IllegalReferralTransition as exc:
            raise _conflict(exc) from exc
        now = utcnow()
        moved = referral.moved(wanted, now, answered_at=now, answered_by=actor_role(principal), **values)
        if not uow.referrals.move(moved, referral.status):
            raise Conflict("race", "someone else answered this referral just now")
        record_history(uow, request.id, None, principal.actor, history_text, note, provider_id=referral.provider_id,
                       referral_id=referral.id)
        audit(uow, principal, event_type.split(".")[1], "referral", referral.id)
        _event(uow, event_type, moved, request, actor_role(principal), correlation_id, **(event_data or {}))
        if wanted is ReferralStatus.ACCEPTED:
            complete_if_all_parts_done(uow, request, now, principal.actor, correlation_id)
        referral = uow.referrals.get(referral.id)
        uow.commit()
    return referral


def accept(cmd: rc.AcceptReferral, uow: UnitOfWork) -> Referral:
    """The provider takes it on: who will come and when (both optional), and a note."""
    return _answer(uow, cmd.principal, cmd.referral_id, ReferralStatus.ACCEPTED, Note.REFERRAL_ACCEPTED,
                   "referral.accepted", cmd.correlation_id, event_data={"who": cmd.who, "when": cmd.when},
                   who=cmd.who, visit_at=cmd.when, answer_note=cmd.note)


def decline(cmd: rc.DeclineReferral, uow: UnitOfWork) -> Referral:
    """The provider cannot take it (the reason is required): the kamer chooses another."""
    if not (cmd.reason or "").strip():
        raise InvalidRequest("reason", "is required")
    return _answer(uow, cmd.principal, cmd.referral_id, ReferralStatus.DECLINED, Note.REFERRAL_DECLINED,
                   "referral.declined", cmd.correlation_id, history_text=cmd.reason,
                   event_data={"reason": cmd.reason}, reason=cmd.reason)


# -- reading ---------------------------------------------------------------------------------

def show_referral(cmd: rc.ShowReferral, uow: UnitOfWork, places: Sequence[Place] = ()) -> dict[str, Any]:
    """One referral as its reader may see it: the provider's link only its own. The
    resident's first name and neighbourhood always; the address and phone only once
    accepted (that read is audit-logged), as for a volunteer."""
    principal = cmd.principal
    with uow:
        referral, request = _load(uow, principal, cmd.referral_id, lock=False)
        provider = uow.providers.get(referral.provider_id)
        kamer = uow.kamers.get(request.kamer_id)
        accepted = referral.was_accepted and request.status != Status.CANCELLED.value
        if accepted or principal.role is not Role.PROVIDER:
            audit(uow, principal, "read", "referral", referral.id)
        uow.commit()
    shown: dict[str, Any] = {
        "id": referral.id, "request_id": request.id, "provider_id": referral.provider_id,
        "provider_name": provider.name if provider else None, "status": referral.status,
        "sent_at": referral.sent_at, "due_at": referral.due_at, "note": referral.note, "who": referral.who,
        "when": referral.visit_at, "answer_note": referral.answer_note, "reason": referral.reason,
        "answered_at": referral.answered_at, "helper": request.helper,
        "language": (provider.language if provider else None) or "nl",
        "may_answer": referral.status in (ReferralStatus.SENT.value, ReferralStatus.OVERDUE.value)
        and request.status not in CLOSED_REQUEST,
        "request": {"status": request.status, "category": request.category, "urgency": request.urgency,
                    "window": {"start": request.window_start, "end": request.window_end},
                    "first_name": first_name_or_dash(request.resident_name),
                    "place": neighbourhood_of(request.resident_address)
                    or nearest_place(places, request.lat, request.lon)},
        "kamer": {"name": kamer.name if kamer else None, "phone": kamer.phone if kamer else None},
    }
    if accepted or principal.role is not Role.PROVIDER:
        shown["request"].update(address=request.resident_address, phone=request.resident_phone)
    return shown


# -- overdue ---------------------------------------------------------------------------------

def mark_overdue(cmd: rc.MarkOverdueReferrals, uow: UnitOfWork) -> int:
    """Sent referrals past their due time become ``overdue`` (``referral.overdue``; the
    coordinator's attention page lists them). How many, this round."""
    now = cmd.now or utcnow()
    with uow:
        due = uow.referrals.due_before(now, cmd.batch)
        for referral in due:
            request = uow.requests.get(referral.request_id)
            moved = referral.moved(ReferralStatus.OVERDUE, now)
            if request is None or not uow.referrals.move(moved, referral.status):
                continue
            record_history(uow, request.id, None, SYSTEM.actor, code=Note.REFERRAL_OVERDUE,
                           provider_id=referral.provider_id, referral_id=referral.id)
            _event(uow, "referral.overdue", moved, request, "policy", None, sent_at=referral.sent_at,
                   due_at=referral.due_at)
        uow.commit()
    return len(due)
