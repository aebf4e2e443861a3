"""Referrals to care providers through notify's handlers, against SQLite and PostgreSQL:
provider contacts by revision, the provider's e-mail and signed webhook once per event,
the kamer and the resident told of the answer, and the kamer's phone in a volunteer's offer."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from notify_support import (
    ADDRESS,
    SECRET,
    START,
    T0,
    WINDOW,
    assignment,
    event,
    ports,
    record_contacts,
    rows,
    setup_people,
)
from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.senders import SendFailed, SmsSender, WebhookSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import WebhookKeyMissing, require_no_webhooks
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.planning import ProviderNotKnownYet
from mienskip_notify.service_layer.sending import give_up, notify_batch
from mienskip_notify.webhooks import BadSignature, kamer_secret, provider_secret, verify_webhook
from mienskip_shared.contracts import parse
from mienskip_shared.links import verify_referral_link

MASTER = "integration webhook master key"
DUE = T0 + timedelta(days=2)
PROVIDER = {"provider_id": "pr-1", "name": "Sociaal Wijkteam Grou", "kind": "wijkteam", "region": "leeuwarden",
            "categories": ["paperwork"], "email": "wijkteam@example.org", "phone": "+31582345678",
            "language": "nl", "active": True, "revision": 0}
REFERRAL = {"referral_id": "rf-1", "request_id": "rq-1", "provider_id": "pr-1", "kamer_id": "grou",
            "region": "leeuwarden", "actor": "kamer", "category": "paperwork", "helper": "both"}
# What notify knows of resident Durk (setup_people): none of it may reach the provider.
RESIDENT_SECRETS = ("Durk", ADDRESS, "Tsjerkepaed")


def provider_event(event_type="provider.registered", *, occurred_at=T0 - timedelta(days=1), **fields):
    return event(event_type, {**PROVIDER, **fields}, occurred_at=occurred_at)


def referral_sent(**extra):
    return event("referral.sent", {**REFERRAL, "window": WINDOW, "urgency": "high", "due_at": DUE, **extra})


def stored_provider(engine):
    with engine.connect() as conn:
        return conn.execute(select(tables.providers)).one()


def mails(mailbox):
    found = []
    for path in sorted(mailbox.root.rglob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default)
        found.append((message, message.get_body(("plain",)).get_content()))
    return found


# -- provider contacts -------------------------------------------------------------------------------

@pytest.mark.parametrize("newest_first", [True, False])
def test_the_highest_revision_wins_whichever_arrives_first(engine, newest_first):
    older = provider_event("provider.registered", revision=1, email="old@example.org",
                           occurred_at=T0 + timedelta(hours=1))  # a later clock does not make it newer
    newer = provider_event("provider.updated", revision=2, email="new@example.org", active=False, language="fy")
    for envelope in ([newer, older] if newest_first else [older, newer]):
        record_contacts(engine, envelope)
    stored = stored_provider(engine)
    assert (stored.revision, stored.email, stored.active, stored.language) == (2, "new@example.org", False, "fy")


def test_the_same_revision_again_changes_nothing_and_is_handled_once(engine):
    record_contacts(engine, provider_event(revision=3, name="Wijkteam Grou"))
    record_contacts(engine, provider_event(revision=3, name="Wijkteam Grou-Oost", occurred_at=T0 - timedelta(days=2)))
    assert stored_provider(engine).name == "Wijkteam Grou"


def test_a_server_database_without_a_master_key_refuses_to_start_once_a_provider_has_a_webhook(engine):
    record_contacts(engine, provider_event())
    require_no_webhooks(engine)  # no webhooks yet: starts (with a warning)
    record_contacts(engine, provider_event("provider.updated", revision=1, webhook_url="https://wijkteam.example/h"))
    with pytest.raises(WebhookKeyMissing, match="MIENSKIP_WEBHOOK_SECRET"):
        require_no_webhooks(engine)


# -- referral.sent: the provider ----------------------------------------------------------------------

def setup_referral(engine, *, kamer_email="grou@example.org", **provider_fields):
    setup_people(engine, resident_phone="+31587123456")
    record_kamer(event("kamer.registered", {
        "kamer_id": "grou", "name": "Dorpskamer Grou", "region": "leeuwarden", "location": {"lat": 53.094, "lon": 5.834},
        "email": kamer_email, "phone": "0566 601234", "language": "nl"}, occurred_at=T0 + timedelta(seconds=1)),
        NotifyUnitOfWork(engine))
    record_contacts(engine, provider_event(**provider_fields))


def test_a_redelivered_referral_is_sent_to_the_provider_once(engine, mailbox, uow):
    setup_referral(engine)
    sent = referral_sent()
    notify_batch([sent], uow, ports({"mailbox": mailbox}))
    notify_batch([sent, sent], uow, ports({"mailbox": mailbox}))  # redelivered, twice in one batch too
    notify_batch([sent], uow, ports({"mailbox": mailbox}))

    ((message, text),) = mails(mailbox)
    assert message["Subject"] == "SPOED: Verwijzing: papierwerk – Dorpskamer Grou"
    assert message["To"] == "wijkteam@example.org"
    assert "Dorpskamer Grou, telefoon 0566 601234" in text and "een vrijwilliger helpt ook" in text
    assert not [secret for secret in RESIDENT_SECRETS if secret in message.as_string()]
    token = text.split("https://mienskip.example/p/", 1)[1].split()[0]
    link = verify_referral_link(SECRET, token, now=T0)
    assert (link.referral_id, link.provider_id, link.expires_at) == ("rf-1", "pr-1", DUE + timedelta(days=14))
    (row,) = rows(engine)
    assert (row.recipient_kind, row.channel, row.status, row.template) == ("provider", "mailbox", "sent",
                                                                          "provider_referral")
    with engine.connect() as conn:
        (body,) = conn.execute(select(tables.outbox.c.body)).scalars().all()
    assert parse(body).data["deliveries"][0]["recipient_kind"] == "provider" and "wijkteam@example.org" not in body


def test_the_providers_webhook_is_signed_with_its_own_secret_and_carries_no_personal_data(engine, mailbox, http_sink,
                                                                                         uow):
    setup_referral(engine, webhook_url=f"{http_sink.url}/mienskip")
    webhooks = WebhookSender(lambda signer: kamer_secret(MASTER, signer), timeout=(2, 5))  # as bootstrap signs
    try:
        notify_batch([referral_sent()], uow, ports({"mailbox": mailbox, "webhook": webhooks}))
    finally:
        webhooks.close()

    (received,) = http_sink.received
    header = received.headers["Mienskip-Signature"]
    verify_webhook(provider_secret(MASTER, "pr-1"), header, received.body)
    with pytest.raises(BadSignature):  # not the kamer's secret: the provider cannot sign as the kamer
        verify_webhook(kamer_secret(MASTER, "grou"), header, received.body)
    assert not [secret for secret in RESIDENT_SECRETS if secret in received.body.decode()]
    body = json.loads(received.body)
    assert (body["type"], body["referral_id"], body["provider_id"], body["category"], body["urgency"]) == (
        "referral.sent", "rf-1", "pr-1", "paperwork", "high")
    assert body["due_at"] == DUE.isoformat() and body["window"]["start"] == START.isoformat()
    assert body["link"].startswith("https://mienskip.example/p/rl1.")
    assert len(mails(mailbox)) == 1  # and the e-mail beside it
    assert sorted((r.channel, r.status) for r in rows(engine)) == [("mailbox", "sent"), ("webhook", "sent")]


def test_a_referral_before_its_provider_is_retried_and_then_sent(engine, mailbox, uow):
    setup_people(engine)
    sent = referral_sent()
    with pytest.raises(ProviderNotKnownYet):
        notify_batch([sent], uow, ports({"mailbox": mailbox}))
    assert rows(engine) == []
    notify_batch([provider_event(), sent], uow, ports({"mailbox": mailbox}))  # a batch stores contacts first
    assert [(r.recipient_kind, r.status) for r in rows(engine)] == [("provider", "sent")]


def test_giving_up_on_the_providers_email_asks_the_kamer_to_call_it(engine, mailbox, uow):
    setup_referral(engine, kamer_email=None)

    class ProviderMailDown:
        def send(self, notification, message):
            if notification.recipient_kind == "provider":
                raise SendFailed("SMTPRecipientsRefused: [550]")
            mailbox.send(notification, message)

    sent, p = referral_sent(), ports({"mailbox": ProviderMailDown()})
    with pytest.raises(SendFailed):
        notify_batch([sent], uow, p)
    give_up(sent, SendFailed("SMTPRecipientsRefused: [550]"), uow, p)

    assert [(r.template, r.status) for r in rows(engine)] == [("provider_referral", "failed"), ("please_call", "sent")]
    ((message, text),) = mails(mailbox)
    assert message["Subject"] == "Graag bellen: zorgaanbieder Sociaal Wijkteam Grou – hulpvraag rq-1"
    assert "+31582345678" in text and "https://mienskip.example/p/rl1." in text


# -- the answers -------------------------------------------------------------------------------------

def test_an_acceptance_tells_the_kamer_and_the_resident_in_their_language(engine, mailbox, http_sink, uow):
    setup_referral(engine)
    visit = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)
    accepted = event("referral.accepted", {**REFERRAL, "actor": "provider", "who": "Sietske", "when": visit})
    sms = SmsSender(f"{http_sink.url}/sms", "gateway-key", timeout=(2, 5))
    try:
        for _ in range(2):  # redelivered: nobody hears twice
            notify_batch([accepted], uow, ports({"mailbox": mailbox, "sms": sms}))
    finally:
        sms.close()

    ((message, text),) = mails(mailbox)
    assert message["Subject"] == "Verwijzing aangenomen – hulpvraag rq-1"
    assert "Wie:           Sietske\r\n" in text and "maandag 30 november 2026, 14:30" in text
    (texted,) = http_sink.received
    assert json.loads(texted.body) == {"to": "+31587123456", "text": (
        "Dorpskamer Grou: Sociaal Wijkteam Grou helpt jo. Sietske komt by jo del of nimt kontakt mei jo op: "
        "moandei 30 novimber 2026 14:30.")}


def test_a_decline_and_an_overdue_referral_tell_the_kamer(engine, mailbox, uow):
    setup_referral(engine)
    notify_batch([referral_sent()], uow, ports({"mailbox": mailbox}))  # notify remembers the window
    notify_batch([
        event("referral.declined", {**REFERRAL, "actor": "provider", "reason": "Vol tot januari"}),
        event("referral.overdue", {**REFERRAL, "referral_id": "rf-2", "actor": "policy", "sent_at": T0,
                                   "due_at": DUE}),
    ], uow, ports({"mailbox": mailbox}))
    texts = {message["Subject"]: text for message, text in mails(mailbox)}
    declined = texts["Verwijzing afgewezen – hulpvraag rq-1"]
    assert "Reden: Vol tot januari" in declined and "https://mienskip.example/review/requests/rq-1" in declined
    assert "dinsdag 1 december 2026, 10:00–11:00 uur" in declined
    overdue = texts["Geen antwoord van Sociaal Wijkteam Grou – hulpvraag rq-1"]
    assert "De coördinator ziet dit ook" in overdue and "+31582345678" in overdue


# -- issue 16: the volunteer's offer names the kamer's phone -----------------------------------------

def test_the_offer_email_names_the_kamers_phone_and_no_notes(engine, mailbox, uow):
    setup_referral(engine)
    notify_batch([assignment("assignment.approved", auto=False)], uow, ports({"mailbox": mailbox}))
    ((message, text),) = mails(mailbox)
    assert message["To"] == "hiltsje@example.org"
    assert "Fragen? Belje Dorpskamer Grou op 0566 601234." in text
    assert ADDRESS not in text  # the address after a yes; notes only on the link's page
