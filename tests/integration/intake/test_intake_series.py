"""Weekly series: intake makes the next week's request by itself, a week ahead, following
the one before; once, whatever runs it twice; never after the series was cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from intake_support import uow
from sqlalchemy import select
from ui_support import request_body

from mienskip_intake.adapters import tables as t
from mienskip_intake.domain import commands
from mienskip_intake.domain.model import next_in_series
from mienskip_intake.service_layer import series
from mienskip_shared.contracts import parse

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def _weekly(client, kamer, start: datetime) -> str:
    body = request_body(start)
    body["recurrence"] = "weekly"
    r = client.post("/v1/requests", json=body, headers=kamer.headers)
    assert r.status_code == 202, r.get_json()
    return r.get_json()["id"]


def _run(engine, now: datetime | None = None) -> None:
    series.continue_series(commands.ContinueSeries(now=now), lambda: uow(engine))


def _requests(engine) -> list:
    with engine.begin() as tx:
        return tx.execute(select(t.requests).order_by(t.requests.c.window_start)).all()


def test_a_weekly_request_gets_its_next_week_by_itself_once(client, intake, kamer_a):
    start = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    first = _weekly(client, kamer_a, start)
    _run(intake.engine)
    _run(intake.engine)  # again, as a second intake process would: nothing more
    rows = _requests(intake.engine)
    assert len(rows) == 2
    following = rows[1]
    assert following.follows == first and following.recurrence == "weekly" and following.status == "received"
    assert (following.window_start, following.window_end) == next_in_series(rows[0].window_start, rows[0].window_end,
                                                                            AMSTERDAM)
    assert following.resident_name == rows[0].resident_name and following.kamer_id == kamer_a.id
    with intake.engine.begin() as tx:
        sent = [parse(r.body) for r in tx.execute(select(t.outbox.c.body).where(
            t.outbox.c.event_type == "request.submitted"))]
        story = tx.execute(select(t.history).where(t.history.c.request_id == following.id)).all()
    assert [e.data["follows"] for e in sent if e.data["request_id"] == following.id] == [first]  # matching hears
    assert story[0].actor == "system:series" and story[0].note_code == "series_continued"
    shown = client.get(f"/v1/requests/{following.id}", headers=kamer_a.headers).get_json()
    assert "volgende week van de wekelijkse hulpvraag" in shown["history"][0]["note"]


def test_the_series_keeps_one_week_ahead_and_ends_when_cancelled(client, intake, kamer_a):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    _weekly(client, kamer_a, start)
    _run(intake.engine)
    assert len(_requests(intake.engine)) == 2
    _run(intake.engine, now=datetime.now(UTC) + timedelta(days=3))  # a week on: the second is due now
    rows = _requests(intake.engine)
    assert len(rows) == 3 and rows[2].follows == rows[1].id
    r = client.post(f"/v1/requests/{rows[2].id}/cancel", json={}, headers=kamer_a.headers)
    assert r.status_code == 200
    _run(intake.engine, now=datetime.now(UTC) + timedelta(days=30))
    assert len(_requests(intake.engine)) == 3  # cancelled: the series ended


def test_a_one_off_or_far_away_request_is_left_alone(client, intake, kamer_a):
    client.post("/v1/requests", json=request_body(datetime.now(UTC) + timedelta(days=2)), headers=kamer_a.headers)
    _weekly(client, kamer_a, datetime.now(UTC) + timedelta(days=20))
    _run(intake.engine)
    assert len(_requests(intake.engine)) == 2
