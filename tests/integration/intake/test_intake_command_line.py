"""The ``mienskip`` admin commands: their answer on stdout, their log lines on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _mienskip(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MIENSKIP_LOG_JSON": "1"}
    env.pop("MIENSKIP_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "mienskip_cli.main", *args, "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=120, check=True)


def test_admin_commands_answer_on_stdout_and_log_on_stderr(tmp_path):
    added = _mienskip(tmp_path, "kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374",
                      "--json")
    kamer = json.loads(added.stdout)  # nothing but the answer
    assert set(kamer) == {"id", "token", "token_id"} and kamer["token"].startswith("msk_")
    logged = [json.loads(line) for line in added.stderr.splitlines()]
    assert {"event": "outbox.event_written", "event_type": "kamer.registered"}.items() <= logged[-1].items()

    issued = _mienskip(tmp_path, "token", "add", "--role", "kamer", "--kamer", kamer["id"], "--json")
    assert json.loads(issued.stdout)["role"] == "kamer"
