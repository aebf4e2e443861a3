"""What the handlers are given besides the event: a unit of work, and the ports that
deliver (composer, senders, where links point and how they are signed, the SMS budget)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, Self

from mienskip_shared.contracts import Envelope
from mienskip_shared.links import sign_volunteer_link

from ..adapters.contacts import ContactRepository
from ..adapters.notifications import NotificationRepository
from ..adapters.sms_budget import SmsBudgetRepository
from ..adapters.tasks import TaskRepository
from ..domain.channels import EMAIL, SMS, Channels
from ..domain.contacts import Known
from ..domain.notifications import Notification
from ..domain.planner import notifications_for

DEFAULT_SMS_LIMIT_PER_KAMER_MONTH = 200


class Sender(Protocol):
    def send(self, notification: Notification, content: Any) -> None: ...


class Answer(Protocol):
    def result(self) -> None: ...  # returns once the server accepted the message; raises if not


class Submitter(Sender, Protocol):
    """A sender that can hand a message over and read the server's answer later (SMTP)."""

    def submit(self, notification: Notification, content: Any) -> Answer: ...


class Composer(Protocol):
    def compose(self, notification: Notification) -> Any: ...  # what the channel's sender takes


class UnitOfWork(Protocol):
    """One transaction over notify's repositories, outbox and inbox (``adapters.unit_of_work``)."""

    contacts: ContactRepository
    tasks: TaskRepository
    notifications: NotificationRepository
    sms_budget: SmsBudgetRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info) -> None: ...
    def claim(self, envelope: Envelope) -> bool: ...
    def claim_all(self, envelopes: Sequence[Envelope]) -> set[str]: ...
    def publish_all(self, envelopes: Sequence[Envelope]) -> None: ...
    def commit(self) -> None: ...


@dataclass(frozen=True)
class Ports:
    """What planning and delivering need besides the event and the database: built once by bootstrap."""

    composer: Composer
    senders: Mapping[str, Sender]
    public_url: str
    link_secret: str = field(default="", repr=False)  # signs volunteers' accept/decline links
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH

    @property
    def channels(self) -> Channels:
        return Channels(email=EMAIL in self.senders, sms=SMS in self.senders)

    def sign_link(self, assignment_id: str, volunteer_id: str, expires_at: datetime) -> str:
        if not self.link_secret:
            raise ValueError("no secret to sign volunteer links with")
        return sign_volunteer_link(self.link_secret, assignment_id, volunteer_id, expires_at)

    def messages_for(self, envelope: Envelope, known: Known) -> list[Notification]:
        """Every message ``envelope`` causes, given what notify knows (the domain's plan)."""
        return notifications_for(
            envelope.event_type, envelope.event_id, envelope.occurred_at, envelope.data, known.kamer,
            email_enabled=self.channels.email, sms_enabled=self.channels.sms, public_url=self.public_url,
            known=known, sign_link=self.sign_link)
