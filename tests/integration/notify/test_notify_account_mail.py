"""notify sends intake's invitation and password-reset e-mails: over real SMTP (an
aiosmtpd server on 127.0.0.1), once per event however often it is delivered, in the
person's language; into the local mailbox when no SMTP server is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default

import pytest
from sqlalchemy import select
from test_notify_smtp import Inbox, free_port, smtp_server

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import MessageComposer
from mienskip_notify.adapters.senders import MailboxSender, SmtpSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.service_layer.accounts import send_account_mail
from mienskip_notify.service_layer.ports import Ports
from mienskip_shared.contracts import new_event, parse

LINK = "https://mienskip.example/account/password/s3cr3t-link"
UNTIL = datetime(2026, 12, 12, 9, 30, tzinfo=UTC)


def account_event(event_type="user.invited", language="nl", email="hiltsje@example.org"):
    return parse(new_event(event_type, {"email": email, "language": language, "link": LINK, "expires_at": UNTIL},
                           correlation_id="user-1").to_json())


def outbox_types(engine):
    with engine.connect() as conn:
        return [r.event_type for r in conn.execute(select(tables.outbox.c.event_type))]


@pytest.fixture
def smtp_port():
    return free_port()


def test_an_invitation_is_emailed_once_however_often_it_is_delivered(engine, smtp_port, tmp_path):
    smtp = SmtpSender(f"smtp://127.0.0.1:{smtp_port}", timeout=5)
    ports = Ports(MessageComposer("Mienskip <mienskip@localhost>"),
                  {"email": smtp, "mailbox": MailboxSender(tmp_path / "mailbox")}, public_url="https://x")
    invited = account_event(language="fy")
    inbox = Inbox()
    try:
        with smtp_server(smtp_port, inbox):
            for _ in range(3):  # redelivered twice
                send_account_mail(invited, NotifyUnitOfWork(engine), ports)
    finally:
        smtp.close()
    ((_peer, recipients, raw),) = inbox.received
    assert recipients == ["hiltsje@example.org"]
    message = message_from_bytes(raw, policy=default)
    assert message["Subject"] == "Útnoeging foar Mienskip"
    text = message.get_body(("plain",)).get_content()
    assert LINK in text and "Kies in wachtwurd" in text and "12-12-2026 10:30" in text  # Amsterdam time
    assert LINK in message.get_body(("html",)).get_content()
    assert outbox_types(engine) == ["notification.sent"]  # announced once, without the address
    with engine.connect() as conn:
        (row,) = conn.execute(select(tables.outbox.c.body)).all()
    assert "hiltsje" not in str(row.body) and LINK not in str(row.body)


def test_a_reset_goes_to_the_mailbox_without_smtp_in_the_persons_language(engine, tmp_path):
    ports = Ports(MessageComposer("Mienskip <mienskip@localhost>"),
                  {"mailbox": MailboxSender(tmp_path / "mailbox")}, public_url="https://x")
    send_account_mail(account_event("user.password_reset", "en"), NotifyUnitOfWork(engine), ports)
    (path,) = (tmp_path / "mailbox" / "accounts").glob("*.eml")
    message = message_from_bytes(path.read_bytes(), policy=default)
    assert message["Subject"] == "A new password for Mienskip" and message["To"] == "hiltsje@example.org"
    assert LINK in message.get_body(("plain",)).get_content()


def test_every_account_word_exists_in_every_language():
    from mienskip_notify.service_layer.accounts import account_words

    for template in ("account_invite", "account_reset"):
        texts = {lang: account_words(template, lang, UNTIL + timedelta(hours=1)) for lang in ("nl", "fy", "en")}
        assert len({t["subject"] for t in texts.values()}) == 3  # three languages, not one copied
        assert all(all(texts[lang].values()) for lang in texts)
