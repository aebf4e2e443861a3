"""Which messages an event causes, to whom, over which channel, and their identity.

A kamer hears about an event by e-mail (when SMTP is configured and it has an
address) or else in its local mailbox, and *also* on its own system's webhook when it
registered one: a separate notification with its own key, so one channel failing
neither blocks nor repeats the other.

A volunteer or resident hears by e-mail when SMTP is configured and we know their
address; else by SMS when the gateway is configured and we know their phone; else in
the local mailbox when we know an address (the embedded demo); else the kamer gets
"please call" with what they should tell them, so nobody is skipped silently.

A notification's key is derived from the event it answers, its recipient and its
channel, never drawn at random: a redelivered event yields the same key, so the
UNIQUE key in the database (and the e-mail's Message-ID) turns "at least once" into
"once" for everything but a crash between sending and recording (see handlers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .formatting import (
    LOCAL_TIME,
    category_text,
    distance_text,
    local_date_text,
    local_datetime_text,
    local_window_text,
)
from .languages import message_language

EMAIL = "email"
MAILBOX = "mailbox"  # .eml files on local disk: the embedded demo's real channel
WEBHOOK = "webhook"  # a signed JSON POST to the kamer's own system
SMS = "sms"  # through an HTTP gateway, for people with a phone and no e-mail
KAMER = "kamer"
VOLUNTEER = "volunteer"
RESIDENT = "resident"

# Why a message meant for a person goes to the kamer instead ("please call").
NO_CONTACT = "no_contact"  # notify never got their contact.* event (or it was erased)
NO_CHANNEL = "no_channel"  # no address or phone that a configured channel can use
NOT_DELIVERED = "not_delivered"  # their channel failed for good (given up, SMS budget spent)

# A volunteer's accept/decline link lasts until the task starts, at most this long.
LINK_VALIDITY = timedelta(days=7)

# The reason stored and announced when a kamer's SMS budget for the month is spent.
SMS_LIMIT_REACHED = "sms limit reached"

# The events that cause messages. Templates: templates/<name>.<lang>.{txt,html,sms}.j2
MESSAGE_EVENTS = (
    "assignment.proposed", "assignment.approved", "assignment.accepted", "assignment.declined",
    "request.cancelled", "request.escalated", "request.unmatched",
)
# Person messages that a cancellation must follow (the volunteer was told of the task).
TOLD_OF_TASK = ("assignment.approved", "assignment.accepted")
PLEASE_CALL = "please_call"


@dataclass(frozen=True)
class KamerContact:
    """A kamer is an organisation; still, its address is not logged (ids only)."""

    kamer_id: str
    name: str
    email: str | None = None
    webhook_url: str | None = None
    language: str = "nl"


@dataclass(frozen=True)
class VolunteerContact:
    """From contact.volunteer: personal data, kept by notify only until erasure; never logged."""

    volunteer_id: str
    kamer_id: str
    first_name: str = ""
    email: str | None = None
    phone: str | None = None
    language: str = "nl"


@dataclass(frozen=True)
class ResidentContact:
    """From contact.resident (keyed by the request): personal data, as above."""

    request_id: str
    kamer_id: str
    first_name: str | None = None
    phone: str | None = None
    language: str = "nl"
    address: str | None = None
    neighbourhood: str | None = None


@dataclass(frozen=True)
class Task:
    """What notify remembers of a request from the workflow events (no personal data):
    enough to say which task a cancellation is about, and whether (since when) the
    request is cancelled."""

    request_id: str
    category: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    cancelled_at: datetime | None = None


@dataclass(frozen=True)
class Channels:
    """Which channels for people this notify has configured."""

    email: bool = False
    sms: bool = False


@dataclass(frozen=True)
class Known:
    """What notify knows when an event arrives, loaded by the handler from its tables.

    ``volunteers`` holds the contacts the event concerns (the assignment's volunteer;
    for a cancellation every volunteer in ``told``). ``told`` is, for a cancellation,
    the volunteers who were offered or given this request and did not decline it.
    ``unreachable`` names people whose message must go to the kamer instead, as
    ``(kind, id)``, because their own channel failed for good. ``task`` says whether
    the request is cancelled already (see :attr:`request_cancelled`).
    """

    kamer: KamerContact
    volunteers: Mapping[str, VolunteerContact] = field(default_factory=dict)
    resident: ResidentContact | None = None
    task: Task | None = None
    told: tuple[str, ...] = ()
    unreachable: frozenset[tuple[str, str]] = frozenset()

    @property
    def request_cancelled(self) -> bool:
        """The request's cancellation has been handled. Any other event about it that
        arrives later (they travel other queues) then tells nobody anything: no offer
        for a task that no longer exists, no address, no "a volunteer is coming", no
        "ready for review" or "declined" to the kamer that cancelled it."""
        return self.task is not None and self.task.cancelled_at is not None


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
    # The person the message is for or about ("volunteer", volunteer id / "resident",
    # request id): what erasure and a later cancellation look for.
    subject_kind: str | None = None
    subject_id: str | None = None

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
    without e-mail; None when neither reaches them (the kamer then has to call).

    With neither SMTP nor the SMS gateway configured (the embedded demo) a known address
    gets the mailbox: a real SMS beats a file nobody reads, so SMS comes first there.
    """
    if email and email_enabled:
        return EMAIL, email
    if phone and sms_enabled:
        return SMS, phone
    if email:
        return MAILBOX, email
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
    sms_enabled: bool = False,
    known: Known | None = None,
    sign_link: Callable[[str, str, datetime], str] | None = None,
) -> list[Notification]:
    """Every message one event causes, to the kamer (and its webhook), the volunteer
    and the resident. ``known`` carries the contacts (default: only the kamer);
    ``sign_link(assignment_id, volunteer_id, expires_at)`` makes a volunteer's token."""
    if event_type not in MESSAGE_EVENTS:
        raise ValueError(f"notify sends nothing for {event_type!r}")
    if known is not None and known.request_cancelled and event_type != "request.cancelled":
        return []  # it overtook its cancellation: nobody needs to hear more of this request
    plan = _Plan(event_type, event_id, occurred_at, data, known or Known(kamer=kamer),
                 Channels(email=email_enabled, sms=sms_enabled), public_url, sign_link)
    _EVENTS[event_type](plan)
    return plan.notifications


