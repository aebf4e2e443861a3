"""Issue 18, defect 4: a request whose event was dead-lettered is named by id on the
coordinator's "needs attention" page, with the reason and the operator's next step,
and the dead letters stay where they are (peeked, not taken). On real RabbitMQ and on
the in-process transport."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import TEST_SECRET, Kamer, issue_token, uow
from kombu import Connection, Producer
from polling import eventually
from ui_support import sign_in

from mienskip_intake.bootstrap import build
from mienskip_intake.domain.commands import IssueToken, RegisterKamer
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers
from mienskip_intake.settings import Settings
from mienskip_shared.messaging.consumer import ERROR_HEADER, ORIGIN_HEADER
from mienskip_shared.messaging.dead_letters import peek_dead_letters
from mienskip_shared.messaging.topology import SUBSCRIPTIONS, dead_letter_exchange, declare

SUBMITTED = next(s for s in SUBSCRIPTIONS if s.consumer == "matching" and s.event_type == "request.submitted")
REASON = "gave up after 5 attempts: OverflowError('date value out of range')"


@pytest.fixture(params=["memory", "rabbitmq"])
def broker_url(request):
    return "memory://" if request.param == "memory" else request.getfixturevalue("rabbit_url")


@pytest.fixture
def service(broker_url, tmp_path):
    service = build(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'dl.sqlite3'}", data_dir=tmp_path,
                                      broker_url=broker_url, secret_key=TEST_SECRET), with_workers=False)
    yield service
    service.dispose()


def _submit(client, kamer) -> str:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    answer = client.post("/v1/requests", headers=kamer.headers, json={
        "resident": {"name": "Durk Postma"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "pets",
        "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
    assert answer.status_code == 202
    return answer.get_json()["id"]


def _dead_letter(connection, request_id: str, event_id: str) -> None:
    """What matching's consumer does when it gives up: the envelope, with the reason in a header."""
    envelope = {"event_id": event_id, "event_type": "request.submitted", "schema_version": 1,
                "occurred_at": datetime.now(UTC).isoformat(), "correlation_id": request_id,
                "data": {"request_id": request_id}}
    Producer(connection.channel()).publish(
        json.dumps(envelope).encode(), exchange=dead_letter_exchange.name, routing_key=SUBMITTED.dead_letter_queue_name,
        headers={ERROR_HEADER: REASON, ORIGIN_HEADER: SUBMITTED.queue_name}, content_type="application/json",
        content_encoding="utf-8", delivery_mode=2)


def test_a_dead_lettered_request_is_named_with_its_reason_and_the_next_step(service, broker_url):
    client = service.wsgi_app.test_client()
    ours = Kamer(service.engine, "Buurtkamer Bilgaard")
    elsewhere_id = handlers.register_kamer(RegisterKamer(name="Dorpskamer Bolsward", lat=53.06, lon=5.53,
                                                         region="sudwest-fryslan"), uow(service.engine))
    _, elsewhere_token = handlers.issue_token(IssueToken(Role.KAMER, kamer_id=elsewhere_id), uow(service.engine))
    elsewhere = type("K", (), {"headers": {"Authorization": f"Bearer {elsewhere_token}"}})()
    stuck, fine, other_region = _submit(client, ours), _submit(client, ours), _submit(client, elsewhere)
    with Connection(broker_url) as connection:
        declare(connection.channel())
        _dead_letter(connection, stuck, "event-1")
        _dead_letter(connection, other_region, "event-2")
        assert eventually(lambda: len(peek_dead_letters(connection).letters) == 2, timeout=10)

    _, token = issue_token(service.engine, Role.COORDINATOR, region="leeuwarden")
    sign_in(client, token)
    for _ in range(3):  # looking again finds the same: the page peeks, it never takes
        page = client.get("/review/attention").get_data(as_text=True)
        assert f'data-request-id="{stuck}"' in page and f"<code>{stuck}</code>" in page
        assert "OverflowError(&#39;date value out of range&#39;)" in page
        assert f"mienskip dlq replay {SUBMITTED.dead_letter_queue_name}" in page
        assert fine not in page  # not dead-lettered
        assert other_region not in page  # another region's request: not this coordinator's to see
    with Connection(broker_url) as connection:
        assert eventually(lambda: peek_dead_letters(connection).depths.get(SUBMITTED.dead_letter_queue_name) == 2,
                          timeout=10)  # both dead letters still in their queue
        letters = peek_dead_letters(connection).letters
    assert sorted(letter.request_id for letter in letters) == sorted([stuck, other_region])
    assert {letter.reason for letter in letters} == {REASON}


def test_kamer_staff_do_not_see_the_dead_letter_section(service):
    client = service.wsgi_app.test_client()
    kamer = Kamer(service.engine, "Buurtkamer Bilgaard")
    sign_in(client, kamer.token)
    page = client.get("/review/attention").get_data(as_text=True)
    assert 'id="h-stuck"' not in page and 'id="h-dead"' not in page
