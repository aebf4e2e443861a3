"""RELIABILITY.md's fault matrix, with real processes on real RabbitMQ and PostgreSQL:
broker connections cut and the broker application restarted while kamers submit,
matching SIGKILLed again and again mid-stream, every event delivered twice.
Afterwards a checker classifies every acknowledged request: lost, duplicated or ok."""

from __future__ import annotations

import random
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
import requests
from checker import check
from e2e_support import free_port, wait_for, wait_until_ready
from kombu import Connection
from sqlalchemy import create_engine, text
from tcp_proxy import TcpProxy

from mienskip_shared.messaging import ConfirmedPublisher, OutgoingMessage
from mienskip_shared.messaging.topology import EVENTS_EXCHANGE

pytestmark = pytest.mark.slow
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _decisions(postgres_url) -> list[str]:
    """One entry per matching decision (proposal or escalation), by request id."""
    engine = create_engine(postgres_url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT correlation_id FROM matching_outbox WHERE event_type IN "
                               "('assignment.proposed', 'request.unmatched')")).all()
    engine.dispose()
    return [r.correlation_id for r in rows]


def _start_system(processes, postgres_url, broker_url, *, matching_replicas=1):
    processes.env.update(MIENSKIP_DATABASE_URL=postgres_url, MIENSKIP_BROKER_URL=broker_url,
                         MIENSKIP_RETRY_DELAYS_MS="200,500,1000,2000,4000", MIENSKIP_LOG_JSON="1")
    kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Stiens", "--lat", "53.2623", "--lon", "5.7577",
                          "--json")
    port = free_port()
    processes.start("intake", "intake", "--port", str(port))
    for n in range(matching_replicas):
        processes.start(f"matching-{n}", "matching")
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    headers = {"Authorization": f"Bearer {kamer['token']}"}
    rng = random.Random(11)
    for n in range(30):
        r = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": f"Frijwilliger {n}", "home": {"lat": 53.26 + rng.uniform(-0.02, 0.02),
                                                   "lon": 5.76 + rng.uniform(-0.03, 0.03)},
            "skills": ["shopping"], "availability": [{"day": d, "from": "06:00", "to": "22:00"} for d in DAYS],
            "max_tasks_per_week": 50, "max_distance_km": 20})
        assert r.status_code == 201
    return base, headers


