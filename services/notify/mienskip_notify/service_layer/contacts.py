"""What notify keeps of the people and kamers it writes to, and forgets on erasure.
Contacts are personal data: logged by id only, never their content."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog

from mienskip_shared.contracts import Envelope, distinct

from ..domain.channels import MAILBOX
from ..domain.contacts import KamerContact, ProviderContact, ResidentContact, VolunteerContact
from ..domain.schedule import KamerTimes
from .ports import UnitOfWork
from .scheduling import forget_person

log = structlog.get_logger(__name__)

PROVIDER_EVENTS = ("provider.registered", "provider.updated")
CONTACT_EVENTS = ("contact.volunteer", "contact.resident", *PROVIDER_EVENTS)


def record_kamer(envelope: Envelope, uow: UnitOfWork) -> None:
    """kamer.registered: keep the kamer's contact points (a newer event wins)."""
    data = envelope.data
    kamer = KamerContact(
        kamer_id=data["kamer_id"],
        name=data["name"],
        email=data.get("email"),
        webhook_url=data.get("webhook_url"),
        language=data.get("language") or "nl",
        phone=data.get("phone"),
    )
    with uow:
        if not uow.claim(envelope):
            log.info("kamer.already_recorded", kamer_id=kamer.kamer_id)
            return
        stored = uow.contacts.save_kamer(kamer, envelope.occurred_at)
        if stored:
            uow.schedule.save_kamer_times(kamer.kamer_id, KamerTimes.parse(
                data.get("reminder_time"), data.get("follow_up_days")), envelope.occurred_at)
        uow.commit()
    log.info("kamer.recorded" if stored else "kamer.outdated_event_ignored", kamer_id=kamer.kamer_id)


def record_contacts(envelopes: Sequence[Envelope], uow: UnitOfWork) -> None:
    """contact.volunteer, contact.resident, provider.registered|updated: keep each contact
    (a newer event wins; for a provider, a higher revision), inside the caller's transaction
    (the batch's: a message in it may need the contact). One inbox claim for them all, one
    write for the volunteers and one for the residents; the same event twice in a batch
    counts once."""
    once = distinct(envelopes)
    claimed = uow.claim_all(once)
    volunteers: list[tuple[VolunteerContact, datetime]] = []
    residents: list[tuple[ResidentContact, datetime]] = []
    for envelope in (e for e in once if e.event_id in claimed):
        data = envelope.data
        if envelope.event_type in PROVIDER_EVENTS:
            record_provider(envelope, uow)
        elif envelope.event_type == "contact.volunteer":
            volunteers.append((VolunteerContact(
                volunteer_id=data["volunteer_id"], kamer_id=data["kamer_id"], first_name=data["first_name"],
                email=data.get("email"), phone=data.get("phone"), language=data["language"]), envelope.occurred_at))
        else:
            residents.append((ResidentContact(
                request_id=data["request_id"], kamer_id=data["kamer_id"], first_name=data.get("first_name"),
                phone=data.get("phone"), language=data["language"], address=data.get("address"),
                neighbourhood=data.get("neighbourhood")), envelope.occurred_at))
    uow.contacts.save_volunteers(volunteers)
    uow.contacts.save_residents(residents)
    if volunteers or residents:  # ids only, never the contact
        log.info("contacts.recorded", volunteer_ids=[c.volunteer_id for c, _ in volunteers],
                 request_ids=[c.request_id for c, _ in residents])


def record_provider(envelope: Envelope, uow: UnitOfWork) -> None:
    """A care provider's contact points, whole in every event; the highest revision wins,
    whichever arrives first. One that stops (``active: false``) is kept, inactive: a
    referral sent before still names it, a new one asks the kamer to call it instead."""
    data = envelope.data
    stored = uow.contacts.save_provider(ProviderContact(
        provider_id=data["provider_id"], name=data["name"], email=data.get("email"), phone=data.get("phone"),
        webhook_url=data.get("webhook_url"), language=data.get("language") or "nl", active=data.get("active", True),
        revision=data.get("revision") or 0), envelope.occurred_at)
    log.info("provider.recorded" if stored else "provider.outdated_event_ignored", provider_id=data["provider_id"],
             revision=data.get("revision"), active=data.get("active", True))


def erase_person(envelope: Envelope, uow: UnitOfWork, mailbox=None) -> None:
    """personal_data.erased: forget the person's contact, blank the addresses we wrote
    to, and remove the copies of their messages from the local mailbox. Ids, status and
    times stay: the history says a message went, not to where."""
    data = envelope.data
    kind, subject_id = data["subject_kind"], data["subject_id"]
    with uow:
        uow.claim(envelope)  # erasing twice is harmless: no early return
        uow.contacts.forget(kind, subject_id)
        forget_person(uow, kind, subject_id)  # nothing scheduled is sent to or about them
        rows = uow.notifications.blank_recipients(kind, subject_id)
        uow.commit()
    if mailbox is not None:
        for row in rows:
            if row.channel == MAILBOX:
                mailbox.remove(row.kamer_id, row.key)
    log.info("person.erased", subject_kind=kind, subject_id=subject_id, notifications=len(rows))
