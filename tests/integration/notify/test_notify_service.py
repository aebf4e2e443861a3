"""notify as bootstrap builds it: consumer and relay threads on the in-process bus
(with intake beside it where intake decides what notify hears)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path

from intake_support import Kamer, issue_token
from kombu import Connection
from notify_support import announcements, publish
from sqlalchemy import select, text

from mienskip_intake.bootstrap import build as build_intake
from mienskip_intake.domain.model import Role
from mienskip_intake.settings import Settings as IntakeSettings
from mienskip_notify.adapters import tables
from mienskip_notify.bootstrap import build
from mienskip_notify.entrypoints.consumer import SUBSCRIPTIONS
from mienskip_notify.settings import Settings
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.messaging import declare
from mienskip_shared.messaging.topology import SUBSCRIPTIONS as ALL_SUBSCRIPTIONS
from mienskip_shared.runtime import start_workers


def wait_for(condition, timeout=20.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        threading.Event().wait(interval)
    raise AssertionError(f"not true within {timeout}s: {condition.__doc__ or condition}")


def test_settings_come_from_mienskip_environment_variables(tmp_path):
    settings = Settings.from_env({
        "MIENSKIP_SMTP_URL": "smtp://127.0.0.1:2525", "MIENSKIP_MAIL_FROM": "kamers@mienskip.example",
        "MIENSKIP_PUBLIC_URL": "https://mienskip.example", "MIENSKIP_DATA_DIR": str(tmp_path),
        "MIENSKIP_BATCH_MAX_SIZE": "16", "MIENSKIP_BATCH_MAX_WAIT_MS": "20",  # named as matching's
    })
    assert (settings.smtp_url, settings.mail_from, settings.public_url) == (
        "smtp://127.0.0.1:2525", "kamers@mienskip.example", "https://mienskip.example")
    assert (settings.batch_max_size, settings.batch_max_wait_ms) == (16, 20)
    assert settings.database_url == f"sqlite:///{tmp_path / 'mienskip.sqlite3'}"


def test_events_on_the_bus_end_up_in_the_mailbox_and_are_announced(tmp_path):
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://")
    service = build(settings)
    assert service.check_ready() == {"database": "ok", "broker": "ok"}
    with settings.broker_connection() as conn:
        declare(conn.default_channel, SUBSCRIPTIONS)  # as the consumer will; publishing may come first

    stop = threading.Event()
    threads = start_workers(service.workers, stop)
    try:
        publish(settings, new_event("kamer.registered", {
            "kamer_id": "mantgum", "name": "Dorpskamer De Wjukken", "region": "leeuwarden",
            "location": {"lat": 53.131, "lon": 5.717}, "language": "fy",
        }, correlation_id="c-1", kamer_id="mantgum"))
        publish(settings, new_event("request.unmatched", {
            "request_id": "rq-9", "kamer_id": "mantgum", "region": "leeuwarden",
            "reasons": {"distance": 4}, "considered": 4,
        }, correlation_id="c-2", kamer_id="mantgum"))

        def announced():
            """both notifications (the kamer's, and "please call" for the resident notify
            has no contact for) are sent and their events published"""
            with service.engine.connect() as conn:
                sent = conn.execute(select(tables.notifications.c.status)).scalars().all()
                published = conn.execute(select(tables.outbox.c.published_at)).scalars().all()
            return (sent == ["sent", "sent"] and published and None not in published
                    and len(announcements(service.engine)) == 2)

        wait_for(announced)
        subjects = sorted(message_from_bytes(path.read_bytes(), policy=default)["Subject"]
                          for path in (tmp_path / "mailbox" / "mantgum").glob("*.eml"))
        assert subjects == ["Gjin frijwilliger fûn – helpfraach rq-9", "Graach belje: bewenner rq-9 – helpfraach rq-9"]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        service.dispose()
    assert not any(thread.is_alive() for thread in threads)


def test_through_the_bus_intake_decides_a_policy_approval_brings_an_offer_and_no_review(tmp_path):
    """intake and notify as bootstrap builds them, on one SQLite file and the in-process
    bus, as ``mienskip serve`` runs them; the test plays matching. The kamer's policy
    approves pets: that proposal brings the volunteer an offer and the kamer no review
    message; the respite proposal brings the kamer its review message. No hold, no timer:
    intake says which is which."""
    settings = Settings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://", secret_key="service test")
    intake = build_intake(IntakeSettings.from_env({}, data_dir=Path(tmp_path), broker_url="memory://",
                                                  secret_key="service test"))
    notify = build(settings)
    client = intake.wsgi_app.test_client()
    kamer = Kamer(intake.engine, "Dorpskamer De Wjukken", 53.131, 5.717)
    _, coordinator = issue_token(intake.engine, Role.COORDINATOR, region="leeuwarden")
    stop = threading.Event()
    threads = start_workers([*intake.workers, *notify.workers], stop)
    try:
        assert client.put(f"/v1/kamers/{kamer.id}/auto-approve", json={"categories": ["pets"]},
                          headers={"Authorization": f"Bearer {coordinator}"}).status_code == 200
        volunteer_id = client.post("/v1/volunteers", headers=kamer.headers, json={
            "name": "Hiltsje Bouma", "language": "fy", "email": "hiltsje@example.org",
            "home": {"lat": 53.135, "lon": 5.72}, "skills": ["pets", "respite"],
            "availability": [{"day": "tue", "from": "09:00", "to": "12:00"}]}).get_json()["id"]
        start = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)

        def submit(category):
            return client.post("/v1/requests", headers=kamer.headers, json={
                "resident": {"name": "Durk Postma", "language": "fy"}, "location": {"lat": 53.131, "lon": 5.717},
                "category": category,
                "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}},
            ).get_json()["id"]

        pets, respite = submit("pets"), submit("respite")
        proposals = [new_event("assignment.proposed", {
            "assignment_id": f"as-{request_id}", "request_id": request_id, "volunteer_id": volunteer_id,
            "kamer_id": kamer.id, "region": "leeuwarden", "distance_km": 0.5, "decision": 1,
            "explanation": {"distance_km": 0.5, "skills_matched": [category],
                            "runner_up": {"volunteer_id": "v9", "distance_km": 2.5,
                                          "reason": {"code": "further", "km": 2.0}, "rule": None}}},
            correlation_id=request_id, kamer_id=kamer.id) for request_id, category in ((pets, "pets"), (respite, "respite"))]
        publish(settings, *proposals)

        def settled():
            """pets' offer and respite's review are sent, and both services published all they wrote"""
            sent = _sent(notify, pets, respite)
            quiet = not _unpublished(intake.engine, "intake_outbox") and not _unpublished(notify.engine, "notify_outbox")
            return sent if quiet and len(sent) == 2 else None

        # in either order: the approval and the review request travel notify's two queues
        assert sorted(wait_for(settled)) == sorted([("volunteer_offer", "volunteer", pets),
                                                    ("assignment_proposed", "kamer", respite)])
        # what intake told everyone: an approval for pets, a review request for respite, never both
        assert _intake_said(intake.engine, pets) == ["assignment.approved"]
        assert _intake_said(intake.engine, respite) == ["assignment.review_requested"]
        with notify.engine.connect() as conn:  # notify no longer listens to matching's proposals at all
            handled = set(conn.execute(select(tables.inbox.c.event_id)).scalars())
        assert handled.isdisjoint(p.event_id for p in proposals)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        intake.dispose()
        notify.dispose()
        _empty_the_in_process_queues()
    assert not any(thread.is_alive() for thread in threads)


def _sent(notify, *request_ids) -> list[tuple[str, str, str]]:
    n = tables.notifications
    with notify.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(n.c.template, n.c.recipient_kind, n.c.request_id)
            .where(n.c.status == "sent", n.c.request_id.in_(request_ids)).order_by(n.c.id)).all()]


def _unpublished(engine, outbox: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {outbox} WHERE published_at IS NULL")).scalar_one()


def _intake_said(engine, request_id) -> list[str]:
    """The assignment decisions intake published about a request."""
    with engine.connect() as conn:
        bodies = conn.execute(text("SELECT body FROM intake_outbox WHERE event_type IN "
                                   "('assignment.approved', 'assignment.review_requested') ORDER BY id")).scalars()
        return [e.event_type for e in map(parse, bodies) if e.data["request_id"] == request_id]


def _empty_the_in_process_queues() -> None:
    """The in-process bus lives as long as the test process: leave nothing for other tests."""
    with Connection("memory://") as conn:
        for sub in ALL_SUBSCRIPTIONS:
            conn.default_channel.queue_purge(sub.queue_name)


def _inbox(service) -> int:
    with service.engine.connect() as conn:
        return len(conn.execute(select(tables.inbox.c.event_id)).all())
