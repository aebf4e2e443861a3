"""Which messages an event causes, to whom, over which channel, and their identity.

A kamer hears about an event by e-mail (when SMTP is configured and it has an
address) or else in its local mailbox, and *also* on its own system's webhook when it
registered one: a separate notification with its own key, so one channel failing
neither blocks nor repeats the other.

A notification's key is derived from the event it answers, its recipient and its
channel, never drawn at random: a redelivered event yields the same key, so the
UNIQUE key in the database (and the e-mail's Message-ID) turns "at least once" into
"once" for everything but a crash between sending and recording (see handlers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .formatting import LOCAL_TIME, distance_text, local_datetime_text
from .languages import message_language

EMAIL = "email"
MAILBOX = "mailbox"  # .eml files on local disk: the embedded demo's real channel
WEBHOOK = "webhook"  # a signed JSON POST to the kamer's own system
SMS = "sms"  # through an HTTP gateway, for people with a phone and no e-mail
KAMER = "kamer"

# The reason stored and announced when a kamer's SMS budget for the month is spent.
SMS_LIMIT_REACHED = "sms limit reached"

# source event type -> template name (templates/<name>.<lang>.{txt,html}.j2)
TEMPLATE_FOR_EVENT = {
    "assignment.proposed": "assignment_proposed",
    "request.unmatched": "request_unmatched",
}


@dataclass(frozen=True)
class KamerContact:
    """A kamer is an organisation; still, its address is not logged (ids only)."""

    kamer_id: str
    name: str
    email: str | None = None
    webhook_url: str | None = None
    language: str = "nl"


@dataclass(frozen=True)
class Notification:
    key: str
    source_event_id: str
    source_event_type: str
    request_id: str | None
    kamer_id: str
    recipient_kind: str
    recipient: str  # an address for "email", a phone number for "sms"; "<channel>:<kamer_id>" otherwise
    channel: str
    template: str
    language: str
    context: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Where the channel delivers when that is not ``recipient`` (a webhook's URL): not part
    # of the identity, so a kamer that changes its URL still gets each event once.
    address: str | None = field(default=None, compare=False)
    # What a webhook carries besides the rendered text: the event itself.
    payload: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def destination(self) -> str:
        return self.address or self.recipient


def notification_key(source_event_id: str, recipient: str, channel: str) -> str:
    """sha256 of the three parts, joined by a newline so ``("ab", "c")`` != ``("a", "bc")``."""
    raw = f"{source_event_id}\n{recipient}\n{channel}".encode()
    return hashlib.sha256(raw).hexdigest()


def kamer_channel(kamer: KamerContact, *, email_enabled: bool) -> tuple[str, str]:
    """``(channel, recipient)``: e-mail when we can send it and have an address, else the mailbox."""
    if email_enabled and kamer.email:
        return EMAIL, kamer.email
    return MAILBOX, f"{MAILBOX}:{kamer.kamer_id}"


def person_channel(email: str | None, phone: str | None, *, email_enabled: bool,
                   sms_enabled: bool) -> tuple[str, str] | None:
    """``(channel, recipient)`` for a volunteer or resident: e-mail first, SMS for a phone
    without e-mail; None when neither reaches them (the kamer then has to call)."""
    if email and email_enabled:
        return EMAIL, email
    if phone and sms_enabled:
        return SMS, phone
    return None


def sms_month(moment: datetime) -> str:
    """The calendar month an SMS counts against, as a kamer in Leeuwarden sees it: ``2026-12``."""
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m")


def notifications_for(
    event_type: str,
    event_id: str,
    occurred_at: datetime,
    data: Mapping[str, Any],
    kamer: KamerContact,
    *,
    email_enabled: bool,
    public_url: str,
) -> list[Notification]:
    """Every message one event causes. Today: to the kamer (and its webhook); later volunteers and residents."""
    try:
        template = TEMPLATE_FOR_EVENT[event_type]
    except KeyError:
        raise ValueError(f"notify sends nothing for {event_type!r}") from None
    language = message_language(kamer.language)
    channel, recipient = kamer_channel(kamer, email_enabled=email_enabled)
    context = _CONTEXT[event_type](data, kamer, occurred_at, language, public_url)
    common = {
        "source_event_id": event_id,
        "source_event_type": event_type,
        "request_id": data.get("request_id"),
        "kamer_id": kamer.kamer_id,
        "recipient_kind": KAMER,
        "template": template,
        "language": language,
        "context": context,
    }
    planned = [Notification(key=notification_key(event_id, recipient, channel), recipient=recipient,
                            channel=channel, **common)]
    if kamer.webhook_url:
        hook = f"{WEBHOOK}:{kamer.kamer_id}"
        payload = {
            "type": event_type,
            "event_id": event_id,
            "occurred_at": occurred_at.isoformat(),
            "review_url": review_url(public_url),
            "data": dict(data),
        }
        planned.append(Notification(key=notification_key(event_id, hook, WEBHOOK), recipient=hook,
                                    channel=WEBHOOK, address=kamer.webhook_url, payload=payload, **common))
    return planned


def review_url(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/review"


def _proposal_context(data, kamer, occurred_at, language, public_url) -> dict[str, Any]:
    return {
        "kamer_name": kamer.name,
        "request_id": data["request_id"],
        "volunteer_id": data["volunteer_id"],
        "assignment_id": data.get("assignment_id"),
        "distance": distance_text(float(data["distance_km"]), language),
        "why": why_lines(data.get("explanation") or {}),
        "review_url": review_url(public_url),
        "proposed_at": local_datetime_text(occurred_at, language),
    }


def _unmatched_context(data, kamer, occurred_at, language, public_url) -> dict[str, Any]:
    reasons = data.get("reasons") or {}
    return {
        "kamer_name": kamer.name,
        "request_id": data["request_id"],
        "summary": data["summary"],
        # most exclusions first, so the main reason leads
        "reasons": sorted(reasons.items(), key=lambda item: (-item[1], item[0])),
        "review_url": review_url(public_url),
        "reported_at": local_datetime_text(occurred_at, language),
    }


_CONTEXT = {
    "assignment.proposed": _proposal_context,
    "request.unmatched": _unmatched_context,
}


def why_lines(explanation: Mapping[str, Any]) -> list[str]:
    """The explanation's ``why`` as lines of text, whatever shape matching sent."""
    why = explanation.get("why")
    if why is None:
        return []
    if isinstance(why, str):
        return [why]
    if isinstance(why, Mapping):
        return [f"{key}: {value}" for key, value in why.items()]
    if isinstance(why, (list, tuple)):
        return [str(line) for line in why]
    return [str(why)]
