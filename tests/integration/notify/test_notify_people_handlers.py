"""Messages to volunteers, residents and kamers through the handlers, against SQLite and
PostgreSQL: each event, batches, duplicates, review requests, cancellation and erasure."""

from __future__ import annotations

import json
from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from notify_support import (
    ADDRESS,
    SECRET,
    START,
    T0,
    VOLUNTEER_EMAIL,
    announcements,
    assignment,
    event,
    ports,
    record_contacts,
    rows,
    setup_people,
)
from sqlalchemy import func, select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.senders import SendFailed, SmsSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.service_layer.contacts import erase_person
from mienskip_notify.service_layer.sending import give_up, notify_batch
from mienskip_shared.links import verify_volunteer_link


@pytest.fixture
def sms(http_sink):
    sender = SmsSender(f"{http_sink.url}/sms", "gateway-key", timeout=(2, 5))
    yield sender
    sender.close()


def review_requested():
    """intake asks the kamer to review a proposal its policy does not approve."""
    return event("assignment.review_requested", {
        "assignment_id": "as-1", "request_id": "rq-1", "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "distance_km": 1.2,
        "explanation": {"distance_km": 1.2, "skills_matched": ["pets"],
                        "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3},
                                      "rule": None}}})


def count(engine, table, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def mails(mailbox):
    found = {}
    for path in sorted(mailbox.root.rglob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        found[message["Subject"]] = (message, message.get_body(("plain",)).get_content())
    return found


def test_contacts_are_kept_per_id_and_a_newer_event_wins(engine):
    setup_people(engine)
    record_contacts(engine, event("contact.volunteer", {
        "volunteer_id": "vo-7", "kamer_id": "grou", "first_name": "Hiltsje", "email": "new@example.org",
        "phone": None, "language": "en"}, occurred_at=T0 + timedelta(hours=1)))
    record_contacts(engine, event("contact.volunteer", {
        "volunteer_id": "vo-7", "kamer_id": "grou", "first_name": "Hiltsje", "email": "old@example.org",
        "phone": None, "language": "nl"}, occurred_at=T0 - timedelta(hours=1)))
    with engine.connect() as conn:
        (volunteer,) = conn.execute(select(tables.volunteers)).all()
        (resident,) = conn.execute(select(tables.residents)).all()
    assert (volunteer.email, volunteer.language) == ("new@example.org", "en")
    assert (resident.request_id, resident.address, resident.neighbourhood) == ("rq-1", ADDRESS, "Grou")


def test_contacts_in_one_batch_are_written_together_and_the_newest_of_each_wins(engine):
    setup_people(engine)  # vo-7 and rq-1 stored from events at T0

    def volunteer(email, hours, volunteer_id="vo-7"):
        return event("contact.volunteer", {
            "volunteer_id": volunteer_id, "kamer_id": "grou", "first_name": "Hiltsje", "email": email,
            "phone": None, "language": "nl"}, occurred_at=T0 + timedelta(hours=hours))

    def resident(address, hours):
        return event("contact.resident", {
            "request_id": "rq-1", "kamer_id": "grou", "first_name": "Durk", "phone": None, "language": "fy",
            "address": address, "neighbourhood": "Grou"}, occurred_at=T0 + timedelta(hours=hours))

    newest = volunteer("newest@example.org", 2)
    notify_batch([volunteer("new@example.org", 1), newest, volunteer("older@example.org", 1), newest,
                  volunteer("sjoerd@example.org", 0, "vo-8"), resident("Older 1, Grou", -1)],
                 NotifyUnitOfWork(engine), ports({}))
    with engine.connect() as conn:
        emails = dict(conn.execute(select(tables.volunteers.c.volunteer_id, tables.volunteers.c.email)).all())
        (stored_resident,) = conn.execute(select(tables.residents)).all()
    assert emails == {"vo-7": "newest@example.org", "vo-8": "sjoerd@example.org"}
    assert stored_resident.address == ADDRESS  # the event of T0 - 1 h came after the one of T0: too old


def test_contacts_are_never_logged(engine, capsys):
    setup_people(engine, volunteer_phone="+31612345678", resident_phone="+31587123456")
    out = capsys.readouterr()
    for secret in (VOLUNTEER_EMAIL, "Hiltsje", "+31612345678", "+31587123456", ADDRESS, "Durk"):
        assert secret not in out.out + out.err


def test_an_approval_sends_the_volunteer_an_offer_with_a_link_and_no_address(engine, mailbox, uow):
    setup_people(engine)
    approved = assignment("assignment.approved", auto=False)
    notify_batch([approved], uow, ports({"mailbox": mailbox}))

    ((message, text),) = mails(mailbox).values()
    assert message["Subject"] == "Helpfraach: húsdieren op tiisdei 1 desimber 2026"
    assert message["To"] == VOLUNTEER_EMAIL
    assert "Durk yn Grou" in text and ADDRESS not in text and "Tsjerkepaed" not in text
    token = text.split("https://mienskip.example/v/", 1)[1].split()[0]
    link = verify_volunteer_link(SECRET, token, now=T0)
    assert (link.assignment_id, link.volunteer_id, link.expires_at) == ("as-1", "vo-7", START)
    (row,) = rows(engine)
    assert (row.recipient_kind, row.subject_kind, row.subject_id, row.status, row.template) == (
        "volunteer", "volunteer", "vo-7", "sent", "volunteer_offer")
    ((_, sent),) = announcements(engine)
    assert sent["recipient_kind"] == "volunteer" and VOLUNTEER_EMAIL not in only_outbox(engine).body


def only_outbox(engine):
    with engine.connect() as conn:
        (row,) = conn.execute(select(tables.outbox)).all()
    return row


def test_acceptance_confirms_the_address_and_tells_resident_and_kamer(engine, mailbox, sms, http_sink, uow):
    setup_people(engine, resident_phone="+31587123456")
    notify_batch([assignment("assignment.accepted")], uow, ports({"mailbox": mailbox, "sms": sms}))

    found = mails(mailbox)
    confirmation = found["Befêstiging: húsdieren op tiisdei 1 desimber 2026"][1]
    assert ADDRESS in confirmation and "+31587123456" in confirmation
    assert "Hiltsje heeft de taak geaccepteerd." in found["Geaccepteerd – hulpvraag rq-1"][1]
    (texted,) = http_sink.received
    body = json.loads(texted.body)
    assert body["to"] == "+31587123456" and "Hiltsje komt jo helpen op tiisdei 1 desimber 2026" in body["text"]
    assert {(r.recipient_kind, r.channel, r.status) for r in rows(engine)} == {
        ("volunteer", "mailbox", "sent"), ("resident", "sms", "sent"), ("kamer", "mailbox", "sent")}


def test_a_late_decline_is_urgent_for_the_kamer(engine, mailbox, uow):
    setup_people(engine)
    notify_batch([assignment("assignment.declined", rematch=False, after_accept=True, reason=None)], uow,
                 ports({"mailbox": mailbox}))
    ((subject, (_, text)),) = mails(mailbox).items()
    assert subject == "DRINGEND: Afgezegd – hulpvraag rq-1" and "48 uur" in text


def test_an_escalation_is_urgent_for_the_kamer(engine, mailbox, uow):
    setup_people(engine)
    notify_batch([event("request.escalated", {"request_id": "rq-1", "kamer_id": "grou", "region": "leeuwarden",
                                              "reason": "late_decline", "urgent": True})], uow,
                 ports({"mailbox": mailbox}))
    assert list(mails(mailbox)) == ["DRINGEND: Hulpvraag rq-1 ligt bij de coördinator"]


def test_unmatched_tells_the_kamer_and_asks_it_to_call_a_resident_without_sms(engine, mailbox, uow):
    setup_people(engine, resident_phone="+31587123456")
    notify_batch([event("request.unmatched", {"request_id": "rq-1", "kamer_id": "grou", "region": "leeuwarden",
                                              "reasons": {"distance": 3}, "considered": 3})], uow,
                 ports({"mailbox": mailbox}))
    found = mails(mailbox)
    assert set(found) == {"Geen vrijwilliger gevonden – hulpvraag rq-1", "Graag bellen: bewoner Durk – hulpvraag rq-1"}
    call = found["Graag bellen: bewoner Durk – hulpvraag rq-1"][1]
    assert "+31587123456" in call and "Taal: Fries" in call and "nog geen vrijwilliger gevonden" in call


def test_a_cancellation_reaches_the_volunteer_who_had_an_offer_not_one_who_declined(engine, mailbox, uow):
    setup_people(engine)
    record_contacts(engine, event("contact.volunteer", {
        "volunteer_id": "vo-9", "kamer_id": "grou", "first_name": "Sjoerd", "email": "sjoerd@example.org",
        "phone": None, "language": "nl"}))
    p = ports({"mailbox": mailbox})
    notify_batch([assignment("assignment.approved", "vo-9", "as-0", auto=False)], uow, p)
    notify_batch([assignment("assignment.declined", "vo-9", "as-0", rematch=True)], uow, p)
    notify_batch([assignment("assignment.approved", auto=False)], uow, p)
    notify_batch([event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None})], uow, p)

    cancellations = rows(engine, tables.notifications.c.template == "volunteer_cancellation")
    assert [(r.recipient, r.subject_id, r.status) for r in cancellations] == [(VOLUNTEER_EMAIL, "vo-7", "sent")]
    (_, text) = mails(mailbox)["Giet net troch: húsdieren op tiisdei 1 desimber 2026"]
    assert "Hoi Hiltsje" in text  # category and time remembered from the approval: the cancellation has neither