@dataclass
class _Plan:
    """One event's messages as they are worked out; ``notifications`` is the result."""

    event_type: str
    event_id: str
    occurred_at: datetime
    data: Mapping[str, Any]
    known: Known
    channels: Channels
    public_url: str
    sign_link: Callable[[str, str, datetime], str] | None
    notifications: list[Notification] = field(default_factory=list)

    @property
    def kamer(self) -> KamerContact:
        return self.known.kamer

    def task_facts(self, language: str) -> dict[str, Any]:
        """Category and time of the task, from the event or else from what notify remembers."""
        task = self.known.task
        category = self.data.get("category") or (task.category if task else None)
        window = self.data.get("window")
        start, end = (window["start"], window["end"]) if window else ((task.start, task.end) if task else (None, None))
        return {
            "category": category_text(category, language) if category else None,
            "when": local_window_text(start, end, language) if start else None,
            "day": local_date_text(start, language) if start else None,
        }

    def to_kamer(self, template: str, context: Mapping[str, Any], *, topic: str = "",
                 subject: tuple[str, str] | None = None) -> None:
        """A message for the kamer: its mailbox or e-mail, and its webhook when it has one.
        ``topic`` tells apart two kamer messages of one event (a "please call" beside the
        kamer's own message), so each has a key of its own."""
        kamer = self.kamer
        language = message_language(kamer.language)
        channel, recipient = kamer_channel(kamer, email_enabled=self.channels.email)
        common = self._common(KAMER, template, language, context, subject)
        destination = None
        if topic:  # not an address: the channel delivers to the kamer's own address
            destination, recipient = (recipient if channel == EMAIL else None), f"{recipient}#{topic}"
        self.notifications.append(Notification(
            key=notification_key(self.event_id, recipient, channel), recipient=recipient, channel=channel,
            address=destination, **common))
        if kamer.webhook_url:
            hook = f"{WEBHOOK}:{kamer.kamer_id}" + (f"#{topic}" if topic else "")
            payload = {
                "type": self.event_type,
                "event_id": self.event_id,
                "occurred_at": self.occurred_at.isoformat(),
                "review_url": review_url(self.public_url),
                "data": dict(self.data),
                **({"message": context.get("message", template)} if topic else {}),  # what the person missed
            }
            self.notifications.append(Notification(
                key=notification_key(self.event_id, hook, WEBHOOK), recipient=hook, channel=WEBHOOK,
                address=kamer.webhook_url, payload=payload, **common))

    def to_person(self, kind: str, person_id: str, template: str,
                  context: Callable[[str], Mapping[str, Any]]) -> None:
        """A message for a volunteer or resident in their language, over their channel;
        the kamer is asked to call them when no channel reaches them."""
        contact = (self.known.volunteers.get(person_id) if kind == VOLUNTEER else
                   self.known.resident if self.known.resident and self.known.resident.request_id == person_id
                   else None)
        route = None
        if contact is not None and (kind, person_id) not in self.known.unreachable:
            route = person_channel(getattr(contact, "email", None), contact.phone,
                                   email_enabled=self.channels.email, sms_enabled=self.channels.sms)
        if route is not None:
            channel, recipient = route
            language = message_language(contact.language)
            self.notifications.append(Notification(
                key=notification_key(self.event_id, recipient, channel), recipient=recipient, channel=channel,
                **self._common(kind, template, language, context(language), (kind, person_id))))
            return
        why = (NO_CONTACT if contact is None else
               NOT_DELIVERED if (kind, person_id) in self.known.unreachable else NO_CHANNEL)
        kamer_language = message_language(self.kamer.language)
        self.to_kamer(PLEASE_CALL, {
            **context(kamer_language),
            "kamer_name": self.kamer.name,
            "request_id": self.data.get("request_id"),
            "person_kind": kind,
            "person_id": person_id,
            "person_first_name": (contact.first_name or None) if contact else None,
            "person_phone": contact.phone if contact else None,
            "person_language": message_language(contact.language) if contact else None,
            "message": template,
            "why": why,
            "review_url": review_url(self.public_url),
        }, topic=f"call:{kind}:{person_id}", subject=(kind, person_id))

    def _common(self, recipient_kind: str, template: str, language: str, context: Mapping[str, Any],
                subject: tuple[str, str] | None) -> dict[str, Any]:
        return {
            "source_event_id": self.event_id,
            "source_event_type": self.event_type,
            "request_id": self.data.get("request_id"),
            "kamer_id": self.kamer.kamer_id,
            "recipient_kind": recipient_kind,
            "template": template,
            "language": language,
            "context": context,
            "subject_kind": subject[0] if subject else None,
            "subject_id": subject[1] if subject else None,
        }

    # -- facts about the people, for contexts -------------------------------------------
    def volunteer_first_name(self) -> str | None:
        contact = self.known.volunteers.get(self.data.get("volunteer_id", ""))
        return (contact.first_name or None) if contact else None

    def resident_facts(self) -> dict[str, Any]:
        resident = self.known.resident
        return {
            "resident_first_name": resident.first_name if resident else None,
            "neighbourhood": resident.neighbourhood if resident else None,
        }


