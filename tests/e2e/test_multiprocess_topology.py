"""The docker-compose topology as real processes: intake, two matching replicas and
notify, separate OS processes on real RabbitMQ and PostgreSQL. Every request is
proposed (or escalated) exactly once and no volunteer is booked past capacity."""

from __future__ import annotations

import json
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
    health_ports = {"matching-1": free_port(), "matching-2": free_port(), "notify": free_port()}
    processes.start("matching-1", "matching", "--health-port", str(health_ports["matching-1"]))
    processes.start("matching-2", "matching", "--health-port", str(health_ports["matching-2"]))
    processes.start("notify", "notify", "--health-port", str(health_ports["notify"]))
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    for worker_port in health_ports.values():  # every service answers /healthz and /readyz
        wait_until_ready(f"http://127.0.0.1:{worker_port}", processes)
        assert requests.get(f"http://127.0.0.1:{worker_port}/healthz", timeout=5).json() == {"status": "ok"}
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

    # One request traced across processes by its correlation id in the JSON logs.
    traced = request_ids[0]
    logs = {name: _json_lines(processes.log_dir / f"{name}.log") for name in ("matching-1", "matching-2", "notify")}
    matching_lines = [line for name in ("matching-1", "matching-2") for line in logs[name]
                      if line.get("correlation_id") == traced]
    assert any(line["event"] == "event.handled" for line in matching_lines)
    assert any(line.get("correlation_id") == traced for line in logs["notify"])
    handled_by = {name for name in ("matching-1", "matching-2")
                  if any(line.get("event") == "matching.proposed" for line in logs[name])}
    assert handled_by == {"matching-1", "matching-2"}, "both replicas should share the work"


def _json_lines(path) -> list[dict]:
    lines = []
    for raw in path.read_text().splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines
