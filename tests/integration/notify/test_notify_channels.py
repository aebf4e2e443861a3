"""Webhooks, SMS and giving up, against a real database and a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_support import announcements
from sqlalchemy import select

from mienskip_notify.adapters import tables
from mienskip_notify.adapters.composer import MessageComposer, TemplateRenderer
from mienskip_notify.adapters.senders import MailboxSender, SendFailed, SmsSender, WebhookSender
from mienskip_notify.adapters.unit_of_work import NotifyUnitOfWork
from mienskip_notify.bootstrap import (
    WebhookKeyMissing,
    build,
    require_no_webhooks,
    webhook_master_key,
)
from mienskip_notify.domain.channels import SMS, sms_month
from mienskip_notify.domain.notifications import Notification, notification_key
from mienskip_notify.service_layer.contacts import record_kamer
from mienskip_notify.service_layer.ports import Ports
from mienskip_notify.service_layer.sending import deliver, give_up, notify_batch
from mienskip_notify.service_layer.sms_budget import within_budget
from mienskip_notify.settings import Settings
from mienskip_notify.webhooks import StaleTimestamp, kamer_secret, verify_webhook
from mienskip_shared.contracts import new_event, parse

MASTER = "webhook master key for tests"
KAMER_EMAIL = "grou@example.org"
PHONE = "+31612345678"
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def webhook():
    sender = WebhookSender(lambda kamer_id: kamer_secret(MASTER, kamer_id), timeout=(2, 5))
    yield sender
    sender.close()


def event(event_type, data):
    return parse(new_event(event_type, data, correlation_id="corr-ch", kamer_id=data.get("kamer_id"),
                           occurred_at=T0).to_json())


def register(engine, webhook_url, email=None):
    record_kamer(event("kamer.registered", {
        "kamer_id": "grou", "name": "Dorpskamer Grou", "region": "leeuwarden",
        "location": {"lat": 53.094, "lon": 5.834}, "email": email, "webhook_url": webhook_url, "language": "fy",
    }), NotifyUnitOfWork(engine))


def review_requested(request_id="rq-1"):
    """intake asks the kamer to review a proposal (its policy does not approve it)."""
    return event("assignment.review_requested", {
        "assignment_id": f"as-{request_id}", "request_id": request_id, "volunteer_id": "vo-7", "kamer_id": "grou",
        "region": "leeuwarden", "distance_km": 1.23,
        "explanation": {"distance_km": 1.2, "skills_matched": ["pets"],
                        "runner_up": {"volunteer_id": "v9", "distance_km": 2.5, "reason": {"code": "further", "km": 1.3},
                                      "rule": None}},
    })


def notify(envelope, engine, senders):
    notify_batch([envelope], NotifyUnitOfWork(engine), ports(senders))


def ports(senders=None) -> Ports:
    return Ports(MessageComposer("mienskip@localhost"), senders or {}, public_url="http://127.0.0.1:8000")


def rows(engine, table=None):
    table = tables.notifications if table is None else table
    with engine.connect() as conn:
        return conn.execute(select(table).order_by(table.c.id)).all()


def outbox_events(engine):
    return [parse(row.body) for row in rows(engine, tables.outbox)]


# -- webhooks ---------------------------------------------------------------------------

def test_a_kamer_gets_its_mailbox_copy_and_a_signed_webhook(engine, mailbox, webhook, http_sink):
    register(engine, f"{http_sink.url}/hooks/mienskip")
    review = review_requested()
    notify(review, engine, {"mailbox": mailbox, "webhook": webhook})

    (received,) = http_sink.received
    assert received.path == "/hooks/mienskip"
    assert received.headers["Content-Type"] == "application/json; charset=utf-8"
    key = notification_key(review.event_id, "webhook:grou", "webhook")
    assert received.headers["Mienskip-Notification-Id"] == key
    # what the kamer does: verify the raw bytes with its secret, then read the JSON
    verify_webhook(kamer_secret(MASTER, "grou"), received.headers["Mienskip-Signature"], received.body)
    body = json.loads(received.body)
    assert (body["id"], body["type"], body["event_id"], body["kamer_id"], body["request_id"]) == (
        key, "assignment.review_requested", review.event_id, "grou", "rq-1")
    assert body["subject"] == "In foarstel stiet klear foar beoardieling – helpfraach rq-1"
    assert "folgjende kandidaat (2,5 km): 1,3 km fierder" in body["text"]
    assert body["data"]["volunteer_id"] == "vo-7" and body["data"]["distance_km"] == 1.23
    assert body["data"]["explanation"]["runner_up"]["reason"] == {"code": "further", "km": 1.3}  # codes, not words
    assert body["review_url"] == "http://127.0.0.1:8000/review/requests/rq-1"

    assert [(r.channel, r.status, r.attempts) for r in rows(engine)] == [("mailbox", "sent", 1),
                                                                        ("webhook", "sent", 1)]
    assert [(event_type, d["channel"]) for event_type, d in announcements(engine)] == [
        ("notification.sent", "mailbox"), ("notification.sent", "webhook")]
    assert len(list(mailbox.root.rglob("*.eml"))) == 1


def test_a_replayed_webhook_is_refused_by_the_documented_verifier(engine, mailbox, webhook, http_sink):
    register(engine, http_sink.url)
    notify(review_requested(), engine, {"mailbox": mailbox, "webhook": webhook})
    (received,) = http_sink.received
    signed_at = int(received.headers["Mienskip-Signature"].split(",")[0].removeprefix("t="))
    with pytest.raises(StaleTimestamp):  # the same request resent ten minutes later
        verify_webhook(kamer_secret(MASTER, "grou"), received.headers["Mienskip-Signature"], received.body,
                       now=signed_at + 600)


@pytest.mark.parametrize("status", [500, 404, 302])
def test_a_webhook_answered_with_anything_but_2xx_is_retried_and_its_email_is_not_held_back(
        engine, mailbox, webhook, http_sink, status):
    register(engine, http_sink.url)
    http_sink.statuses.append(status)
    review = review_requested()
    with pytest.raises(SendFailed, match=f"HTTP {status}"):
        notify(review, engine, {"mailbox": mailbox, "webhook": webhook})
    by_channel = {r.channel: r for r in rows(engine)}
    assert by_channel["mailbox"].status == "sent"  # tried and delivered although the webhook failed
    assert (by_channel["webhook"].status, by_channel["webhook"].attempts) == ("pending", 1)
    assert by_channel["webhook"].last_error == f"HTTP {status}"
    assert [r.path for r in http_sink.received] == ["/"]  # a redirect is not followed

    notify(review, engine, {"mailbox": mailbox, "webhook": webhook})  # the consumer's retry
    notify(review, engine, {"mailbox": mailbox, "webhook": webhook})  # a stray redelivery
    assert len(http_sink.received) == 2
    assert len(list(mailbox.root.rglob("*.eml"))) == 1
    assert {(r.channel, r.status) for r in rows(engine)} == {("mailbox", "sent"), ("webhook", "sent")}
    assert [event_type for event_type, _ in announcements(engine)] == ["notification.sent"] * 2


def test_a_webhook_that_cannot_connect_says_so_without_the_url(engine, mailbox, webhook, http_sink):
    url = f"{http_sink.url}/secret-path?token=abc"
    http_sink.stop()  # nothing listens any more
    register(engine, url)
    with pytest.raises(SendFailed):
        notify(review_requested(), engine, {"mailbox": mailbox, "webhook": webhook})
    hook = next(r for r in rows(engine) if r.channel == "webhook")
    assert hook.last_error == "ConnectionError"


def test_without_a_signing_key_the_webhook_fails_with_the_setting_to_set(engine, mailbox, http_sink):
    register(engine, http_sink.url)
    unsigned = WebhookSender(lambda kamer_id: None)
    with pytest.raises(SendFailed, match="MIENSKIP_WEBHOOK_SECRET"):
        notify(review_requested(), engine, {"mailbox": mailbox, "webhook": unsigned})
    assert http_sink.received == []
    unsigned.close()


# -- giving up: notification.failed -------------------------------------------------------

def test_giving_up_fails_what_is_pending_for_good_and_announces_it_once(engine, mailbox, webhook, http_sink):
    register(engine, http_sink.url, email=KAMER_EMAIL)
    http_sink.default_status = 503
    review = review_requested()
    for _ in range(3):  # first delivery and two retries
        with pytest.raises(SendFailed):
            notify(review, engine, {"mailbox": mailbox, "webhook": webhook})
    uow = NotifyUnitOfWork(engine)
    give_up(review, SendFailed("HTTP 503"), uow, ports())
    give_up(review, SendFailed("HTTP 503"), uow, ports())  # a second consumer, or a repeated hook

    by_channel = {r.channel: r for r in rows(engine)}
    assert by_channel["mailbox"].status == "sent"
    assert (by_channel["webhook"].status, by_channel["webhook"].attempts) == ("failed", 3)
    failed = [e for e in outbox_events(engine) if e.event_type == "notification.failed"]
    assert len(failed) == 1
    assert failed[0].correlation_id == "corr-ch" and failed[0].kamer_id == "grou"
    assert (failed[0].data["error"], failed[0].data["attempts"], failed[0].data["channel"]) == ("HTTP 503", 3,
                                                                                                "webhook")
    assert failed[0].data["notification_id"] == by_channel["webhook"].key
    assert failed[0].data["source_event_id"] == review.event_id

    http_sink.default_status = 204
    notify(review, engine, {"mailbox": mailbox, "webhook": webhook})  # redelivered after all
    assert len(http_sink.received) == 3  # failed for good: not sent again
    assert next(r for r in rows(engine) if r.channel == "webhook").status == "failed"


def test_the_error_announced_never_holds_an_address(engine, tmp_path):
    register(engine, None, email=KAMER_EMAIL)

    class Refusing:
        def send(self, notification, message):
            raise RuntimeError(f"550 mailbox {notification.recipient} unknown")  # what a server might say

        def close(self):
            pass

    review = review_requested()
    with pytest.raises(RuntimeError):
        notify(review, engine, {"email": Refusing(), "mailbox": MailboxSender(tmp_path)})
    give_up(review, RuntimeError(f"550 {KAMER_EMAIL}"), NotifyUnitOfWork(engine), ports())
    (failed,) = outbox_events(engine)
    assert failed.data["error"] == "RuntimeError" and KAMER_EMAIL not in json.dumps(failed.data)
    assert KAMER_EMAIL not in rows(engine)[0].last_error


def test_giving_up_on_an_event_for_an_unknown_kamer_changes_nothing(engine):
    give_up(review_requested(), RuntimeError("KamerNotKnownYet"), NotifyUnitOfWork(engine), ports())
    assert rows(engine) == [] and rows(engine, tables.outbox) == []


# -- SMS ------------------------------------------------------------------------------------

@pytest.fixture
def sms_templates(tmp_path):
    directory = tmp_path / "templates"
    directory.mkdir()
    (directory / "test_offer.nl.sms.j2").write_text("Hoi {{ name }}, er is een taak voor je: {{ link }}\n")
    return directory


@pytest.fixture
def sms(http_sink):
    sender = SmsSender(f"{http_sink.url}/v1/messages", "gateway-key", timeout=(2, 5))
    yield sender
    sender.close()


def sms_notification(n: int) -> Notification:
    event_id = f"00000000-0000-4000-8000-{n:012d}"
    return Notification(
        key=notification_key(event_id, PHONE, SMS), source_event_id=event_id, source_event_type="assignment.approved",
        request_id=f"rq-{n}", kamer_id="grou", recipient_kind="volunteer", recipient=PHONE, channel=SMS,
        template="test_offer", language="nl", context={"name": "Sjoukje", "link": f"https://m.example/a/{n}"})


def send_sms(notification, engine, composer, sms, limit):
    """What the batch handler does with a planned SMS: its place in the budget (or failed
    for good), then the send."""
    uow, sms_ports = NotifyUnitOfWork(engine), Ports(composer, {SMS: sms}, "", sms_limit_per_kamer_month=limit)
    with uow:
        uow.notifications.add(notification)  # planned (again: a retry finds it pending)
        due = within_budget(uow, [(notification, review_requested())], sms_ports)
        uow.commit()
    deliver(due, uow, sms_ports)


def test_an_sms_goes_to_the_gateway_as_json_with_the_bearer_key(engine, http_sink, sms, sms_templates):
    composer = MessageComposer("m@localhost", TemplateRenderer(sms_templates))
    send_sms(sms_notification(1), engine, composer, sms, limit=5)

    (received,) = http_sink.received
    assert received.path == "/v1/messages"
    assert received.headers["Authorization"] == "Bearer gateway-key"
    assert received.headers["Idempotency-Key"] == sms_notification(1).key
    assert json.loads(received.body) == {"to": PHONE, "text": "Hoi Sjoukje, er is een taak voor je: "
                                                             "https://m.example/a/1"}
    assert [(r.channel, r.status) for r in rows(engine)] == [("sms", "sent")]


def test_over_the_monthly_limit_an_sms_is_not_sent_and_fails_with_the_reason(engine, http_sink, sms,
                                                                            sms_templates):
    composer = MessageComposer("m@localhost", TemplateRenderer(sms_templates))
    for n in range(3):
        send_sms(sms_notification(n), engine, composer, sms, limit=2)

    assert len(http_sink.received) == 2
    assert [r.status for r in rows(engine)] == ["sent", "sent", "failed"]
    refused = rows(engine)[2]
    assert (refused.last_error, refused.attempts) == ("sms limit reached", 0)
    failed = [e for e in outbox_events(engine) if e.event_type == "notification.failed"]
    assert [(e.data["error"], e.data["channel"], e.data["recipient_kind"]) for e in failed] == [
        ("sms limit reached", "sms", "volunteer")]
    with NotifyUnitOfWork(engine) as uow:
        assert uow.sms_budget.used("grou", sms_month(datetime.now(UTC))) == 2


def test_a_retried_sms_counts_once_and_a_new_month_starts_from_zero(engine, http_sink, sms, sms_templates):
    composer = MessageComposer("m@localhost", TemplateRenderer(sms_templates))
    http_sink.statuses.append(502)  # the gateway fails once
    with pytest.raises(SendFailed, match="HTTP 502"):
        send_sms(sms_notification(1), engine, composer, sms, limit=1)
    send_sms(sms_notification(1), engine, composer, sms, limit=1)  # the consumer's retry
    assert [r.status for r in rows(engine)] == ["sent"]  # its retry still fits in a budget of one

    this_month, later_month = sms_month(datetime.now(UTC)), "2099-01"
    with NotifyUnitOfWork(engine) as uow:
        uow.notifications.add(sms_notification(2))
        assert not uow.sms_budget.reserve(sms_notification(2).key, "grou", this_month, 1)
        assert uow.sms_budget.reserve(sms_notification(2).key, "grou", later_month, 1)
        assert uow.sms_budget.reserve(sms_notification(2).key, "grou", later_month, 1)  # holds it already
        assert (uow.sms_budget.used("grou", this_month), uow.sms_budget.used("grou", later_month)) == (1, 1)
        uow.commit()


def test_the_gateway_refusing_the_key_is_a_failure_to_retry(engine, http_sink, sms, sms_templates):
    composer = MessageComposer("m@localhost", TemplateRenderer(sms_templates))
    http_sink.statuses.append(401)
    with pytest.raises(SendFailed, match="HTTP 401"):
        send_sms(sms_notification(1), engine, composer, sms, limit=5)
    assert rows(engine)[0].status == "pending" and PHONE not in rows(engine)[0].last_error


# -- settings and startup -------------------------------------------------------------------

def test_sms_and_webhook_settings_come_from_the_environment(tmp_path):
    settings = Settings.from_env({
        "MIENSKIP_SMS_URL": "https://sms.example/v1/messages", "MIENSKIP_SMS_KEY": "k3y",
        "MIENSKIP_SMS_LIMIT_PER_KAMER_MONTH": "50", "MIENSKIP_WEBHOOK_SECRET": "m4ster",
        "MIENSKIP_DATA_DIR": str(tmp_path),
    })
    assert (settings.sms_url, settings.sms_key, settings.sms_limit_per_kamer_month) == (
        "https://sms.example/v1/messages", "k3y", 50)
    assert kamer_secret(webhook_master_key(settings), "grou") == kamer_secret("m4ster", "grou")
    assert "k3y" not in repr(settings) and "m4ster" not in repr(settings)


def test_the_embedded_system_makes_one_master_key_and_keeps_it(tmp_path):
    settings = Settings.from_env({}, data_dir=Path(tmp_path))
    first = webhook_master_key(settings)
    assert len(first) == 64 and webhook_master_key(settings) == first
    key_file = next(tmp_path.glob("*.key"))
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only
    assert kamer_secret(webhook_master_key(settings), "grou") == kamer_secret(first, "grou")


def test_a_server_database_without_a_master_key_refuses_to_start_once_kamers_have_webhooks(engine):
    require_no_webhooks(engine)  # no webhooks yet: starts (with a warning)
    register(engine, "https://grou.example/hook")
    with pytest.raises(WebhookKeyMissing, match="MIENSKIP_WEBHOOK_SECRET"):
        require_no_webhooks(engine)


def test_build_wires_an_sms_channel_when_a_gateway_is_configured(tmp_path, http_sink):
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://",
                                 sms_url=f"{http_sink.url}/sms", sms_key="k")
    service = build(settings)
    try:
        consumer = next(w for w in service.workers if w.name == "notify")
        assert {type(c).__name__ for c in consumer._closeables} >= {"SmsSender", "WebhookSender"}
    finally:
        for closeable in consumer._closeables:
            closeable.close()
        service.dispose()
