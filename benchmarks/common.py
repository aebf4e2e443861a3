"""Small helpers the benchmarks share."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def bounded(low: float, high: float, kind: type) -> Callable[[str], float]:
    """An argparse type: ``kind(raw)`` within ``[low, high]``, else a clear usage error."""
    def parse(raw: str):
        value = kind(raw)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}")
        return value
    return parse