def link_expiry(occurred_at: datetime, start: datetime | None) -> datetime:
    """When a volunteer's link stops working: at the task's start, at most a week after
    the offer. From the event's time, not the clock: a redelivery signs the same link."""
    latest = occurred_at + LINK_VALIDITY
    return min(start, latest) if start is not None else latest


def volunteer_link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/v/{token}"


# -- per event ---------------------------------------------------------------------------

def _proposed(plan: _Plan) -> None:
    language = message_language(plan.kamer.language)
    plan.to_kamer("assignment_proposed", _proposal_context(plan.data, plan.kamer, plan.occurred_at, language,
                                                           plan.public_url))


def _unmatched(plan: _Plan) -> None:
    language = message_language(plan.kamer.language)
    plan.to_kamer("request_unmatched", _unmatched_context(plan.data, plan.kamer, plan.occurred_at, language,
                                                          plan.public_url))
    plan.to_person(RESIDENT, plan.data["request_id"], "resident_unmatched", lambda lang: {
        "first_name": plan.known.resident.first_name if plan.known.resident else None,
        "kamer_name": plan.kamer.name,
    })


def _approved(plan: _Plan) -> None:
    data = plan.data
    window = data.get("window")
    expires = link_expiry(plan.occurred_at, window["start"] if window else None)
    if plan.sign_link is None:
        raise ValueError("an offer needs sign_link: volunteer links are signed")
    link = volunteer_link(plan.public_url, plan.sign_link(data["assignment_id"], data["volunteer_id"], expires))

    def offer(language: str) -> dict[str, Any]:
        return {
            **plan.task_facts(language),
            **plan.resident_facts(),
            "first_name": plan.volunteer_first_name(),
            "kamer_name": plan.kamer.name,
            "link": link,
            "link_expires": local_datetime_text(expires, language),
        }

    plan.to_person(VOLUNTEER, data["volunteer_id"], "volunteer_offer", offer)


