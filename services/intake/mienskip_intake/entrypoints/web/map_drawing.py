"""The region map as SVG marks: an equirectangular projection of places, kamers, open
requests, volunteers and the links between them. Drawing only; the data comes from
``adapters.overviews.map_data``."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...adapters.overviews import MapData
from ...domain.model import coarse, first_name_or_dash
from ...domain.places import Place, nearest_place

first_name = first_name_or_dash


@dataclass(frozen=True)
class Projection:
    """Equirectangular around the region's latitude: metres are metres at this scale."""

    lat_max: float
    lon_min: float
    scale: float  # pixels per degree of latitude
    kx: float  # cos(latitude): a degree of longitude is shorter up here
    width: int
    height: int

    @classmethod
    def fit(cls, points: Sequence[tuple[float, float]], box: tuple[int, int] = (900, 760), pad: float = 0.01,
            lat0: float = 53.2) -> Projection:
        """The largest drawing of ``points`` (plus ``pad`` degrees) that fits in ``box`` pixels."""
        lats = [p[0] for p in points]
        lons = [p[1] for p in points]
        lat_min, lat_max = min(lats) - pad, max(lats) + pad
        lon_min, lon_max = min(lons) - pad * 1.6, max(lons) + pad * 1.6
        kx = math.cos(math.radians(lat0))
        scale = min(box[0] / max((lon_max - lon_min) * kx, 1e-6), box[1] / max(lat_max - lat_min, 1e-6))
        return cls(lat_max, lon_min, scale, kx, round((lon_max - lon_min) * kx * scale),
                   round((lat_max - lat_min) * scale))

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        return (round((lon - self.lon_min) * self.kx * self.scale, 1), round((self.lat_max - lat) * self.scale, 1))

    def pixels_per_km(self) -> float:
        return self.scale / 111.32



def draw_map(data: MapData, places: Sequence[Place], *, kamer_id: str | None = None,
             zoom: str = "region") -> dict[str, Any]:
    """Places, kamers, open requests, volunteers and proposed links, projected to an SVG box.

    Requests and volunteers are drawn at their coarse (~100 m) location, as the bus carries it.
    """
    requests, volunteers, links, names, kamers = data.requests, data.volunteers, data.links, data.names, data.kamers
    wijken = [p for p in places if p.kind != "village"]
    frame = wijken if zoom == "city" and wijken else places
    proj = Projection.fit([(p.lat, p.lon) for p in frame] or [(53.2, 5.8)], pad=0.006 if zoom == "city" else 0.012)

    def inside(x: float, y: float) -> bool:
        return -20 <= x <= proj.width + 20 and -20 <= y <= proj.height + 20

    drawn_places = []
    for p in places:
        x, y = proj.xy(p.lat, p.lon)
        if inside(x, y):
            drawn_places.append({"name": p.name, "kind": p.kind, "x": x, "y": y,
                                 "label": zoom == "city" or p.kind == "village",
                                 "anchor": "end" if x > proj.width - 90 else "start"})  # labels stay inside
    by_request = {}
    for link in links:
        by_request[link.request_id] = link
    request_marks = []
    for row in requests:
        spot = coarse(row.lat, row.lon)
        x, y = proj.xy(spot["lat"], spot["lon"])
        link = by_request.get(row.id)
        request_marks.append({"id": row.id, "x": x, "y": y, "status": row.status, "category": row.category,
                              "urgent": row.urgent, "kamer_name": row.kamer_name,
                              "referred": getattr(row, "helper", "volunteer") != "volunteer",  # a professional helps
                              "first_name": first_name(row.resident_name), "window_start": row.window_start,
                              "place": nearest_place(places, row.lat, row.lon),
                              "volunteer": names.get(link.volunteer_id) if link else None,
                              "distance_km": link.distance_km if link else None})
    volunteer_marks = []
    for row in volunteers.values():
        spot = coarse(row.home_lat, row.home_lon)
        volunteer_marks.append({"id": row.id, **dict(zip(("x", "y"), proj.xy(spot["lat"], spot["lon"]), strict=True))})
    line_marks = []
    for link in links:
        volunteer, request = volunteers.get(link.volunteer_id), next(m for m in request_marks
                                                                   if m["id"] == link.request_id)
        if volunteer is None:
            continue
        spot = coarse(volunteer.home_lat, volunteer.home_lon)
        x1, y1 = proj.xy(spot["lat"], spot["lon"])
        line_marks.append({"x1": x1, "y1": y1, "x2": request["x"], "y2": request["y"], "status": link.status})
    kamer_marks = [{"id": row.id, "name": row.name, **dict(zip(("x", "y"), proj.xy(row.lat, row.lon), strict=True))}
                   for row in kamers if not kamer_id or row.id == kamer_id]
    km5 = round(5 * proj.pixels_per_km(), 1) if zoom != "city" else round(1 * proj.pixels_per_km(), 1)
    city = None
    if zoom != "city" and wijken:  # the city's wijken are too close to label one by one at this scale
        x, _ = proj.xy(0, min(p.lon for p in wijken))
        _, y = proj.xy(sum(p.lat for p in wijken) / len(wijken), 0)
        city = {"x": x - 8, "y": y}
    return {"width": proj.width, "height": proj.height, "places": drawn_places, "requests": request_marks,
            "city": city,
            "volunteers": volunteer_marks, "links": line_marks, "kamers": kamer_marks,
            "scale_px": km5, "scale_km": 5 if zoom != "city" else 1,
            "status_counts": Counter(m["status"] for m in request_marks)}
