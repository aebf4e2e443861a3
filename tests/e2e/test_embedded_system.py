"""`mienskip serve` alone (SQLite, in-process transport): a request reaches `proposed`
and the kamer gets a message, as the README's curl example shows."""

from __future__ import annotations

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
