"""notify over real SMTP: an aiosmtpd server on 127.0.0.1, on a free port."""

from __future__ import annotations

import socket
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import MessageComposer
from mienskip_notify.adapters.senders import MailboxSender, SendFailed, SmtpSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.domain.notifications import Notification, notification_key
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.ports import Ports
from mienskip_notify.service_layer.sending import notify_batch
from mienskip_shared.contracts import new_event, parse

KAMER_EMAIL = "bilgaard@example.org"

NO_DIGEST = timedelta(0)  # each proposal its own mail: these tests count what the server takes in


class Inbox:
    """aiosmtpd handler keeping what arrives: (connection, recipients, raw bytes)."""

    def __init__(self):
        self.received: list[tuple[tuple, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((session.peer, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def smtp_server(port: int, inbox: Inbox, **smtp_options):
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()  # returns once the server answers
    try:
        yield controller
    finally:
        controller.stop()


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def smtp(port):
    sender = SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5)
    yield sender
    sender.close()


def event(event_type, data):
    return parse(new_event(event_type, data, correlation_id="corr-smtp", kamer_id=data["kamer_id"],
                           occurred_at=datetime(2026, 7, 14, 8, 30, tzinfo=UTC)).to_json())


def register_kamer(engine, language="nl"):
    record_kamer(event("kamer.registered", {
        "kamer_id": "bilgaard", "name": "Buurtkamer Bilgaard, Ljouwert", "region": "leeuwarden",
        "location": {"lat": 53.214, "lon": 5.800}, "email": KAMER_EMAIL, "language": language,
    }), NotifyUnitOfWork(engine))


def review_requested(request_id="rq-1"):
    """intake asks the kamer to review a proposal its policy does not approve."""
    return event("assignment.review_requested", {
        "assignment_id": f"as-{request_id}", "request_id": request_id, "volunteer_id": "vo-3",
        "kamer_id": "bilgaard", "region": "leeuwarden", "distance_km": 0.8,
        "explanation": {"distance_km": 0.8, "skills_matched": ["buddy"],
                        "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.7},
                                      "rule": None}},
    })


def notify(envelope, engine, smtp, tmp_path):
    senders = {"email": smtp, "mailbox": MailboxSender(tmp_path / "mailbox")}
    ports = Ports(MessageComposer("Mienskip <mienskip@localhost>"), senders, public_url="https://mienskip.example",
                  kamer_digest_every=NO_DIGEST)
    notify_batch([envelope], NotifyUnitOfWork(engine), ports)


def only_row(engine, table):
    with engine.connect() as conn:
        (row,) = conn.execute(select(table)).all()
    return row


def outbox_count(engine):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.outbox)).scalar_one()


def test_a_review_request_is_emailed_to_the_kamer(engine, smtp, port, tmp_path):
    register_kamer(engine)
    review = review_requested()
    inbox = Inbox()
    with smtp_server(port, inbox):
        notify(review, engine, smtp, tmp_path)

    ((_peer, recipients, raw),) = inbox.received
    assert recipients == [KAMER_EMAIL]
    message = message_from_bytes(raw, policy=default)
    key = notification_key(review.event_id, KAMER_EMAIL, "email")
    assert message["Subject"] == "Voorstel klaar voor beoordeling – hulpvraag rq-1"
    assert message["Message-ID"] == f"<{key}@mienskip>"
    assert message["To"] == KAMER_EMAIL
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    assert "Buurtkamer Bilgaard, Ljouwert" in text and "kan: gezelschap" in text
    assert "volgende kandidaat (2,5 km): 1,7 km verder" in text
    assert "dinsdag 14 juli 2026, 10:30" in text and "0,8 km" in text
    assert "https://mienskip.example/review" in message.get_body(("html",)).get_content()

    row = only_row(engine, tables.notifications)
    assert (row.channel, row.status, row.attempts) == ("email", "sent", 1)
    assert outbox_count(engine) == 1
    assert not list((tmp_path / "mailbox").rglob("*.eml"))  # e-mail instead, not as well


