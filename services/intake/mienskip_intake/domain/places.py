"""Where things are, in words: the villages and wijken a point lies in, roughly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mienskip_shared.geo import great_circle_km


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # village or wijk
    lat: float
    lon: float


def nearest_place(places: Sequence[Place], lat: float, lon: float) -> str:
    """The neighbourhood or village a point lies in, roughly: enough to plan, not to find a door."""
    if not places:
        return "—"
    return min(places, key=lambda p: great_circle_km(lat, lon, p.lat, p.lon)).name
