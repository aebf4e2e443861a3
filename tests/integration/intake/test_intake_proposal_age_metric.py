"""``mienskip_oldest_unanswered_proposal_seconds``: how long the oldest proposal has waited
for the kamer's review, then for the volunteer's answer (the alert in
deploy/kubernetes/base/alerts.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from intake_support import propose
from prometheus_client import REGISTRY

from mienskip_intake.entrypoints.metrics import oldest_unanswered, proposal_age_worker

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=5)
REQUEST = {"resident": {"name": "Sjoukje de Vries", "phone": "+31611111111"}, "location": {"lat": 53.2, "lon": 5.8},
           "category": "buddy", "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}
VOLUNTEER = {"name": "Hessel Bouma", "home": {"lat": 53.2, "lon": 5.8}, "skills": ["buddy"],
             "availability": [{"day": "mon", "from": "09:00", "to": "17:00"}]}


def _proposal(client, intake, kamer) -> str:
    request_id = client.post("/v1/requests", json=REQUEST, headers=kamer.headers).get_json()["id"]
    volunteer_id = client.post("/v1/volunteers", json=VOLUNTEER, headers=kamer.headers).get_json()["id"]
    return propose(intake.engine, request_id, volunteer_id)


def test_the_oldest_wait_is_counted_for_the_kamer_then_for_the_volunteer(client, intake, kamer_a):
    with intake.engine.connect() as conn:
        assert oldest_unanswered(conn, datetime.now(UTC)) == {"kamer": 0.0, "volunteer": 0.0}
    before = datetime.now(UTC)
    first = _proposal(client, intake, kamer_a)
    proposed = datetime.now(UTC)
    second = _proposal(client, intake, kamer_a)
    later = datetime.now(UTC) + timedelta(hours=30)
    with intake.engine.connect() as conn:
        waits = oldest_unanswered(conn, later)
    assert waits["volunteer"] == 0.0
    assert (later - proposed).total_seconds() <= waits["kamer"] <= (later - before).total_seconds()

    approving = datetime.now(UTC)
    approved = client.post(f"/v1/assignments/{first}/approve", headers=kamer_a.headers)
    assert approved.status_code == 200, approved.get_json()
    with intake.engine.connect() as conn:
        waits = oldest_unanswered(conn, later)
    # the volunteer's wait starts at the approval; the second proposal still waits for the kamer
    assert (later - datetime.now(UTC)).total_seconds() <= waits["volunteer"] <= (later - approving).total_seconds()
    assert (later - approving).total_seconds() <= waits["kamer"] <= (later - proposed).total_seconds()
    assert second != first


def test_the_worker_sets_the_gauge_prometheus_reads(client, intake, kamer_a):
    before = datetime.now(UTC)
    _proposal(client, intake, kamer_a)
    in_a_day = datetime.now(UTC) + timedelta(days=1)
    worker = proposal_age_worker(intake.engine, clock=lambda: in_a_day)

    class StopAfterOneRound:  # the worker's loop asks is_set() before and after its round
        def __init__(self):
            self.asked = 0

        def is_set(self):
            self.asked += 1
            return self.asked > 1

        def wait(self, _timeout):
            return True

    worker.run(StopAfterOneRound())
    seconds = REGISTRY.get_sample_value("mienskip_oldest_unanswered_proposal_seconds", {"waiting_for": "kamer"})
    assert 86400 <= seconds <= (in_a_day - before).total_seconds()
    assert REGISTRY.get_sample_value("mienskip_oldest_unanswered_proposal_seconds",
                                     {"waiting_for": "volunteer"}) == 0.0
