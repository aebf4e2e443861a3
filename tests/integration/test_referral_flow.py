"""A combined request ("both") on real RabbitMQ and PostgreSQL (issue 13): intake and
matching run their workers against the broker; matching proposes a volunteer while the
referral goes out as ``referral.sent`` on the bus; the provider accepts through its
signed link, the volunteer through theirs; the volunteer records the visit (issue 17) and
the request completes, its referral closed; notify, running beside them, told the resident
both: the volunteer who comes and the provider who helps."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

from http_sink import HttpSink
from intake_support import TEST_SECRET, Kamer, issue_token, provider_headers, register_provider
from kombu import Connection, Queue
from polling import eventually

from mienskip_intake.bootstrap import build as build_intake
from mienskip_intake.domain.model import Role
from mienskip_intake.settings import Settings as IntakeSettings
from mienskip_matching.bootstrap import build as build_matching
from mienskip_matching.settings import Settings as MatchingSettings
from mienskip_notify.adapters import tables as notify_tables
from mienskip_notify.bootstrap import build as build_notify
from mienskip_notify.settings import Settings as NotifySettings
from mienskip_shared.links import sign_volunteer_link
from mienskip_shared.messaging.topology import events_exchange
from mienskip_shared.runtime import start_workers

ALL_WEEK = [{"day": d, "from": "07:00", "to": "21:00"} for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]


def _observer(rabbit_url: str) -> Queue:
    """A queue of our own that sees every referral event intake publishes."""
    queue = Queue("test.referral-observer", exchange=events_exchange, routing_key="referral.*", durable=False)
    with Connection(rabbit_url) as conn:
        queue(conn.default_channel).declare()
    return queue


def _seen(rabbit_url: str, queue: Queue, into: list[dict]) -> list[dict]:
    with Connection(rabbit_url) as conn:
        bound = queue(conn.default_channel)
        while (message := bound.get(no_ack=True)) is not None:
            into.append(json.loads(message.body))
    return into


def test_a_combined_request_gets_a_volunteer_and_a_referral_and_both_accept(postgres_url, rabbit_url, tmp_path):
    intake = build_intake(IntakeSettings.from_env({}, database_url=postgres_url, broker_url=rabbit_url,
                                                  data_dir=tmp_path, secret_key=TEST_SECRET))
    matching = build_matching(MatchingSettings.from_env({}, database_url=postgres_url, broker_url=rabbit_url,
                                                        data_dir=tmp_path))
    gateway = HttpSink().start()  # the SMS gateway the resident is told through
    notify = build_notify(NotifySettings.from_env({}, database_url=postgres_url, broker_url=rabbit_url,
                                                  data_dir=tmp_path, secret_key=TEST_SECRET,
                                                  sms_url=f"{gateway.url}/sms", sms_key="k"))
    observer = _observer(rabbit_url)
    stop = threading.Event()
    threads = start_workers([*intake.workers, *matching.workers, *notify.workers], stop)
    try:
        client = intake.wsgi_app.test_client()
        kamer = Kamer(intake.engine, "Buurtkamer Bilgaard")
        _, token = issue_token(intake.engine, Role.COORDINATOR, region="leeuwarden")
        provider_id = register_provider(client, {"Authorization": f"Bearer {token}"})
        volunteer = client.post("/v1/volunteers", headers=kamer.headers, json={
            "name": "Anna de Vries", "email": "anna@example.org", "home": {"lat": 53.217, "lon": 5.799}, "skills": ["buddy"],
            "availability": ALL_WEEK, "max_tasks_per_week": 5, "max_distance_km": 20})
        assert volunteer.status_code == 201
        start = (datetime.now(UTC) + timedelta(days=4)).replace(hour=9, minute=0, second=0, microsecond=0)
        submitted = client.post("/v1/requests", headers=kamer.headers, json={
            "resident": {"name": "Tryntsje Visser", "address": "De Hooidollen 17, 8918 HV Leeuwarden",
                         "phone": "+31612345678"},
            "location": {"lat": 53.2155, "lon": 5.7957}, "category": "buddy", "helper": "both",
            "provider_id": provider_id,
            "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
        assert submitted.status_code == 202
        request_id = submitted.get_json()["id"]

        def shown() -> dict:
            return client.get(f"/v1/requests/{request_id}", headers=kamer.headers).get_json()

        proposed = eventually(lambda: shown().get("status") == "proposed", timeout=60, interval=0.25)  # under the rate limit
        assert proposed, shown()
        events: list[dict] = []
        assert eventually(lambda: any(e["event_type"] == "referral.sent" for e in _seen(rabbit_url, observer, events)),
                          timeout=30)
        sent = next(e for e in events if e["event_type"] == "referral.sent")
        assert (sent["data"]["request_id"], sent["data"]["helper"]) == (request_id, "both")
        assert "Tryntsje" not in json.dumps(sent) and "Hooidollen" not in json.dumps(sent)

        referral_id = sent["data"]["referral_id"]
        accepted = client.post(f"/v1/referrals/{referral_id}/accept", json={"who": "Marrit Hoekstra"},
                               headers=provider_headers(referral_id, provider_id))
        assert accepted.status_code == 200
        assignment = shown()["assignment"]
        assert client.post(f"/v1/assignments/{assignment['id']}/approve", headers=kamer.headers).status_code == 200
        link = sign_volunteer_link(TEST_SECRET, assignment["id"], assignment["volunteer_id"],
                                   datetime.now(UTC) + timedelta(days=7))
        said_yes = client.post(f"/v1/assignments/{assignment['id']}/accept",
                               headers={"Authorization": f"Bearer {link}"})
        assert said_yes.status_code == 200

        final = shown()
        assert (final["status"], final["assignment"]["status"]) == ("accepted", "accepted")
        assert final["referral"]["status"] == "accepted" and final["referral"]["who"] == "Marrit Hoekstra"
        assert eventually(lambda: any(e["event_type"] == "referral.accepted"
                                      for e in _seen(rabbit_url, observer, events)), timeout=30)

        # After the task: the volunteer records the visit, and every part is done.
        intake.wsgi_app.config["MIENSKIP_CLOCK"] = lambda: start + timedelta(hours=2)
        recorded = client.post(f"/v1/assignments/{assignment['id']}/complete", json={"done": True, "hours": 1, "km": 4},
                               headers={"Authorization": f"Bearer {link}"})
        assert recorded.status_code == 200, recorded.get_json()
        done = shown()
        assert (done["status"], done["assignment"]["status"], done["referral"]["status"]) == (
            "completed", "completed", "closed")

        def told_the_resident() -> set[str]:
            with notify.engine.connect() as db:
                n = notify_tables.notifications
                return set(db.execute(n.select().with_only_columns(n.c.template).where(
                    n.c.recipient_kind == "resident", n.c.request_id == request_id)).scalars())
        told = eventually(lambda: {"resident_volunteer_coming", "resident_provider_coming"} <= told_the_resident(),
                          timeout=60)
        def texts() -> list[str]:
            return [r.body.decode() for r in list(gateway.received)]
        both = eventually(lambda: any("Marrit Hoekstra" in t for t in texts()) and any("Anna" in t for t in texts()),
                          timeout=30)
        assert both, texts()
        if not told:
            with notify.engine.connect() as db:
                n = notify_tables.notifications
                rows = db.execute(n.select().with_only_columns(n.c.template, n.c.recipient_kind, n.c.request_id,
                                                                n.c.status)).all()
        assert told, "\n".join(map(str, rows))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        intake.dispose()
        matching.dispose()
        notify.dispose()
        gateway.stop()
