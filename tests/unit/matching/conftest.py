"""Builders for matching's domain tests: a Tuesday-morning request in Leeuwarden and
volunteers that pass every hard rule unless a test says otherwise."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from mienskip_matching.domain.model import OpenRequest, Point, Volunteer, WeeklySlot, Window

CENTRE = Point(53.2012, 5.7999)  # Leeuwarden
TUESDAY_9_TO_11 = Window(datetime(2025, 7, 1, 7, 0, tzinfo=UTC), datetime(2025, 7, 1, 9, 0, tzinfo=UTC))  # CEST


def km_north(km: float, origin: Point = CENTRE) -> Point:
    return Point(origin.lat + km / 111.195, origin.lon)


def km_east(km: float, origin: Point = CENTRE) -> Point:
    return Point(origin.lat, origin.lon + km / (111.195 * math.cos(math.radians(origin.lat))))


class Builders:
    km_north = staticmethod(km_north)
    km_east = staticmethod(km_east)
    centre = CENTRE
    tuesday = TUESDAY_9_TO_11

    @staticmethod
    def volunteer(id: str, km: float = 1.0, **changes) -> Volunteer:
        base = Volunteer(
            id=id, kamer_id="kamer-bilgaard", region="leeuwarden", home=km_north(km),
            skills=frozenset({"transport", "buddy", "shopping"}), languages=frozenset({"nl", "fy"}),
            has_car=True, vog_checked_on=date(2024, 5, 1),
            availability=(WeeklySlot.parse("tue", "09:00", "12:00"), WeeklySlot.parse("thu", "13:00", "17:00")),
            max_tasks_per_week=3, max_distance_km=10.0,
        )
        return replace(base, **changes)

    @staticmethod
    def request(id: str = "req-1", **changes) -> OpenRequest:
        base = OpenRequest(
            id=id, kamer_id="kamer-bilgaard", region="leeuwarden", category="buddy", skills=frozenset(),
            needs_vog=False, needs_language=None, window=TUESDAY_9_TO_11, location=CENTRE, urgency="normal",
        )
        return replace(base, **changes)


@pytest.fixture(scope="session")
def make() -> type[Builders]:
    return Builders
