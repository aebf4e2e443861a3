"""Which messages an event causes: to the kamer (and its webhook), the volunteer and the
resident, each with what it says (see ``routing`` for how each reaches its reader)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .channels import Channels
from .contacts import RESIDENT, VOLUNTEER, KamerContact, Known
from .contexts import (
    assignment_ids,
    link_expiry,
    proposal_context,
    resident_facts,
    review_url,
    task_facts,
    unmatched_context,
    volunteer_first_name,
    volunteer_link,
)
from .facts import DeclineReason
from .notifications import MESSAGE_EVENTS, Notification
from .referrals import PLANS as REFERRAL_PLANS
from .routing import MessagePlan


def notifications_for(
    event_type: str,
    event_id: str,
    occurred_at: datetime,
    data: Mapping[str, Any],
    kamer: KamerContact,
    *,
    email_enabled: bool,
    public_url: str,
    sms_enabled: bool = False,
    known: Known | None = None,
    sign_link: Callable[[str, str, datetime], str] | None = None,
    sign_referral: Callable[[str, str, datetime], str] | None = None,
) -> list[Notification]:
    """Every message one event causes, to the kamer (and its webhook), the volunteer,
    the resident and a care provider. ``known`` carries the contacts (default: only the
    kamer); ``sign_link(assignment_id, volunteer_id, expires_at)`` makes a volunteer's
    token, ``sign_referral(referral_id, provider_id, expires_at)`` a provider's."""
    if event_type not in MESSAGE_EVENTS:
        raise ValueError(f"notify sends nothing for {event_type!r}")
    if known is not None and known.request_cancelled and event_type != "request.cancelled":
        return []  # it overtook its cancellation: nobody needs to hear more of this request
    plan = MessagePlan(event_type, event_id, occurred_at, data, known or Known(kamer=kamer),
                       Channels(email=email_enabled, sms=sms_enabled), public_url, sign_link,
                       sign_referral=sign_referral)
    _EVENTS[event_type](plan)
    return plan.notifications


def _review_requested(plan: MessagePlan) -> None:
    """Intake's policy does not approve the proposal by itself: the kamer is asked to review it."""
    plan.to_kamer("assignment_proposed", proposal_context(plan.data, plan.known, plan.occurred_at, plan.public_url))


def _unmatched(plan: MessagePlan) -> None:
    plan.to_kamer("request_unmatched", unmatched_context(plan.data, plan.kamer, plan.occurred_at, plan.public_url))
    plan.to_person(RESIDENT, plan.data["request_id"], "resident_unmatched", {
        "first_name": plan.known.resident.first_name if plan.known.resident else None,
        "kamer_name": plan.kamer.name,
    })


def _approved(plan: MessagePlan) -> None:
    data = plan.data
    window = data.get("window")
    expires = link_expiry(plan.occurred_at, window["start"] if window else None)
    if plan.sign_link is None:
        raise ValueError("an offer needs sign_link: volunteer links are signed")
    link = volunteer_link(plan.public_url, plan.sign_link(data["assignment_id"], data["volunteer_id"], expires))
    plan.to_person(VOLUNTEER, data["volunteer_id"], "volunteer_offer", {
        **task_facts(data, plan.known),
        **resident_facts(plan.known),
        "first_name": volunteer_first_name(data, plan.known),
        "kamer_name": plan.kamer.name,
        "kamer_phone": plan.kamer.phone,  # questions go to the kamer; the request's notes stay on the link's page
        "link": link,
        "link_expires": expires,
    })


def _accepted(plan: MessagePlan) -> None:
    data, known = plan.data, plan.known
    resident = known.resident
    first_name = volunteer_first_name(data, known)
    plan.to_person(VOLUNTEER, data["volunteer_id"], "volunteer_confirmation", {
        **task_facts(data, known),
        **resident_facts(known),
        "first_name": first_name,
        "kamer_name": plan.kamer.name,
        "address": resident.address if resident else None,
        "resident_phone": resident.phone if resident else None,
    })
    plan.to_person(RESIDENT, data["request_id"], "resident_volunteer_coming", {
        **task_facts(data, known),
        "first_name": resident.first_name if resident else None,
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": first_name,
    })
    plan.to_kamer("assignment_accepted", {
        **task_facts(data, known), **resident_facts(known), **assignment_ids(data),
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": first_name,
        "review_url": review_url(plan.public_url, data["request_id"]),
    }, subject=(VOLUNTEER, data["volunteer_id"]))


def _declined(plan: MessagePlan) -> None:
    data, known = plan.data, plan.known
    plan.to_kamer("assignment_declined", {
        **task_facts(data, known), **resident_facts(known), **assignment_ids(data),
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": volunteer_first_name(data, known),
        "urgent": not data["rematch"],
        "after_accept": bool(data.get("after_accept")),
        "reason": DeclineReason(data["reason_code"]) if data.get("reason_code") else data.get("reason"),
        "review_url": review_url(plan.public_url, data["request_id"]),
    }, subject=(VOLUNTEER, data["volunteer_id"]))  # "declined" is what a cancellation looks for


def _cancelled(plan: MessagePlan) -> None:
    for volunteer_id in plan.known.told:
        contact = plan.known.volunteers.get(volunteer_id)
        plan.to_person(VOLUNTEER, volunteer_id, "volunteer_cancellation", {
            **task_facts(plan.data, plan.known),
            "first_name": (contact.first_name or None) if contact else None,
            "kamer_name": plan.kamer.name,
        })


def _escalated(plan: MessagePlan) -> None:
    data = plan.data
    plan.to_kamer("request_escalated", {
        "kamer_name": plan.kamer.name,
        "request_id": data["request_id"],
        "reason": data["reason"],
        "urgent": data["urgent"],
        "review_url": review_url(plan.public_url, data["request_id"]),
        "escalated_at": plan.occurred_at,
    })


_EVENTS: dict[str, Callable[[MessagePlan], None]] = {
    "assignment.review_requested": _review_requested,
    "assignment.approved": _approved,
    "assignment.accepted": _accepted,
    "assignment.declined": _declined,
    "request.cancelled": _cancelled,
    "request.escalated": _escalated,
    "request.unmatched": _unmatched,
    **REFERRAL_PLANS,
}
