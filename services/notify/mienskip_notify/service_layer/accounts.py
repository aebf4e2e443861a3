"""E-mail for people's accounts at intake: the invitation and the password reset.

intake announces ``user.invited`` / ``user.password_reset`` with only the address, the
language and the link; notify words the message from its catalogue (``account.*``) in
nl, fy or en and sends it once, by e-mail when an SMTP server is configured, else into
the local mailbox (``mailbox/accounts/``). Like every message: a deterministic key from
the event, recipient and channel (a redelivered event sends nothing twice), the same
delivery and retry path as the others (:func:`.sending.deliver`), ids-only logs.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from mienskip_shared.contracts import Envelope
from mienskip_shared.i18n import Catalogue

from ..domain.channels import EMAIL, MAILBOX
from ..domain.languages import message_language
from ..domain.notifications import Notification, notification_key
from .ports import Ports, UnitOfWork
from .sending import deliver

log = structlog.get_logger(__name__)

ACCOUNT_EVENTS = {"user.invited": "account_invite", "user.password_reset": "account_reset"}
MAILBOX_FOLDER = "accounts"  # what stands in the kamer's place: the mailbox folder and header
PERSON = "person"  # the recipient kind: someone with an account at intake
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"


@cache
def _words() -> Catalogue:
    return Catalogue(CATALOGUE_DIR)


def account_words(template: str, language: str, expires_at: datetime) -> dict[str, str]:
    """The message's sentences in ``language`` (``account.invite.*`` or ``account.reset.*``)."""
    words, lang = _words(), message_language(language)
    kind = template.removeprefix("account_")
    until = expires_at.astimezone(AMSTERDAM).strftime("%d-%m-%Y %H:%M")
    return {"subject": words.text(lang, f"account.{kind}.subject"), "greeting": words.text(lang, "account.greeting"),
            "body": words.text(lang, f"account.{kind}.body"), "action": words.text(lang, f"account.{kind}.action"),
            "expires": words.text(lang, "account.expires", until=until),
            "ignore": words.text(lang, f"account.{kind}.ignore")}


def account_message(envelope: Envelope, channels_with_email: bool) -> Notification:
    data, template = envelope.data, ACCOUNT_EVENTS[envelope.event_type]
    channel = EMAIL if channels_with_email else MAILBOX
    return Notification(
        key=notification_key(envelope.event_id, data["email"], channel),
        source_event_id=envelope.event_id, source_event_type=envelope.event_type, request_id=None,
        kamer_id=MAILBOX_FOLDER, recipient_kind=PERSON, recipient=data["email"], channel=channel,
        template=template, language=message_language(data["language"]),
        context={"link": data["link"], "words": account_words(template, data["language"], data["expires_at"])})


def send_account_mail(envelope: Envelope, uow: UnitOfWork, ports: Ports) -> None:
    """Plan the message (once per event), then deliver it if it is still owed."""
    notification = account_message(envelope, EMAIL in ports.senders)
    with uow:
        uow.claim(envelope)  # a redelivery finds the notification below, sent or still owed
        status = uow.notifications.add(notification)
        uow.commit()
    if status != "pending":
        log.info("account_mail.already_sent", notification_key=notification.key, status=status)
        return
    deliver([(notification, envelope)], uow, ports)
