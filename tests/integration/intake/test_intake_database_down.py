"""PostgreSQL away (connections cut by a proxy): intake answers 503 with Retry-After,
never 500, and recovers by itself when the database is back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlparse

import pytest
from intake_support import TEST_SECRET, Kamer
from tcp_proxy import TcpProxy

from mienskip_intake.bootstrap import build
from mienskip_intake.settings import Settings

pytestmark = pytest.mark.slow
SOON = datetime.now(UTC) + timedelta(days=3)
BODY = {"resident": {"name": "Ids Postma"}, "location": {"lat": 53.2, "lon": 5.8}, "category": "garden",
        "window": {"start": SOON.isoformat(), "end": (SOON + timedelta(hours=1)).isoformat()}}


def test_database_down_is_503_with_retry_after(postgres_url, tmp_path):
    real = urlparse(postgres_url.replace("postgresql+psycopg", "postgresql"))
    proxy = TcpProxy(real.hostname, real.port or 5432)
    proxied = postgres_url.replace(f"{real.hostname}:{real.port or 5432}", f"127.0.0.1:{proxy.port}")
    service = build(Settings.from_env({}, database_url=proxied, data_dir=tmp_path, secret_key=TEST_SECRET),
                    with_workers=False)
    try:
        kamer = Kamer(service.engine, "Dorpskamer Wergea")
        client = service.wsgi_app.test_client()
        assert client.post("/v1/requests", json=BODY, headers=kamer.headers).status_code == 202
        proxy.cut()
        answers = [client.post("/v1/requests", json=BODY, headers=kamer.headers),
                   client.get("/v1/requests/whatever", headers=kamer.headers),
                   client.get("/v1/assignments", headers=kamer.headers)]
        for answer in answers:
            assert answer.status_code == 503, answer.data
            assert answer.headers["Retry-After"] == "5"
            assert answer.get_json()["code"] == "unavailable"
        assert client.get("/readyz").get_json()["checks"]["database"].startswith("unavailable")
        assert client.get("/healthz").status_code == 200  # the process itself is fine
        proxy.restore()
        assert client.post("/v1/requests", json=BODY, headers=kamer.headers).status_code == 202
    finally:
        proxy.close()
        service.dispose()