def test_every_event_twice_even_in_one_batch_sends_each_message_once(engine, mailbox, sms, http_sink, uow):
    setup_people(engine, resident_phone="+31587123456")
    events = [assignment("assignment.approved", auto=False), assignment("assignment.accepted")]
    cancellation = event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None})
    p = ports({"mailbox": mailbox, "sms": sms})
    notify_batch(events + events, uow, p)  # a redelivery overtaking the ack lands in the same batch
    # (a cancellation in the approval's batch sends no offer at all: test_notify_cancellation_race)
    notify_batch([cancellation, cancellation], uow, p)
    for e in [*events, cancellation]:
        notify_batch([e], uow, p)  # and each again on its own
    # the offer; the confirmation, the resident's SMS, the kamer's "accepted"; the cancellation
    assert [r.template for r in rows(engine)] == ["volunteer_offer", "volunteer_confirmation",
                                                  "resident_volunteer_coming", "assignment_accepted",
                                                  "volunteer_cancellation"]
    assert len(announcements(engine)) == 5 and len(http_sink.received) == 1
    assert len(list(mailbox.root.rglob("*.eml"))) == 4
    assert count(engine, tables.inbox) == 3 + 3  # kamer and two contacts, three events


def test_a_failed_send_in_a_batch_holds_back_no_other_and_is_sent_once_later(engine, mailbox, tmp_path, uow):
    setup_people(engine)
    record_contacts(engine, event("contact.volunteer", {
        "volunteer_id": "vo-9", "kamer_id": "grou", "first_name": "Sjoerd", "email": "sjoerd@example.org",
        "phone": None, "language": "nl"}))

    class RefusesSjoerd:
        def send(self, notification, message):
            if notification.recipient == "sjoerd@example.org":
                raise SendFailed("OSError: No space left on device")
            mailbox.send(notification, message)

    first, second = assignment("assignment.approved", auto=False), assignment(
        "assignment.approved", "vo-9", "as-2", auto=False)
    with pytest.raises(SendFailed):
        notify_batch([first, second], uow, ports({"mailbox": RefusesSjoerd()}))
    assert [(r.subject_id, r.status, r.attempts) for r in rows(engine)] == [("vo-7", "sent", 1), ("vo-9", "pending", 1)]

    notify_batch([first], uow, ports({"mailbox": mailbox}))  # the consumer then tries each on its own
    notify_batch([second], uow, ports({"mailbox": mailbox}))
    assert [(r.subject_id, r.status, r.attempts) for r in rows(engine)] == [("vo-7", "sent", 1), ("vo-9", "sent", 2)]
    assert len(list(mailbox.root.rglob("*.eml"))) == 2 and count(engine, tables.outbox) == 2