def test_smtp_down_is_recorded_and_raised_then_delivered_once_when_it_is_back(engine, smtp, port, tmp_path):
    register_kamer(engine, language="fy")
    review = review_requested()
    with pytest.raises(SendFailed):
        notify(review, engine, smtp, tmp_path)  # nothing listens on the port yet
    row = only_row(engine, tables.notifications)
    assert (row.status, row.attempts) == ("pending", 1)  # still owed: retried, not given up
    assert row.last_error.startswith("ConnectionRefusedError")
    assert KAMER_EMAIL not in row.last_error
    assert outbox_count(engine) == 0

    inbox = Inbox()
    with smtp_server(port, inbox):
        notify(review, engine, smtp, tmp_path)  # the consumer's retry
        notify(review, engine, smtp, tmp_path)  # and a stray redelivery after it

    assert len(inbox.received) == 1
    message = message_from_bytes(inbox.received[0][2], policy=default)
    assert message["Subject"] == "In foarstel stiet klear foar beoardieling – helpfraach rq-1"
    row = only_row(engine, tables.notifications)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert outbox_count(engine) == 1


def test_one_connection_carries_many_messages_and_survives_a_server_restart(engine, smtp, port, tmp_path):
    register_kamer(engine)
    first = Inbox()
    with smtp_server(port, first):
        notify(review_requested("rq-1"), engine, smtp, tmp_path)
        notify(review_requested("rq-2"), engine, smtp, tmp_path)
    assert len(first.received) == 2
    assert first.received[0][0] == first.received[1][0]  # same client address and port: reused

    second = Inbox()
    with smtp_server(port, second):  # the kept connection is dead now; the sender reconnects
        notify(review_requested("rq-3"), engine, smtp, tmp_path)
    assert len(second.received) == 1


