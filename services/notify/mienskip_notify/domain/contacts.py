"""Who notify writes to, and what it knows of a request when an event arrives."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

# Recipient kinds, and the kinds of person a message is for or about.
KAMER = "kamer"
VOLUNTEER = "volunteer"
RESIDENT = "resident"
PROVIDER = "provider"  # a care organisation a request is referred to


@dataclass(frozen=True)
class KamerContact:
    """A kamer is an organisation; still, its address is not logged (ids only)."""

    kamer_id: str
    name: str
    email: str | None = None
    webhook_url: str | None = None
    language: str = "nl"
    phone: str | None = None  # whom a volunteer or provider calls with a question


@dataclass(frozen=True)
class ProviderContact:
    """From provider.registered|updated: an organisation, like a kamer (not personal data);
    still logged by id only. ``revision`` orders its versions; an inactive provider is
    sent no new referral."""

    provider_id: str
    name: str
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None
    language: str = "nl"
    active: bool = True
    revision: int = 0


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
    provider: ProviderContact | None = None  # the referral's provider, for referral.* events

    @property
    def request_cancelled(self) -> bool:
        """The request's cancellation has been handled. Any other event about it that
        arrives later (they travel other queues) then tells nobody anything: no offer
        for a task that no longer exists, no address, no "a volunteer is coming", no
        "ready for review" or "declined" to the kamer that cancelled it."""
        return self.task is not None and self.task.cancelled_at is not None
