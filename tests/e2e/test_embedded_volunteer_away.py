"""`mienskip serve` alone: a volunteer the kamer marked away on the task's day is not the one
proposed, though they live nearest; the one further away is. (If the request overtakes
the change on its way to matching, intake withdraws the proposal it gets and matching asks
again without them: either way nobody is offered a task on a day they are away.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from e2e_support import free_port, wait_for, wait_until_ready


def _next_tuesday_at(hour: int) -> datetime:
    now = datetime.now(UTC)
    days = (1 - now.weekday()) % 7 or 7
    return (now + timedelta(days=days)).replace(hour=hour, minute=0, second=0, microsecond=0)


def test_a_volunteer_away_that_day_is_not_proposed(processes):
    kamer = processes.cli("kamer", "add", "--name", "Dorpskamer Grou", "--lat", "53.0946", "--lon", "5.8374", "--json")
    port = free_port()
    processes.start("serve", "serve", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    wait_until_ready(base, processes)
    headers = {"Authorization": f"Bearer {kamer['token']}"}
    start = _next_tuesday_at(10)  # 11:00 or 12:00 local: inside 08:00-18:00
    day = start.astimezone(ZoneInfo("Europe/Amsterdam")).date()

    def register(name, lat):
        response = requests.post(f"{base}/v1/volunteers", headers=headers, timeout=10, json={
            "name": name, "home": {"lat": lat, "lon": 5.8374}, "skills": ["pets"],
            "availability": [{"day": "tue", "from": "08:00", "to": "18:00"}], "max_distance_km": 10})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    nearest, further = register("Hiltsje Bouma", 53.0950), register("Jan Jansma", 53.1100)
    away = requests.patch(f"{base}/v1/volunteers/{nearest}", headers=headers, timeout=10, json={
        "away": [{"from": day.isoformat(), "to": (day + timedelta(days=6)).isoformat()}]})
    assert away.status_code == 200, away.text

    submitted = requests.post(f"{base}/v1/requests", headers=headers, timeout=10, json={
        "resident": {"name": "Durk Postma"}, "location": {"lat": 53.0946, "lon": 5.8374}, "category": "pets",
        "window": {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()}})
    assert submitted.status_code == 202, submitted.text
    request_id = submitted.json()["id"]

    def proposed_to_someone_who_is_there():
        body = requests.get(f"{base}/v1/requests/{request_id}", headers=headers, timeout=10).json()
        if body["status"] == "proposed" and body["assignment"]["volunteer_id"] == further:
            return body
        return None

    try:
        body = wait_for(proposed_to_someone_who_is_there, timeout=60, what="a proposal to the volunteer who is there")
    except BaseException:
        print(processes.logs())
        raise
    assert body["assignment"]["volunteer_id"] != nearest
    assert not any(h["status"] == "approved" for h in body["history"])
