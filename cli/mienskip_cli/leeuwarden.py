"""What the demo data and the benchmarks draw from: Leeuwarden's real places
(``data/leeuwarden_places.csv``, see its note) and DOMAIN.md's observed mix of requests.

Plain Python, no service imported: a benchmark can read it without loading the services.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PLACES = Path(__file__).resolve().parents[2] / "data" / "leeuwarden_places.csv"
CATEGORY_MIX = {"transport": 20, "buddy": 14, "shopping": 12, "odd_jobs": 12, "paperwork": 12,
                "garden": 8, "digital": 8, "pets": 4, "language": 3, "respite": 3, "meals": 2, "other": 2}


@dataclass(frozen=True)
class Place:
    name: str
    kind: str
    lat: float
    lon: float
    population: float | None = None  # approximate; not known for every place


def load_places(path: Path = DEFAULT_PLACES) -> list[Place]:
    with path.open(encoding="utf-8") as f:
        return [Place(r["name"], r["kind"], float(r["lat"]), float(r["lon"]),
                      float(r["population_approx"]) if r.get("population_approx") else None)
                for r in csv.DictReader(f)]
