"""``mienskip intake`` serves its API with gunicorn (the image's server, never werkzeug's
development server) while its relay and consumers run in the command's own process: a
request answered 202 by a gunicorn worker is published by the relay; SIGTERM stops both;
a SIGKILLed command leaves no gunicorn behind holding the port (issue 14)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
import requests
from e2e_support import free_port, wait_until_ready
from polling import eventually
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.slow


def _gunicorn_children(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if "gunicorn" in " ".join(p.cmdline())]


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_intake_serves_with_gunicorn_and_relays_from_its_own_process(processes, postgres_url, rabbit_url):
    processes.env.update(MIENSKIP_DATABASE_URL=postgres_url, MIENSKIP_BROKER_URL=rabbit_url)
    kamer = processes.cli("kamer", "add", "--name", "Buurtkamer Vlietzone", "--lat", "53.2012", "--lon", "5.7999",
                          "--json")
    port = free_port()
    command = processes.start("intake", "intake", "--port", str(port), "--web-workers", "2", "--threads", "2")
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    workers = _gunicorn_children(command.pid)
    assert len([p for p in workers if p.ppid() != command.pid]) == 2  # the arbiter's two workers
    assert "werkzeug" not in requests.get(f"{base}/healthz", timeout=5).headers.get("Server", "").lower()

    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    answer = requests.post(f"{base}/v1/requests", headers={"Authorization": f"Bearer {kamer['token']}"}, timeout=10,
                           json={"resident": {"name": "Jan Hoekstra"}, "location": {"lat": 53.2, "lon": 5.8},
                                 "category": "shopping",
                                 "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
    assert answer.status_code == 202, answer.text
    engine = create_engine(postgres_url)
    try:
        def published() -> bool:
            with engine.connect() as db:
                return db.execute(text("SELECT count(*) FROM intake_outbox WHERE event_type = 'request.submitted' "
                                       "AND published_at IS NOT NULL")).scalar_one() == 1
        assert eventually(published, timeout=30), processes.logs()
    finally:
        engine.dispose()

    command.send_signal(signal.SIGTERM)
    assert command.wait(timeout=30) == 0
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in workers)
    assert eventually(lambda: _port_free(port), timeout=10)


def test_a_killed_intake_command_takes_its_gunicorn_with_it(processes, postgres_url, rabbit_url):
    processes.env.update(MIENSKIP_DATABASE_URL=postgres_url, MIENSKIP_BROKER_URL=rabbit_url)
    processes.cli("kamer", "add", "--name", "Buurtkamer Vlietzone", "--lat", "53.2012", "--lon", "5.7999", "--json")
    port = free_port()
    command = processes.start("intake", "intake", "--port", str(port), "--web-workers", "1", "--threads", "1")
    wait_until_ready(f"http://127.0.0.1:{port}", processes)
    gunicorn = _gunicorn_children(command.pid)
    assert gunicorn
    command.send_signal(signal.SIGKILL)
    command.wait(timeout=10)
    gone = eventually(lambda: all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in gunicorn),
                      timeout=30)
    assert gone, [p.pid for p in gunicorn if p.is_running()]
    assert eventually(lambda: _port_free(port), timeout=10)


def test_the_images_web_command_logs_as_its_settings_say(processes, tmp_path):
    """The image runs ``gunicorn ...wsgi:create()`` with MIENSKIP_LOG_JSON=1: its workers log
    JSON lines of the service at the configured level, not structlog's console default."""
    processes.cli("kamer", "add", "--name", "Buurtkamer Vlietzone", "--lat", "53.2012", "--lon", "5.7999", "--json")
    port, log = free_port(), tmp_path / "gunicorn.log"
    env = {**processes.env, "MIENSKIP_LOG_JSON": "1", "MIENSKIP_LOG_LEVEL": "INFO"}
    with open(log, "w") as out:
        server = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "--bind", f"127.0.0.1:{port}",
                                   "--workers", "1", "mienskip_intake.entrypoints.wsgi:create()"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(f"http://127.0.0.1:{port}", processes)
        assert requests.get(f"http://127.0.0.1:{port}/v1/requests/x", timeout=10).status_code == 401

        def logged_call():
            lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            return [line for line in lines if line.get("event") == "http.request" and line.get("status") == 401]

        (call,) = eventually(logged_call, timeout=10)
        assert call["service"] == "intake" and call["level"] == "info" and "timestamp" in call
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
