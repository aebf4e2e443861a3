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


def _run(cwd, *args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **(env_extra or {})}
    env.pop("MIENSKIP_DATABASE_URL", None)
    env.pop("MIENSKIP_BROKER_URL", None)
    return subprocess.run([sys.executable, "-m", "mienskip_cli.main", *args], cwd=cwd, capture_output=True,
                          text=True, env=env, timeout=120)


def test_kamer_list_prints_every_kamer_as_json(tmp_path):
    _mienskip(tmp_path, "kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374")
    _mienskip(tmp_path, "kamer", "add", "--name", "Buurtkamer Bilgaard", "--lat", "53.2155", "--lon", "5.7957",
              "--region", "leeuwarden")
    listed = json.loads(_mienskip(tmp_path, "kamer", "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["Buurtkamer Bilgaard", "Dorpskamer Grou"]
    assert all(set(k) == {"id", "name", "region"} for k in listed)


def test_an_admin_command_never_silently_starts_a_second_database_beside_the_demos(tmp_path):
    (tmp_path / "var" / "demo").mkdir(parents=True)
    (tmp_path / "var" / "demo" / "mienskip.sqlite3").write_bytes(b"")
    refused = _run(tmp_path, "token", "add", "--role", "coordinator", "--json")
    assert refused.returncode == 2 and "--data-dir var/demo" in refused.stderr
    assert not (tmp_path / "var" / "mienskip.sqlite3").exists()
    chosen = _run(tmp_path, "token", "add", "--role", "coordinator", "--json", "--data-dir", "var")
    assert chosen.returncode == 0 and json.loads(chosen.stdout)["role"] == "coordinator"


def test_dead_letters_on_the_embedded_transport_say_so_in_one_line(tmp_path):
    peeked = _run(tmp_path, "dlq", "peek", "matching.intake.request.submitted.dlq")
    assert peeked.returncode == 1 and "Traceback" not in peeked.stderr
    lines = [line for line in peeked.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "need RabbitMQ" in lines[0] and "matching.intake.request.submitted.dlq" in lines[0]


def test_kamer_add_takes_the_mileage_rate_reminder_time_and_follow_up_days(tmp_path):
    from sqlalchemy import create_engine, select

    from mienskip_intake.adapters import tables as t
    from mienskip_shared.contracts import parse
    from mienskip_shared.settings import SQLITE_FILE

    kamer = json.loads(_mienskip(tmp_path, "kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon",
                                 "5.8374", "--mileage-rate", "0.25", "--reminder-time", "19:30",
                                 "--follow-up-days", "4", "--json").stdout)
    engine = create_engine(f"sqlite:///{tmp_path / SQLITE_FILE}")
    with engine.begin() as tx:
        row = tx.execute(select(t.kamers).where(t.kamers.c.id == kamer["id"])).one()
        body = tx.execute(select(t.outbox.c.body).where(t.outbox.c.event_type == "kamer.registered")).scalar()
    engine.dispose()
    assert (row.mileage_rate_cents, row.reminder_time, row.follow_up_days) == (25, "19:30", 4)
    assert parse(body).data["reminder_time"] == "19:30" and parse(body).data["follow_up_days"] == 4
    refused = subprocess.run([sys.executable, "-m", "mienskip_cli.main", "kamer", "add", "--name", "X", "--lat", "53",
                              "--lon", "5.8", "--reminder-time", "25:00", "--data-dir", str(tmp_path)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "HH:MM" in refused.stderr
