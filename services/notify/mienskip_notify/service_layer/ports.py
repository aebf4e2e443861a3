"""What the handlers are given besides the event: a unit of work, and the ports that
deliver (composer, senders, where links point and how they are signed, the SMS budget)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, Self

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts import Envelope
from mienskip_shared.links import sign_follow_up_link, sign_referral_link, sign_volunteer_link

from ..domain.channels import EMAIL, SMS, Channels
from ..domain.contacts import KamerContact, Known, ProviderContact, ResidentContact, Task, VolunteerContact
from ..domain.notifications import Notification
from ..domain.planner import notifications_for
from ..domain.review_digest import DEFAULT_EVERY

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


class StoredNotification(Protocol):
    """A notification as stored (``adapters.notifications``): what the handlers read of it."""

    key: str
    status: str
    recipient_kind: str
    template: str
    subject_kind: str | None
    subject_id: str | None


class Contacts(Protocol):
    def save_kamer(self, kamer: KamerContact, as_of: datetime) -> bool: ...
    def kamer(self, kamer_id: str) -> KamerContact | None: ...
    def kamers(self, kamer_ids: Iterable[str]) -> dict[str, KamerContact]: ...
    def save_volunteers(self, contacts: Sequence[tuple[VolunteerContact, datetime]]) -> None: ...
    def save_residents(self, contacts: Sequence[tuple[ResidentContact, datetime]]) -> None: ...
    def volunteers(self, volunteer_ids: Iterable[str]) -> dict[str, VolunteerContact]: ...
    def residents(self, request_ids: Iterable[str]) -> dict[str, ResidentContact]: ...
    def forget(self, kind: str, subject_id: str) -> None: ...
    def save_provider(self, provider: ProviderContact, as_of: datetime) -> bool: ...
    def providers(self, provider_ids: Iterable[str]) -> dict[str, ProviderContact]: ...


class Tasks(Protocol):
    def remember(self, facts: Mapping[str, tuple[str | None, Mapping | None]], hold: Iterable[str] = ()) -> None: ...
    def remember_cancelled(self, cancelled: Mapping[str, datetime]) -> None: ...
    def get_all(self, request_ids: Iterable[str]) -> dict[str, Task]: ...
    def told_volunteers(self, request_id: str) -> tuple[str, ...]: ...


class Notifications(Protocol):
    def planned_for_events(self, event_ids: Iterable[str]) -> dict[str, list[StoredNotification]]: ...
    def add_all(self, notifications: Sequence[Notification]) -> None: ...
    def add(self, notification: Notification) -> str: ...
    def mark_all_sent(self, keys: Sequence[str]) -> set[str]: ...
    def record_failure(self, key: str, error: str) -> int: ...
    def fail_for_good(self, *, error: str, key: str | None = None,
                      source_event_id: str | None = None) -> list[Any]: ...  # rows as failed_event reads them
    def blank_recipients(self, kind: str, subject_id: str) -> list[Any]: ...


class SmsBudget(Protocol):
    def reserve(self, key: str, kamer_id: str, month: str, limit: int) -> bool: ...
    def used(self, kamer_id: str, month: str) -> int: ...


class Schedule(Protocol):
    """Messages due later, the kamers' times and review digests (``adapters.schedule``)."""

    def save_kamer_times(self, kamer_id: str, times: Any, as_of: datetime) -> None: ...
    def kamer_times(self, kamer_id: str) -> Any: ...
    def add(self, items: Sequence[Any]) -> None: ...
    def cancel(self, *, request_id: str | None = None, assignment_id: str | None = None,
               volunteer_id: str | None = None) -> int: ...
    def call_off(self, kinds: Sequence[str], assignment_id: str, kamer_id: str, at: datetime) -> None: ...
    def claim_due(self, now: datetime, until: datetime, limit: int) -> list[Any]: ...
    def finish(self, item: Any, status: str) -> None: ...
    def try_again(self, item: Any, at: datetime, attempts: int) -> None: ...
    def lock_digest(self, kamer_id: str) -> Any: ...
    def mailed(self, kamer_id: str, at: datetime, *, closing: str | None = None) -> None: ...
    def open_digest(self, kamer_id: str, digest_id: str) -> None: ...
    def held_of(self, event_ids: Sequence[str]) -> set[str]: ...
    def hold_reviews(self, holds: Sequence[Any]) -> None: ...
    def held_reviews(self, digest_id: str) -> list[Any]: ...


class UnitOfWork(Protocol):
    """One transaction over notify's repositories, outbox and inbox (``adapters.unit_of_work``);
    the service layer sees it only through these protocols, never a table."""

    contacts: Contacts
    tasks: Tasks
    notifications: Notifications
    sms_budget: SmsBudget
    schedule: Schedule

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
    link_secret: str = field(default="", repr=False)  # signs volunteers' and providers' accept/decline links
    sms_limit_per_kamer_month: int = DEFAULT_SMS_LIMIT_PER_KAMER_MONTH
    clock: Callable[[], datetime] = utcnow  # what is due, and the kamer's review digest, go by this
    kamer_digest_every: timedelta = DEFAULT_EVERY

    @property
    def channels(self) -> Channels:
        return Channels(email=EMAIL in self.senders, sms=SMS in self.senders)

    def sign_link(self, assignment_id: str, volunteer_id: str, expires_at: datetime) -> str:
        if not self.link_secret:
            raise ValueError("no secret to sign volunteer links with")
        return sign_volunteer_link(self.link_secret, assignment_id, volunteer_id, expires_at)

    def sign_referral(self, referral_id: str, provider_id: str, expires_at: datetime) -> str:
        if not self.link_secret:
            raise ValueError("no secret to sign provider links with")
        return sign_referral_link(self.link_secret, referral_id, provider_id, expires_at)

    def sign_follow_up(self, request_id: str, assignment_id: str, expires_at: datetime) -> str:
        if not self.link_secret:
            raise ValueError("no secret to sign follow-up links with")
        return sign_follow_up_link(self.link_secret, request_id, assignment_id, expires_at)

    def messages_for(self, envelope: Envelope, known: Known) -> list[Notification]:
        """Every message ``envelope`` causes, given what notify knows (the domain's plan)."""
        return notifications_for(
            envelope.event_type, envelope.event_id, envelope.occurred_at, envelope.data, known.kamer,
            email_enabled=self.channels.email, sms_enabled=self.channels.sms, public_url=self.public_url,
            known=known, sign_link=self.sign_link, sign_referral=self.sign_referral)
