"""The next week of a weekly series: the same local time, across summer time."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from mienskip_intake.domain.model import next_in_series

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_ten_oclock_stays_ten_oclock_when_summer_time_ends():
    start = datetime(2026, 10, 20, 10, 0, tzinfo=AMSTERDAM).astimezone(UTC)  # CEST, UTC+2
    end = start + timedelta(hours=1, minutes=30)
    following_start, following_end = next_in_series(start, end, AMSTERDAM)
    assert following_start.astimezone(AMSTERDAM).replace(tzinfo=None) == datetime(2026, 10, 27, 10, 0)  # CET
    assert following_start - start == timedelta(days=7, hours=1)
    assert following_end - following_start == timedelta(hours=1, minutes=30)
    assert following_start.tzinfo is UTC


def test_and_when_summer_time_begins():
    start = datetime(2027, 3, 23, 9, 0, tzinfo=AMSTERDAM).astimezone(UTC)
    following_start, _ = next_in_series(start, start + timedelta(hours=1), AMSTERDAM)
    assert following_start.astimezone(AMSTERDAM).hour == 9 and following_start - start == timedelta(days=6, hours=23)
