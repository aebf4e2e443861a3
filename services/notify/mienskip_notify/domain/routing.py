"""How one event's messages reach the kamer (and its webhook), a volunteer or a resident:
over which channel, in which language, under which key; and the kamer's "please call"
when nobody else can be reached."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .channels import EMAIL, WEBHOOK, Channels, kamer_channel, person_channel
from .contacts import KAMER, PROVIDER, VOLUNTEER, KamerContact, Known
from .contexts import review_url
from .languages import message_language
from .notifications import PLEASE_CALL, Notification, notification_key

# Why a message meant for a person goes to the kamer instead ("please call").
NO_CONTACT = "no_contact"  # notify never got their contact.* event (or it was erased)
NO_CHANNEL = "no_channel"  # no address or phone that a configured channel can use
NOT_DELIVERED = "not_delivered"  # their channel failed for good (given up, SMS budget spent)
INACTIVE = "inactive"  # a provider that no longer takes referrals in Mienskip


def provider_signer(provider_id: str) -> str:
    """Whose secret signs a provider's webhooks: its own, derived like a kamer's from this name."""
    return f"{PROVIDER}:{provider_id}"


@dataclass
class MessagePlan:
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
    # sign_referral(referral_id, provider_id, expires_at): a provider's token (referral.sent)
    sign_referral: Callable[[str, str, datetime], str] | None = None

    @property
    def kamer(self) -> KamerContact:
        return self.known.kamer

    @property
    def kamer_language(self) -> str:
        return message_language(self.kamer.language)

    def to_kamer(self, template: str, context: Mapping[str, Any], *, topic: str = "",
                 subject: tuple[str, str] | None = None) -> None:
        """A message for the kamer: its mailbox or e-mail, and its webhook when it has one.
        ``topic`` tells apart two kamer messages of one event (a "please call" beside the
        kamer's own message), so each has a key of its own."""
        kamer = self.kamer
        channel, recipient = kamer_channel(kamer, email_enabled=self.channels.email)
        common = self._common(KAMER, template, self.kamer_language, context, subject)
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
                "review_url": review_url(self.public_url, self.data.get("request_id")),
                "data": dict(self.data),
                **({"message": context.get("message", template)} if topic else {}),  # what the person missed
            }
            self.notifications.append(Notification(
                key=notification_key(self.event_id, hook, WEBHOOK), recipient=hook, channel=WEBHOOK,
                address=kamer.webhook_url, payload=payload, **common))

    def to_person(self, kind: str, person_id: str, template: str, context: Mapping[str, Any], *,
                  call_instead: bool = True) -> bool:
        """A message for a volunteer or resident in their language, over their channel;
        the kamer is asked to call them when no channel reaches them (unless not
        ``call_instead``: then nobody is). True if the person's own channel has it."""
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
                **self._common(kind, template, language, context, (kind, person_id))))
            return True
        if not call_instead:
            return False
        why = (NO_CONTACT if contact is None else
               NOT_DELIVERED if (kind, person_id) in self.known.unreachable else NO_CHANNEL)
        self._please_call(kind, person_id, contact, (contact.first_name or None) if contact else None,
                          template, context, why)

    def to_provider(self, template: str, context: Mapping[str, Any], webhook: Mapping[str, Any]) -> None:
        """A message for the referral's provider in its language: by e-mail (the mailbox in the
        embedded demo), and ``webhook`` as JSON to its own system when it has one, signed with
        the provider's secret. The kamer is asked to call it when neither reaches it (inactive,
        no address, or its e-mail failed for good)."""
        provider, provider_id = self.known.provider, self.data["provider_id"]
        failed = (PROVIDER, provider_id) in self.known.unreachable
        if provider is not None and provider.active:
            language = message_language(provider.language)
            if provider.webhook_url:  # no subject: a failed webhook alone does not make the kamer call
                hook = f"{WEBHOOK}:{provider_signer(provider_id)}"
                self.notifications.append(Notification(
                    key=notification_key(self.event_id, hook, WEBHOOK), recipient=hook, channel=WEBHOOK,
                    address=provider.webhook_url, payload=webhook, signer=provider_signer(provider_id),
                    **self._common(PROVIDER, template, language, context, None)))
            route = None if failed else person_channel(provider.email, None, email_enabled=self.channels.email,
                                                       sms_enabled=False)
            if route is not None:
                channel, recipient = route
                self.notifications.append(Notification(
                    key=notification_key(self.event_id, recipient, channel), recipient=recipient, channel=channel,
                    **self._common(PROVIDER, template, language, context, (PROVIDER, provider_id))))
                return
            if provider.webhook_url and not failed:
                return
        why = (NO_CONTACT if provider is None else INACTIVE if not provider.active else
               NOT_DELIVERED if failed else NO_CHANNEL)
        self._please_call(PROVIDER, provider_id, provider, provider.name if provider else None, template, context,
                          why)

    def _please_call(self, kind: str, person_id: str, contact, name: str | None, template: str,
                     context: Mapping[str, Any], why: str) -> None:
        """The kamer is asked to call someone our own channels do not reach (a volunteer, a
        resident, a provider), with what the message would have told them."""
        self.to_kamer(PLEASE_CALL, {
            **context,  # what the person would have been told, for the kamer to say
            "kamer_name": self.kamer.name,
            "request_id": self.data.get("request_id"),
            "person_kind": kind,
            "person_id": person_id,
            "person_first_name": name,
            "person_phone": contact.phone if contact else None,
            "person_language": message_language(contact.language) if contact else None,
            "message": template,
            "why": why,
            "review_url": review_url(self.public_url, self.data.get("request_id")),
        }, topic=f"call:{kind}:{person_id}", subject=(kind, person_id))
        return False

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
