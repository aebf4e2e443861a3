"""`mienskip serve` alone (SQLite, in-process transport): a request reaches `proposed`
and the kamer gets a message, as the README's curl example shows."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta

import requests
from e2e_support import free_port, wait_for, wait_until_ready


def _next_weekday_at(weekday: int, hour: int) -> datetime:
    now = datetime.now(UTC)
    days = (weekday - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def test_one_request_travels_intake_matching_notify(processes, tmp_path):
    kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374",
                          "--email", "grou@kamers.example.org", "--json")
    port = free_port()
    processes.env.pop("MIENSKIP_PUBLIC_URL", None)
    processes.start("serve", "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    headers = {"Authorization": f"Bearer {kamer['token']}"}
    start = _next_weekday_at(1, 10)  # a Tuesday, 10:00 UTC: inside 08:00-18:00 local
    volunteer = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
        "name": "Hiltsje Bouma", "language": "fy", "home": {"lat": 53.0990, "lon": 5.8300},
        "skills": ["pets"], "availability": [{"day": "tue", "from": "08:00", "to": "18:00"}],
        "max_tasks_per_week": 2, "max_distance_km": 10})
    assert volunteer.status_code == 201, volunteer.text
    submitted = requests.post(f"{base}/v1/requests", headers=headers, timeout=10, json={
        "resident": {"name": "Durk Postma", "language": "fy"}, "location": {"lat": 53.0946, "lon": 5.8374},
        "category": "pets", "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
    assert submitted.status_code == 202, submitted.text
    request_id = submitted.json()["id"]

    def proposed():
        body = requests.get(f"{base}/v1/requests/{request_id}", headers=headers, timeout=10).json()
        delivered = any(h["note_code"] == "notification_sent" for h in body["history"])  # notify reported back
        return body if body["status"] == "proposed" and delivered else None

    try:
        body = wait_for(proposed, timeout=60, what="proposal and notification")
    except BaseException:
        print(processes.logs())
        raise
    assert body["assignment"]["volunteer_id"] == volunteer.json()["id"]
    assert body["assignment"]["distance_km"] < 2
    mails = list((tmp_path / "data" / "mailbox").rglob("*.eml"))
    assert len(mails) == 1
    # API.md: links start with the server's own address when MIENSKIP_PUBLIC_URL is unset
    # (issue 18: they named port 8000 whatever --port chose).
    assert f"http://127.0.0.1:{port}/review" in mails[0].read_text(), mails[0].read_text()[-600:]
    # Issue 18, defect 6: the database and the mailbox are the owner's alone.
    data = tmp_path / "data"
    for private in (data / "mienskip.sqlite3", data / "mienskip.sqlite3-wal", mails[0]):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    for folder in (data, data / "mailbox", mails[0].parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_the_demo_run_again_keeps_its_data_and_shows_its_sign_in_last(tmp_path):
    """`make demo` twice: the same data and tokens, the sign-in at the end of the output,
    the services' log in a file of its own, the demo's secrets readable by its user only."""
    from e2e_support import Processes

    data_dir = tmp_path / "demo"
    (tmp_path / "logs").mkdir()

    def run_once(name: str) -> tuple[str, str]:
        processes = Processes({"MIENSKIP_LOG_LEVEL": "INFO"}, tmp_path / "logs")
        port = free_port()
        try:
            processes.start(name, "demo", "--port", str(port), "--data-dir", str(data_dir))
            out = tmp_path / "logs" / f"{name}.log"
            wait_for(lambda: "operator " in out.read_text(), timeout=90, what="the demo's banner")
            wait_until_ready(f"http://127.0.0.1:{port}", processes)
            text = out.read_text()
            coordinator = re.search(r"coordinator \(leeuwarden\)\s+(msk_\S+)", text).group(1)  # token, not e-mail
            base = f"http://127.0.0.1:{port}"
            listed = requests.get(f"{base}/v1/assignments", timeout=10,
                                  headers={"Authorization": f"Bearer {coordinator}"})
            assert listed.status_code == 200, listed.text  # the printed token works
            return text, coordinator
        finally:
            processes.stop_all()

    first, token = run_once("first")
    assert first.rstrip().splitlines()[-1].lstrip().startswith("operator")  # the sign-in is the last thing shown
    assert "outbox.event_written" not in first  # the services' log went to its file
    assert "outbox.event_written" in (data_dir / "mienskip.log").read_text()
    assert (data_dir / "demo-sign-in.json").stat().st_mode & 0o777 == 0o600
    again, same_token = run_once("again")
    assert same_token == token  # kept, not wiped