def _submit(base, headers, n, session) -> str | None:
    start = (datetime.now(UTC) + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    try:
        r = session.post(f"{base}/v1/requests", headers={**headers, "Idempotency-Key": f"fault-{n}"}, timeout=10,
                         json={"resident": {"name": f"Bewenner {n}"}, "category": "shopping",
                               "location": {"lat": 53.2623, "lon": 5.7577},
                               "window": {"start": start.isoformat(),
                                          "end": (start + timedelta(minutes=30)).isoformat()}})
    except requests.RequestException:
        return None
    return r.json()["id"] if r.status_code == 202 else None


@pytest.mark.serial  # stop_app/start_app on the broker every other test is using (unless MIENSKIP_TEST_RABBIT_NODE)
def test_broker_cut_three_times_and_restarted_loses_and_doubles_nothing(processes, postgres_url, rabbit_url,
                                                                       rabbitmqctl):
    real = urlparse(rabbit_url)
    proxy = TcpProxy(real.hostname, real.port)
    proxied = rabbit_url.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{proxy.port}")
    base, headers = _start_system(processes, postgres_url, proxied)
    submitted, acknowledged = 0, []
    session = requests.Session()
    try:
        for n in range(600):
            if n in (100, 250, 400):
                proxy.cut()  # every open connection dies; new ones are refused
            if n in (150, 300, 450):
                proxy.restore()
            if n == 500:  # and once the real thing: the broker application stops and starts
                rabbitmqctl("stop_app", timeout=120)
                rabbitmqctl("start_app", timeout=120)
                rabbitmqctl("await_startup", timeout=120)
            submitted += 1
            if (request_id := _submit(base, headers, n, session)) is not None:
                acknowledged.append(request_id)
        proxy.restore()
        try:
            wait_for(lambda: set(acknowledged) <= set(_decisions(postgres_url)), timeout=240, interval=1,
                     what="a decision for every acknowledged request")
        finally:
            verdict = check(submitted, acknowledged, _decisions(postgres_url))
    except BaseException:
        print(processes.logs())
        print(_diagnose(postgres_url, rabbit_url, acknowledged))
        raise
    finally:
        proxy.close()
    assert verdict.acknowledged == submitted  # intake answered 202 throughout
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == (0, 0, 0)


def test_matching_killed_again_and_again_proposes_each_request_once(processes, postgres_url, rabbit_url):
    base, headers = _start_system(processes, postgres_url, rabbit_url, matching_replicas=1)
    acknowledged: list[str] = []
    stop_submitting = threading.Event()

    def submit_all():
        session = requests.Session()
        for n in range(300):
            if stop_submitting.is_set():
                return
            if (request_id := _submit(base, headers, n, session)) is not None:
                acknowledged.append(request_id)

    submitter = threading.Thread(target=submit_all, daemon=True)
    submitter.start()
    rng = random.Random(3)
    kills = 0
    try:
        while submitter.is_alive() or kills < 20:
            name, victim = next((name, p) for name, p in reversed(processes.procs) if name.startswith("matching"))
            wait_for(lambda: len(_decisions(postgres_url)) > 0 or not submitter.is_alive(), timeout=60,
                     what="matching at work")
            time.sleep(rng.uniform(0.05, 0.6))  # a random point in its work, not a wait for a condition
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            kills += 1
            processes.start(f"matching-{kills}", "matching")
            if kills >= 40:
                break
        submitter.join(120)
        wait_for(lambda: set(acknowledged) <= set(_decisions(postgres_url)), timeout=180, interval=1,
                 what="a decision for every acknowledged request")
    except BaseException:
        print(processes.logs())
        raise
    finally:
        stop_submitting.set()
    verdict = check(300, acknowledged, _decisions(postgres_url))
    print(f"matching was SIGKILLed {kills} times")
    assert kills >= 20
    assert (verdict.lost, verdict.duplicated) == (0, 0)


def test_every_event_delivered_twice_gives_one_decision_each(processes, postgres_url, rabbit_url, rabbitmqctl):
    base, headers = _start_system(processes, postgres_url, rabbit_url, matching_replicas=2)
    acknowledged = [rid for n in range(200) if (rid := _submit(base, headers, n, requests.Session()))]
    wait_for(lambda: set(acknowledged) <= set(_decisions(postgres_url)), timeout=120, interval=0.5,
             what="first decisions")
    engine = create_engine(postgres_url)
    with engine.connect() as db:
        rows = db.execute(text("SELECT event_id, correlation_id, body FROM intake_outbox "
                               "WHERE event_type = 'request.submitted' ORDER BY id")).all()
    engine.dispose()
    # The whole stream once more, as a broker redelivery would, and confirmed like every
    # publish of ours: without confirms RabbitMQ may drop the tail of what a channel sent
    # just before it closed (this test once lost 30 to 90 of its 200 that way).
    publisher = ConfirmedPublisher(lambda: Connection(rabbit_url))
    try:
        assert publisher.publish_batch(
            OutgoingMessage(EVENTS_EXCHANGE, "request.submitted", r.body.encode(), r.event_id, r.correlation_id)
            for r in rows) == len(rows)
    finally:
        publisher.close()
    # Every duplicate is consumed (each replica logs each message it acks) and changes nothing.
    queue = "matching.intake.request.submitted"
    try:
        wait_for(lambda: _handled(processes, queue) >= 2 * len(rows), timeout=120, what="duplicates consumed")
    except BaseException:
        print(processes.logs())
        print(f"handled per replica: {_handled_per_replica(processes, queue)}")
        print(rabbitmqctl("list_queues", "-p", urlparse(rabbit_url).path.lstrip("/"), "name", "messages_ready",
                          "messages_unacknowledged", "consumers"))
        raise
    verdict = check(200, acknowledged, _decisions(postgres_url))
    assert (verdict.lost, verdict.duplicated, verdict.unexpected) == (0, 0, 0)


def _diagnose(postgres_url, rabbit_url, acknowledged) -> str:
    """Where the missing ones are: still in intake's outbox, dead-lettered, or in matching."""
    from mienskip_shared.messaging.topology import dead_letter_depths

    engine = create_engine(postgres_url)
    with engine.connect() as db:
        unpublished = db.execute(text("SELECT count(*) FROM intake_outbox WHERE published_at IS NULL")).scalar()
        known = {r.id: r.status for r in db.execute(text("SELECT id, status FROM matching_requests"))}
        inbox = db.execute(text("SELECT count(*) FROM matching_inbox")).scalar()
    engine.dispose()
    with Connection(rabbit_url) as conn:
        dead = {q: n for q, n in dead_letter_depths(conn).items() if n}
        _, ready, consumers = conn.default_channel.queue_declare("matching.intake.request.submitted", passive=True)
        dead["request.submitted ready/consumers"] = (ready, consumers)
    missing = [rid for rid in acknowledged if rid not in set(_decisions(postgres_url))]
    return (f"unpublished={unpublished} matching_inbox={inbox} dead_letters={dead} missing={len(missing)} "
            f"missing_known_to_matching={sum(1 for m in missing if m in known)} "
            f"their_status={sorted({known.get(m) for m in missing}, key=str)} first_missing={missing[:3]}")


def _handled_per_replica(processes, queue: str) -> dict[str, int]:
    counts = {}
    for log in sorted(processes.log_dir.glob("matching-*.log")):
        counts[log.stem] = sum(1 for line in log.read_text().splitlines()
                               if line.startswith("{") and '"event.handled"' in line and f'"{queue}"' in line)
    return counts


def _handled(processes, queue: str) -> int:
    return sum(_handled_per_replica(processes, queue).values())