class PipeliningInbox(Inbox):
    """An aiosmtpd server that offers PIPELINING (RFC 2920) and refuses one recipient."""

    def __init__(self):
        super().__init__()
        self.commands: list[str] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.commands.append(f"RCPT {address}")
        if address.startswith("refused"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_with_pipelining_a_message_goes_in_two_round_trips_and_a_refusal_is_clean(port, smtp):
    inbox = PipeliningInbox()

    def notification(n, to):
        return Notification(key=f"{n:064x}", source_event_id="e", source_event_type="request.escalated",
                            request_id="rq-1", kamer_id="grou", recipient_kind="kamer", recipient=to,
                            channel="email", template="request_escalated", language="fy",
                            context={"kamer_name": "Dorpskamer Grou ❤️", "request_id": "rq-1",
                                     "reason": "late_decline", "urgent": True, "review_url": "http://x/review",
                                     "escalated_at": "tiisdei 1 desimber 2026 10:00"})

    composer = MessageComposer("mienskip@localhost")
    with smtp_server(port, inbox):
        first = notification(1, "grou@example.org")
        smtp.send(first, composer.compose(first))
        assert smtp._client.has_extn("pipelining")  # the path under test
        refused = notification(2, "refused@example.org")
        with pytest.raises(SendFailed) as failure:
            smtp.send(refused, composer.compose(refused))
        third = notification(3, ".leading-dot@example.org")  # the connection is usable after a refusal
        smtp.send(third, composer.compose(third))
    assert "refused" not in str(failure.value) and "550" in str(failure.value)
    assert [rcpt for _, rcpt, _ in inbox.received] == [["grou@example.org"], [".leading-dot@example.org"]]
    parsed = message_from_bytes(inbox.received[0][2], policy=default)
    assert parsed["Subject"] == "DRIUWEND: Helpfraach rq-1 leit by de koördinator"
    assert "Dorpskamer Grou ❤️" in parsed.get_body(("plain",)).get_content()


def test_an_address_that_is_not_ascii_goes_with_smtputf8(port, smtp):
    inbox = Inbox()
    notification = Notification(key=f"{4:064x}", source_event_id="e", source_event_type="request.escalated",
                                request_id="rq-1", kamer_id="grou", recipient_kind="kamer",
                                recipient="wâlde@grou.example", channel="email", template="request_escalated",
                                language="fy", context={"kamer_name": "Dorpskamer Grou", "request_id": "rq-1",
                                                        "reason": "late_decline", "urgent": False,
                                                        "review_url": "http://x/review",
                                                        "escalated_at": "tiisdei 1 desimber 2026 10:00"})
    with smtp_server(port, inbox, enable_SMTPUTF8=True):
        smtp.send(notification, MessageComposer("mienskip@localhost").compose(notification))
    ((_peer, recipients, raw),) = inbox.received
    assert recipients == ["wâlde@grou.example"]
    parsed = message_from_bytes(raw, policy=default)
    assert parsed["To"] == "wâlde@grou.example"
    assert parsed["Message-ID"] == f"<{4:064x}@mienskip>"


class RefusingInbox(Inbox):
    """Refuses the content of a message whose text names ``refuse`` (a 554 after DATA)."""

    def __init__(self, refuse: bytes):
        super().__init__()
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse in envelope.original_content:
            return "554 5.6.0 content refused"
        return await super().handle_DATA(server, session, envelope)


def escalation(n):
    return Notification(key=f"{n:064x}", source_event_id="e", source_event_type="request.escalated",
                        request_id=f"rq-{n}", kamer_id="grou", recipient_kind="kamer", recipient="grou@example.org",
                        channel="email", template="request_escalated", language="nl",
                        context={"kamer_name": "Dorpskamer Grou", "request_id": f"rq-{n}",
                                 "reason": "late_decline", "urgent": False, "review_url": "http://x/review",
                                 "escalated_at": "dinsdag 1 december 2026 10:00"})


def test_submit_returns_before_the_answer_and_each_answer_belongs_to_its_own_message(port, smtp):
    composer = MessageComposer("mienskip@localhost")
    inbox = RefusingInbox(refuse=b"rq-2")
    with smtp_server(port, inbox):
        first, refused, third = (smtp.submit(n, composer.compose(n)) for n in map(escalation, (1, 2, 3)))
        # each submit read the answer to the message before it (the connection is one conversation)
        assert not (first.failure or third.failure) and refused.failure is not None
        first.result()
        with pytest.raises(SendFailed) as failure:
            refused.result()
        third.result()
        fourth = smtp.submit(escalation(4), composer.compose(escalation(4)))
        smtp.close()  # reads the last answer before QUIT
        fourth.result()
    assert "554" in str(failure.value)
    assert [message_from_bytes(raw, policy=default)["Message-ID"] for _, _, raw in inbox.received] == [
        f"<{n:064x}@mienskip>" for n in (1, 3, 4)]


def test_a_batch_marks_sent_only_what_the_server_accepted(engine, smtp, port, tmp_path):
    """The second of three reviews is refused after its content: the first is sent, the
    second failed, and the third, composed while the server took in the second, is not
    sent once the refusal shows the channel failing (it is retried with its event)."""
    register_kamer(engine)
    reviews = [review_requested(f"rq-{n}") for n in (1, 2, 3)]
    inbox = RefusingInbox(refuse=b"rq-2")
    senders = {"email": smtp, "mailbox": MailboxSender(tmp_path / "mailbox")}
    ports = Ports(MessageComposer("Mienskip <mienskip@localhost>"), senders, public_url="https://mienskip.example",
                  kamer_digest_every=NO_DIGEST)
    with smtp_server(port, inbox), pytest.raises(SendFailed) as failure:
        notify_batch(reviews, NotifyUnitOfWork(engine), ports)

    assert "554" in str(failure.value)
    assert len(inbox.received) == 1
    assert "rq-1" in message_from_bytes(inbox.received[0][2], policy=default)["Subject"]
    with engine.connect() as conn:
        rows = {row.request_id: row for row in conn.execute(select(tables.notifications))}
    assert {r: (row.status, row.attempts) for r, row in rows.items()} == {
        "rq-1": ("sent", 1), "rq-2": ("pending", 1), "rq-3": ("pending", 1)}
    assert rows["rq-2"].last_error.startswith("SMTPDataError: 554")
    assert outbox_count(engine) == 1  # one notification.sent, for rq-1