def test_giving_up_on_a_volunteer_asks_the_kamer_to_call_them(engine, mailbox, uow):
    setup_people(engine)

    class VolunteerMailDown:
        def send(self, notification, message):
            if notification.recipient_kind == "volunteer":
                raise SendFailed("SMTPRecipientsRefused: [550]")
            mailbox.send(notification, message)

    approved = assignment("assignment.approved", auto=False)
    p = ports({"mailbox": VolunteerMailDown()})
    with pytest.raises(SendFailed):
        notify_batch([approved], uow, p)
    give_up(approved, SendFailed("SMTPRecipientsRefused: [550]"), uow, p)

    assert [(r.template, r.status) for r in rows(engine)] == [("volunteer_offer", "failed"), ("please_call", "sent")]
    ((subject, (_, text)),) = mails(mailbox).items()
    assert subject == "Graag bellen: vrijwilliger Hiltsje – hulpvraag rq-1"
    assert "Ons bericht kon niet worden bezorgd." in text
    assert sorted(event_type for event_type, _ in announcements(engine)) == ["notification.failed", "notification.sent"]


def test_over_the_sms_budget_the_kamer_calls_instead(engine, mailbox, sms, http_sink, uow):
    setup_people(engine, volunteer_email=None, volunteer_phone="+31612345678")
    p = ports({"mailbox": mailbox, "sms": sms}, sms_limit_per_kamer_month=0)
    notify_batch([assignment("assignment.approved", auto=False)], uow, p)
    assert http_sink.received == []
    assert [(r.channel, r.status, r.last_error) for r in rows(engine)] == [
        ("sms", "failed", "sms limit reached"), ("mailbox", "sent", None)]
    assert list(mails(mailbox)) == ["Graag bellen: vrijwilliger Hiltsje – hulpvraag rq-1"]