def _accepted(plan: _Plan) -> None:
    data = plan.data
    resident = plan.known.resident
    volunteer_first_name = plan.volunteer_first_name()
    plan.to_person(VOLUNTEER, data["volunteer_id"], "volunteer_confirmation", lambda language: {
        **plan.task_facts(language),
        **plan.resident_facts(),
        "first_name": volunteer_first_name,
        "kamer_name": plan.kamer.name,
        "address": resident.address if resident else None,
        "resident_phone": resident.phone if resident else None,
    })
    plan.to_person(RESIDENT, data["request_id"], "resident_volunteer_coming", lambda language: {
        **plan.task_facts(language),
        "first_name": resident.first_name if resident else None,
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": volunteer_first_name,
    })
    language = message_language(plan.kamer.language)
    plan.to_kamer("assignment_accepted", {
        **plan.task_facts(language), **plan.resident_facts(), **_ids(data),
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": volunteer_first_name,
        "review_url": review_url(plan.public_url),
    }, subject=(VOLUNTEER, data["volunteer_id"]))


def _declined(plan: _Plan) -> None:
    data = plan.data
    language = message_language(plan.kamer.language)
    plan.to_kamer("assignment_declined", {
        **plan.task_facts(language), **plan.resident_facts(), **_ids(data),
        "kamer_name": plan.kamer.name,
        "volunteer_first_name": plan.volunteer_first_name(),
        "urgent": not data["rematch"],
        "after_accept": bool(data.get("after_accept")),
        "reason": data.get("reason"),
        "review_url": review_url(plan.public_url),
    }, subject=(VOLUNTEER, data["volunteer_id"]))  # "declined" is what a cancellation looks for


def _cancelled(plan: _Plan) -> None:
    for volunteer_id in plan.known.told:
        contact = plan.known.volunteers.get(volunteer_id)
        plan.to_person(VOLUNTEER, volunteer_id, "volunteer_cancellation", lambda language, contact=contact: {
            **plan.task_facts(language),
            "first_name": (contact.first_name or None) if contact else None,
            "kamer_name": plan.kamer.name,
        })


def _escalated(plan: _Plan) -> None:
    data = plan.data
    plan.to_kamer("request_escalated", {
        "kamer_name": plan.kamer.name,
        "request_id": data["request_id"],
        "reason": data["reason"],
        "urgent": data["urgent"],
        "review_url": review_url(plan.public_url),
        "escalated_at": local_datetime_text(plan.occurred_at, message_language(plan.kamer.language)),
    })


def _ids(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"request_id": data["request_id"], "volunteer_id": data["volunteer_id"],
            "assignment_id": data["assignment_id"]}


_EVENTS: dict[str, Callable[[_Plan], None]] = {
    "assignment.proposed": _proposed,
    "assignment.approved": _approved,
    "assignment.accepted": _accepted,
    "assignment.declined": _declined,
    "request.cancelled": _cancelled,
    "request.escalated": _escalated,
    "request.unmatched": _unmatched,
}


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
