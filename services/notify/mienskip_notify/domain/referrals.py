"""Which messages a referral to a care provider causes (issue 13), and what each says.

``referral.sent``: the provider is asked, by e-mail and on its webhook, with a signed
link to intake's page where it accepts or declines. The message carries what a provider
needs to decide (category, window, urgency, the kamer and its phone), never the
resident's name, address or notes: those are behind the link, the address only after it
accepts, as for a volunteer. ``referral.accepted`` tells the kamer and the resident;
``referral.declined`` and ``referral.overdue`` tell the kamer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from .contacts import RESIDENT
from .contexts import resident_facts, review_url, task_facts
from .facts import Urgency, local_date
from .routing import MessagePlan

# A provider's link works until the referral is overdue, and two weeks after that: a
# provider that answers late can still answer (intake then decides what the answer does).
REFERRAL_LINK_GRACE = timedelta(days=14)
URGENT = ("high", "urgent")


def referral_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/p/{token}"


def referral_link_expiry(due_at: datetime) -> datetime:
    """From the event, not the clock: a redelivery signs the same link."""
    return due_at + REFERRAL_LINK_GRACE


def _provider_name(plan: MessagePlan) -> str | None:
    return plan.known.provider.name if plan.known.provider else None


def _referral_ids(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"referral_id": data["referral_id"], "request_id": data["request_id"], "provider_id": data["provider_id"]}


def sent(plan: MessagePlan) -> None:
    """The provider is asked. Its webhook carries ids, category, window, urgency, due time
    and the link: no personal data."""
    data, kamer = plan.data, plan.kamer
    if plan.sign_referral is None:
        raise ValueError("a referral needs sign_referral: provider links are signed")
    expires = referral_link_expiry(data["due_at"])
    link = referral_link(plan.public_url, plan.sign_referral(data["referral_id"], data["provider_id"], expires))
    plan.to_provider("provider_referral", {
        **task_facts(data, plan.known),
        **_referral_ids(data),
        "provider_name": _provider_name(plan),
        "urgency": Urgency(data.get("urgency") or "normal"),
        "urgent": data.get("urgency") in URGENT,
        "both": data.get("helper") == "both",
        "kamer_name": kamer.name,
        "kamer_phone": kamer.phone,
        "due_at": data["due_at"],
        "link": link,
        "link_expires": expires,
    }, webhook={
        "type": plan.event_type,
        "event_id": plan.event_id,
        "occurred_at": plan.occurred_at.isoformat(),
        **_referral_ids(data),
        "kamer_id": kamer.kamer_id,
        "category": data.get("category"),
        "window": dict(data["window"]) if data.get("window") else None,
        "urgency": data.get("urgency") or "normal",
        "due_at": data["due_at"],
        "link": link,
        "link_expires_at": expires,
    })


def accepted(plan: MessagePlan) -> None:
    """The kamer hears who of the provider helps and when; the resident, in their language
    and over their channel, that the provider helps them."""
    data, known = plan.data, plan.known
    visit_at = data.get("when")  # when the provider's professional comes or gets in touch
    common = {
        **task_facts(data, known),
        "kamer_name": plan.kamer.name,
        "provider_name": _provider_name(plan),
        "who": data.get("who") or None,
        "visit_at": visit_at,
        "visit_day": local_date(visit_at) if visit_at else None,
    }
    resident = known.resident
    plan.to_person(RESIDENT, data["request_id"], "resident_provider_coming", {
        **common, "first_name": resident.first_name if resident else None})
    plan.to_kamer("referral_accepted", {
        **common, **resident_facts(known), **_referral_ids(data),
        "review_url": review_url(plan.public_url, data["request_id"]),
    })


def declined(plan: MessagePlan) -> None:
    """The kamer hears the provider's reason, with the request's page to choose another."""
    data, known = plan.data, plan.known
    plan.to_kamer("referral_declined", {
        **task_facts(data, known), **resident_facts(known), **_referral_ids(data),
        "kamer_name": plan.kamer.name,
        "provider_name": _provider_name(plan),
        "reason": data["reason"],
        "review_url": review_url(plan.public_url, data["request_id"]),
    })


def overdue(plan: MessagePlan) -> None:
    """The provider did not answer in time: the kamer hears it (the coordinator sees it on
    "needs attention"), with the provider's phone to call."""
    data, known = plan.data, plan.known
    provider = known.provider
    plan.to_kamer("referral_overdue", {
        **task_facts(data, known), **resident_facts(known), **_referral_ids(data),
        "kamer_name": plan.kamer.name,
        "provider_name": _provider_name(plan),
        "provider_phone": provider.phone if provider else None,
        "sent_at": data["sent_at"],
        "due_at": data["due_at"],
        "review_url": review_url(plan.public_url, data["request_id"]),
    })


PLANS = {
    "referral.sent": sent,
    "referral.accepted": accepted,
    "referral.declined": declined,
    "referral.overdue": overdue,
}