# -- "ready for review": when intake asks for it ------------------------------------------------

def test_a_review_request_is_one_message_to_the_kamer_even_delivered_twice(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    review = review_requested()
    notify_batch([review, review], uow, p)  # a redelivery overtaking its ack, in one batch
    notify_batch([review], uow, p)  # redelivered later
    assert list(mails(mailbox)) == ["Voorstel klaar voor beoordeling – hulpvraag rq-1"]
    assert [(r.template, r.recipient_kind, r.status, r.source_event_type) for r in rows(engine)] == [
        ("assignment_proposed", "kamer", "sent", "assignment.review_requested")]
    assert count(engine, tables.outbox) == 1  # one notification.sent


def test_a_review_request_that_overtook_its_cancellation_tells_nobody(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    notify_batch([event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None})], uow, p)
    notify_batch([review_requested()], uow, p)  # another queue: handled after the cancellation
    assert rows(engine) == [] and list(mails(mailbox)) == []


# -- erasure --------------------------------------------------------------------------------

def test_erasure_removes_the_contact_blanks_addresses_and_the_mailbox_copies(engine, mailbox, uow):
    setup_people(engine)
    p = ports({"mailbox": mailbox})
    notify_batch([assignment("assignment.approved", auto=False), assignment("assignment.accepted")], uow, p)
    # the offer, the confirmation, "accepted" to the kamer, and "please call" for the resident (no SMS)
    assert len(list(mailbox.root.rglob("*.eml"))) == 4
    erased = event("personal_data.erased", {"subject_kind": "volunteer", "subject_id": "vo-7", "kamer_id": "grou",
                                            "reason": "request"})
    erase_person(erased, uow, mailbox)
    erase_person(erased, uow, mailbox)  # twice: harmless

    assert count(engine, tables.volunteers) == 0 and count(engine, tables.residents) == 1
    theirs = rows(engine, tables.notifications.c.recipient_kind == "volunteer")
    assert [(r.recipient, r.status, r.subject_id) for r in theirs] == [("", "sent", "vo-7"), ("", "sent", "vo-7")]
    assert [r.recipient for r in rows(engine, tables.notifications.c.recipient_kind == "kamer")] == [
        "mailbox:grou#call:resident:rq-1", "mailbox:grou"]
    assert sorted(mails(mailbox)) == ["Geaccepteerd – hulpvraag rq-1",  # the kamer's own copies stay
                                      "Graag bellen: bewoner Durk – hulpvraag rq-1"]

    # what comes after the erasure for them goes to the kamer, who may still reach them
    notify_batch([event("request.cancelled", {"request_id": "rq-1", "kamer_id": "grou", "reason": None})], uow, p)
    assert [r.template for r in rows(engine, tables.notifications.c.source_event_type == "request.cancelled")] == [
        "please_call"]

    erase_person(event("personal_data.erased", {"subject_kind": "resident", "subject_id": "rq-1",
                                                 "kamer_id": "grou", "reason": "retention"}), uow, mailbox)
    assert count(engine, tables.residents) == 0
