"""The kamer's "proposal ready for review" as a digest (issue 14) and the coordinator's
weekly attention digest, on SQLite and PostgreSQL, with the clock injected."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from notify_support import T0, event, ports, rows
from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.schedule_tables import digest_reviews
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.service_layer.after_match import send_attention_digest
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.due import send_due
from mienskip_notify.service_layer.sending import notify_batch

EVERY = timedelta(minutes=15)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Recorder:
    """A webhook sender that keeps what it was given (one call per proposal expected)."""

    def __init__(self):
        self.calls = []

    def send(self, notification, content):
        self.calls.append(notification.request_id)


def review_requested(n: int, occurred_at=T0, urgency="normal"):
    return event("assignment.review_requested", {
        "assignment_id": f"as-{n}", "request_id": f"rq-{n}", "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "distance_km": 1.2, "explanation": {"distance_km": 1.2}, "urgency": urgency},
        occurred_at=occurred_at)


@pytest.fixture
def kamer(engine):
    record_kamer(event("kamer.registered", {
        "kamer_id": "grou", "name": "Dorpskamer Grou", "region": "leeuwarden", "location": {"lat": 53.09, "lon": 5.83},
        "email": None, "webhook_url": "https://grou.example/hook", "language": "fy"}), NotifyUnitOfWork(engine))


def review_mails(mailbox):
    """The subjects of the kamer's mails, in the order they were written."""
    paths = sorted(mailbox.root.rglob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [message_from_bytes(path.read_bytes(), policy=default)["Subject"] for path in paths]


def test_a_burst_of_50_proposals_is_one_mail_at_once_and_one_digest_after_n_minutes(engine, kamer, mailbox):
    clock, hook = Clock(T0), Recorder()
    p = ports({"mailbox": mailbox, "webhook": hook}, clock=clock, kamer_digest_every=EVERY)
    burst = [review_requested(n) for n in range(1, 51)]
    for start in range(0, 50, 16):  # as the consumer hands them over: in batches
        notify_batch(burst[start:start + 16], NotifyUnitOfWork(engine), p)
    notify_batch(burst[20:30], NotifyUnitOfWork(engine), p)  # some redelivered: nothing twice

    assert review_mails(mailbox) == ["In foarstel stiet klear foar beoardieling – helpfraach rq-1"]
    assert sorted(hook.calls) == sorted(f"rq-{n}" for n in range(1, 51))  # the webhook: one call per proposal

    clock.now = T0 + EVERY - timedelta(seconds=1)
    send_due(NotifyUnitOfWork(engine), p)
    assert len(review_mails(mailbox)) == 1  # not yet
    clock.now = T0 + EVERY
    send_due(NotifyUnitOfWork(engine), p)
    send_due(NotifyUnitOfWork(engine), p)
    (first, digest) = review_mails(mailbox)
    assert digest == "49 foarstellen steane klear foar beoardieling"
    (body,) = [m.get_body(("plain",)).get_content()
               for m in (message_from_bytes(path.read_bytes(), policy=default) for path in mailbox.root.rglob("*.eml"))
               if m["Subject"] == digest]
    assert "Der steane 49 nije foarstellen klear" in body and "helpfraach rq-50" in body
    assert "https://mienskip.example/review" in body
    mail_rows = [r for r in rows(engine) if r.channel == "mailbox"]
    assert [(r.template, r.status) for r in mail_rows] == [("assignment_proposed", "sent"), ("review_digest", "sent")]


def test_an_urgent_proposal_is_mailed_at_once_in_the_middle_of_a_held_burst(engine, kamer, mailbox):
    clock = Clock(T0)
    p = ports({"mailbox": mailbox, "webhook": Recorder()}, clock=clock, kamer_digest_every=EVERY)
    notify_batch([review_requested(n) for n in range(1, 4)], NotifyUnitOfWork(engine), p)
    clock.now = T0 + timedelta(minutes=2)
    notify_batch([review_requested(4, urgency="urgent"), review_requested(5, urgency="high")],
                 NotifyUnitOfWork(engine), p)
    assert review_mails(mailbox) == ["In foarstel stiet klear foar beoardieling – helpfraach rq-1",
                                     "In foarstel stiet klear foar beoardieling – helpfraach rq-4"]
    clock.now = T0 + EVERY
    send_due(NotifyUnitOfWork(engine), p)
    assert review_mails(mailbox)[2:] == ["3 foarstellen steane klear foar beoardieling"]  # rq-2, rq-3, rq-5


def test_after_the_digest_the_next_proposal_waits_for_the_next_and_a_quiet_kamer_hears_at_once(engine, kamer, mailbox):
    clock = Clock(T0)
    p = ports({"mailbox": mailbox, "webhook": Recorder()}, clock=clock, kamer_digest_every=EVERY)
    notify_batch([review_requested(1), review_requested(2)], NotifyUnitOfWork(engine), p)
    clock.now = T0 + EVERY
    send_due(NotifyUnitOfWork(engine), p)  # the digest of rq-2
    clock.now = T0 + EVERY + timedelta(minutes=1)
    notify_batch([review_requested(3, occurred_at=clock.now)], NotifyUnitOfWork(engine), p)
    assert len(review_mails(mailbox)) == 2  # rq-3 waits: the digest went a minute ago
    clock.now = T0 + 2 * EVERY
    send_due(NotifyUnitOfWork(engine), p)
    assert review_mails(mailbox)[-1] == "1 foarstellen steane klear foar beoardieling"
    clock.now = T0 + 5 * EVERY  # quiet for a while: at once again
    notify_batch([review_requested(4, occurred_at=clock.now)], NotifyUnitOfWork(engine), p)
    assert "In foarstel stiet klear foar beoardieling – helpfraach rq-4" in review_mails(mailbox)
    with engine.connect() as conn:
        held = conn.execute(select(digest_reviews.c.request_id).order_by(digest_reviews.c.request_id)).scalars().all()
    assert held == ["rq-2", "rq-3"]


def test_the_attention_digest_is_one_email_to_the_coordinator_in_their_language(engine, mailbox):
    digest = event("attention.digest", {
        "region": "leeuwarden", "email": "coordinator@example.org", "language": "en", "week": T0.date(),
        "link": "https://mienskip.example/review/attention",
        "counts": {"proposals_unreviewed": 4, "offers_unanswered": 2, "referrals_unanswered": 1,
                   "visits_unrecorded": 3, "follow_ups_open": 0, "oldest_hours": 30.0}})
    p = ports({"mailbox": mailbox})
    for _ in range(2):  # redelivered: sent once
        send_attention_digest(digest, NotifyUnitOfWork(engine), p)
    (path,) = list(mailbox.root.rglob("*.eml"))
    assert path.parent.name == "coordinators"
    mail = message_from_bytes(path.read_bytes(), policy=default)
    assert mail["Subject"] == "Waiting too long in leeuwarden – week of Tuesday, 24 November 2026"
    text = " ".join(mail.get_body(("plain",)).get_content().split())
    assert "Proposals not reviewed: 4" in text and "The oldest has waited 30 hours." in text
    assert "https://mienskip.example/review/attention" in text
    with engine.connect() as conn:
        (row,) = conn.execute(select(tables.notifications)).all()
    assert (row.template, row.recipient_kind, row.status) == ("attention_digest", "person", "sent")
