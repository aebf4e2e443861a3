"""A Jepsen-style checker for the fault tests: every operation is classified
afterwards as ok, lost or duplicated, and the counts are printed with the test."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    submitted: int
    acknowledged: int
    processed: int
    lost: int
    duplicated: int
    unexpected: int

    def __str__(self) -> str:
        return (f"submitted={self.submitted} acknowledged={self.acknowledged} processed={self.processed} "
                f"lost={self.lost} duplicated={self.duplicated} unexpected={self.unexpected}")


def check(submitted: int, acknowledged_ids: list[str], effect_ids: list[str]) -> Verdict:
    """``acknowledged_ids``: what the system promised (202s); ``effect_ids``: one entry
    per effect observed (e.g. per matching decision), duplicates included."""
    promised = set(acknowledged_ids)
    effects = Counter(effect_ids)
    verdict = Verdict(
        submitted=submitted,
        acknowledged=len(promised),
        processed=len(promised & set(effects)),
        lost=len(promised - set(effects)),
        duplicated=sum(1 for key, n in effects.items() if key in promised and n > 1),
        unexpected=len(set(effects) - promised),
    )
    print(f"checker: {verdict}")
    return verdict
