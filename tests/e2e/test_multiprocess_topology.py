"""The docker-compose topology as real processes: intake, two matching replicas and
notify, separate OS processes on real RabbitMQ and PostgreSQL. Every request is
proposed (or escalated) exactly once and no volunteer is booked past capacity."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from e2e_support import free_port, wait_for, wait_until_ready
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow

REQUESTS = 40
VOLUNTEERS = 25
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_two_matching_processes_propose_each_request_exactly_once(processes, postgres_url, rabbit_url):
    processes.env.update(MIENSKIP_DATABASE_URL=postgres_url, MIENSKIP_BROKER_URL=rabbit_url,
                         MIENSKIP_LOG_JSON="1")
    kamer = processes.cli("kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", "53.2155", "--lon", "5.7957",
                          "--email", "bilgaard@kamers.example.org", "--json")
    port = free_port()
    processes.start("intake", "intake", "--port", str(port))
    processes.start("matching-1", "matching")
    processes.start("matching-2", "matching")
    processes.start("notify", "notify")
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    headers = {"Authorization": f"Bearer {kamer['token']}"}

    rng = random.Random(7)
    for n in range(VOLUNTEERS):
        r = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": f"Vrijwilliger {n}", "language": "nl",
            "home": {"lat": 53.2155 + rng.uniform(-0.03, 0.03), "lon": 5.7957 + rng.uniform(-0.05, 0.05)},
            "skills": ["shopping", "buddy"], "availability": [{"day": d, "from": "07:00", "to": "21:00"} for d in DAYS],
            "max_tasks_per_week": 2, "max_distance_km": 15})
        assert r.status_code == 201, r.text
    start = (datetime.now(UTC) + timedelta(days=8)).replace(hour=10, minute=0, second=0, microsecond=0)
    request_ids = []
    for n in range(REQUESTS):
        window_start = start + timedelta(hours=n % 8)
        r = requests.post(f"{base}/v1/requests", headers={**headers, "Idempotency-Key": f"req-{n}"}, timeout=10, json={
            "resident": {"name": f"Bewoner {n}"},
            "location": {"lat": 53.2155 + rng.uniform(-0.02, 0.02), "lon": 5.7957 + rng.uniform(-0.03, 0.03)},
            "category": "shopping" if n % 2 else "buddy",
            "window": {"start": window_start.isoformat(), "end": (window_start + timedelta(minutes=50)).isoformat()}})
        assert r.status_code == 202, r.text
        request_ids.append(r.json()["id"])

    def all_settled():
        statuses = [requests.get(f"{base}/v1/requests/{rid}", headers=headers, timeout=10).json()["status"]
                    for rid in request_ids]
        return statuses if all(s in ("proposed", "unmatched") for s in statuses) else None

    try:
        statuses = wait_for(all_settled, timeout=120, interval=0.5, what="every request proposed or unmatched")
    except BaseException:
        print(processes.logs())
        raise
    engine = create_engine(postgres_url)
    with engine.connect() as db:
        proposals = db.execute(text(
            "SELECT request_id, volunteer_id FROM intake_assignments")).all()
        announced = db.execute(text(
            "SELECT body FROM matching_outbox WHERE event_type IN ('assignment.proposed', 'request.unmatched')")).all()
    engine.dispose()
    per_request = Counter(r.request_id for r in proposals)
    assert all(count == 1 for count in per_request.values())
    assert len(per_request) == statuses.count("proposed")
    assert len(announced) == REQUESTS  # one decision per request, across both replicas
    per_volunteer = Counter(r.volunteer_id for r in proposals)
    assert max(per_volunteer.values()) <= 2  # max_tasks_per_week, never exceeded
    assert statuses.count("proposed") == REQUESTS  # 25 volunteers x 2 slots cover all 40
