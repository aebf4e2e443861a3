"""Small helpers the benchmarks share."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def bounded(low: float, high: float, kind: type) -> Callable[[str], float]:
    """An argparse type: ``kind(raw)`` within ``[low, high]``, else a clear usage error."""
    def parse(raw: str):
        value = kind(raw)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an already sorted list; None (JSON null) if empty."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole`` to three decimals; None (JSON null) when either is missing or zero."""
    return round(part / whole, 3) if part is not None and whole else None
