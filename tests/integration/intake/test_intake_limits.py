"""Rate limits per token: a kamer that floods gets 429 with Retry-After; others don't."""

from __future__ import annotations

import concurrent.futures
import copy
from datetime import UTC, datetime, timedelta

import pytest
from intake_support import Kamer
from sqlalchemy import func, select

from mienskip_intake.adapters import tables as t
from mienskip_intake.bootstrap import build
from mienskip_intake.settings import Settings

SOON = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
BODY = {"resident": {"name": "Wytske Terpstra"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "buddy",
        "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}


@pytest.fixture
def limited(sqlite_url, tmp_path):
    service = build(Settings.from_env({}, database_url=sqlite_url, rate_limit="5 per minute", data_dir=tmp_path),
                    with_workers=False)
    yield service
    service.dispose()


def test_a_flooding_kamer_is_limited_and_others_are_not(limited):
    client = limited.wsgi_app.test_client()
    flooder, neighbour = Kamer(limited.engine, "Flooder"), Kamer(limited.engine, "Buurman")
    codes = [client.get("/v1/requests/x", headers=flooder.headers).status_code for _ in range(8)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429] * 3
    limited_answer = client.get("/v1/requests/x", headers=flooder.headers)
    assert limited_answer.get_json()["code"] == "rate_limited"
    assert int(limited_answer.headers["Retry-After"]) >= 1
    assert client.get("/v1/requests/x", headers=neighbour.headers).status_code == 404
    assert client.get("/healthz").status_code == 200  # health is never limited


def test_concurrent_posts_with_one_key_create_one_request(intake, kamer_a):
    headers = {**kamer_a.headers, "Idempotency-Key": "same-key-for-all"}

    def post(_):
        response = intake.wsgi_app.test_client().post("/v1/requests", json=copy.deepcopy(BODY), headers=headers)
        return response.status_code, (response.get_json() or {}).get("id")

    with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(post, range(20)))
    codes = {code for code, _ in results}
    assert codes <= {202, 409}, results
    assert len({rid for code, rid in results if code == 202}) == 1
    with intake.engine.begin() as tx:
        assert tx.execute(select(func.count()).select_from(t.requests)).scalar() == 1


def test_one_kamer_bursting_tenfold_leaves_the_others_at_full_service(tmp_path):
    """RELIABILITY.md: one kamer bursts 10x -> that kamer gets 429s, the others keep >= 99 %."""
    service = build(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'burst.sqlite3'}", data_dir=tmp_path,
                                      rate_limit="20 per minute"), with_workers=False)
    client = service.wsgi_app.test_client()
    burster = Kamer(service.engine, "Drokke kamer")
    others = [Kamer(service.engine, f"Kamer {n}") for n in range(3)]
    outcomes = {"burster": [], "others": []}
    for round_ in range(200):  # the burster sends 10 for every 1 of each neighbour
        outcomes["burster"].append(client.post("/v1/requests", json=BODY, headers=burster.headers).status_code)
        if round_ % 10 == 0:
            for kamer in others:
                outcomes["others"].append(client.post("/v1/requests", json=BODY, headers=kamer.headers).status_code)
    service.dispose()
    burst = outcomes["burster"]
    assert burst.count(202) == 20 and burst.count(429) == 180
    served = outcomes["others"].count(202) / len(outcomes["others"])
    print(f"burster: {burst.count(202)} served, {burst.count(429)} limited; others served {served:.0%}")
    assert served >= 0.99
