"""The commands the Kubernetes manifests run (deploy/kubernetes/base): the migration Job's
``mienskip migrate``, the init containers' ``mienskip migrate --check``, and the relay's
``mienskip intake --no-api --health-port`` that its probes ask and SIGTERM stops."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request

from polling import eventually


def _mienskip(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mienskip_cli.main", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=180)


def test_migrate_brings_every_service_to_head_and_check_tells_whether_it_is(postgres_url):
    env = {"MIENSKIP_DATABASE_URL": postgres_url}
    before = _mienskip("migrate", "--check", env=env)
    assert before.returncode == 1 and "not at the newest migration yet: intake, matching, notify" in before.stderr

    migrated = _mienskip("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    after = _mienskip("migrate", "--check", env=env)
    assert after.returncode == 0 and "newest migration" in after.stdout


def test_check_says_in_one_line_when_the_database_is_away():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    away = _mienskip("migrate", "--check", env={"MIENSKIP_DATABASE_URL": f"postgresql+psycopg://x@127.0.0.1:{port}/x"})
    assert away.returncode == 1 and "the database is not reachable" in away.stderr and "Traceback" not in away.stderr


def _get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None


def test_the_relay_process_answers_probes_and_stops_cleanly_on_sigterm(postgres_url, rabbit_url):
    env = {"MIENSKIP_DATABASE_URL": postgres_url, "MIENSKIP_BROKER_URL": rabbit_url, "MIENSKIP_LOG_JSON": "1"}
    assert _mienskip("migrate", env=env).returncode == 0
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    relay = subprocess.Popen([sys.executable, "-m", "mienskip_cli.main", "intake", "--no-api", "--health-port",
                              str(port)], env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        ready = eventually(lambda: (answer := _get(base + "/readyz")) and answer[0] == 200 and answer, timeout=60)
        assert ready and '"database": "ok"' in ready[1] and '"broker": "ok"' in ready[1]
        assert _get(base + "/healthz")[0] == 200
        metrics = eventually(lambda: (answer := _get(base + "/metrics")) and "mienskip_oldest_unanswered_proposal_"
                             "seconds{" in answer[1] and answer[1], timeout=60)
        assert metrics and 'mienskip_oldest_unanswered_proposal_seconds{waiting_for="kamer"} 0.0' in metrics
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=60) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
        _, stderr = relay.communicate()
    assert "Traceback" not in stderr
