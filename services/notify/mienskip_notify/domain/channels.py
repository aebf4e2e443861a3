"""Over which channel a message reaches its recipient.

A kamer hears about an event by e-mail (when SMTP is configured and it has an
address) or else in its local mailbox, and *also* on its own system's webhook when it
registered one: a separate notification with its own key, so one channel failing
neither blocks nor repeats the other.

A volunteer or resident hears by e-mail when SMTP is configured and we know their
address; else by SMS when the gateway is configured and we know their phone; else in
the local mailbox when we know an address (the embedded demo); else the kamer gets
"please call" with what they should tell them, so nobody is skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .contacts import KamerContact
from .facts import LOCAL_TIME

EMAIL = "email"
MAILBOX = "mailbox"  # .eml files on local disk: the embedded demo's real channel
WEBHOOK = "webhook"  # a signed JSON POST to the kamer's own system
SMS = "sms"  # through an HTTP gateway, for people with a phone and no e-mail

# The reason stored and announced when a kamer's SMS budget for the month is spent.
SMS_LIMIT_REACHED = "sms limit reached"


@dataclass(frozen=True)
class Channels:
    """Which channels for people this notify has configured."""

    email: bool = False
    sms: bool = False


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
