"""The demo's past month: the previous calendar month (Europe/Amsterdam) relative to the
demo's clock, with requests in DOMAIN.md's mix of categories, matches, declines, a few
back-outs, visits with hours and km, and volunteers who joined that month -- so the monthly
report and its charts show something real on the first run. Made-up people only."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from mienskip_intake.bootstrap import Admin

from .leeuwarden import CATEGORY_MIX

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
RESIDENTS = ["Akke", "Bauke", "Durk", "Froukje", "Gerben", "Hinke", "Jelle", "Klaske", "Marten", "Nynke",
             "Oene", "Pytsje", "Rints", "Sytske", "Tsjalling", "Wiebe"]
SURNAMES = ["Algra", "Bosma", "de Jong", "Haitsma", "Kuipers", "Nauta", "Rypma", "Sikkema", "Wijbenga"]


def previous_month(today: datetime) -> tuple[datetime, datetime]:
    """The first moment of last month and of this month, in Amsterdam."""
    local = today.astimezone(AMSTERDAM)
    this_month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    return last_month, this_month


def _story(rng: random.Random, created: datetime, window: datetime) -> tuple[list[tuple[str, datetime]], str]:
    """The steps of one request after ``received``, and how it ended (helped or not)."""
    at = created + timedelta(minutes=rng.randint(1, 5))
    steps = [("queued", at)]

    def step(status: str, hours: float) -> None:
        nonlocal at
        at = at + timedelta(hours=hours)
        steps.append((status, at))

    roll = rng.random()
    if roll < 0.08:
        step("unmatched", rng.uniform(0.2, 2))
        step("cancelled", rng.uniform(24, 72))
        return steps, "none"
    if roll < 0.12:
        step("proposed", rng.uniform(0.2, 3))
        step("cancelled", rng.uniform(2, 30))
        return steps, "none"
    step("proposed", rng.uniform(0.2, 6))
    step("approved", rng.uniform(0.5, 20))
    if roll < 0.27:  # the first volunteer says no; the next one yes
        step("declined", rng.uniform(1, 30))
        step("queued", 0.01)
        step("proposed", rng.uniform(0.2, 3))
        step("approved", rng.uniform(0.5, 10))
    step("accepted", rng.uniform(0.5, 30))
    if roll > 0.95:  # backs out, and another takes over
        step("declined", rng.uniform(5, 20))
        step("queued", 0.01)
        step("proposed", rng.uniform(0.2, 2))
        step("approved", rng.uniform(0.2, 2))
        step("accepted", rng.uniform(0.5, 6))
    steps.append(("completed", max(at, window) + timedelta(hours=2)))
    return steps, "helped"


def past_month_records(rng: random.Random, start: datetime, end: datetime, count: int) -> list[dict[str, Any]]:
    """``count`` requests received between ``start`` and a week before ``end``, each
    with its task (and visit) inside the month."""
    span_days = max(1, (end - start).days - 7)
    records = []
    for _ in range(count):
        category = rng.choices(list(CATEGORY_MIX), weights=list(CATEGORY_MIX.values()))[0]
        created = start + timedelta(days=rng.randrange(span_days), hours=rng.randint(9, 16),
                                    minutes=rng.choice([0, 15, 30, 45]))
        window = (created + timedelta(days=rng.randint(2, 6))).replace(hour=rng.randint(9, 15), minute=0)
        steps, ended = _story(rng, created, window)
        record: dict[str, Any] = {
            "category": category, "created_at": created.astimezone(UTC), "window_start": window.astimezone(UTC),
            "steps": [(status, at.astimezone(UTC)) for status, at in steps],
            "resident": f"{rng.choice(RESIDENTS)} {rng.choice(SURNAMES)}"}
        if ended == "helped":
            km = round(rng.uniform(4, 28), 1) if category == "transport" else round(rng.uniform(0, 6), 1)
            record["helper"] = rng.randrange(1000)
            record["visit"] = {"done": True, "hours": rng.choice([0.5, 1.0, 1.0, 1.5, 2.0, 2.5, 3.0]),
                               "km": km or None}
        records.append(record)
    return records


def load_past_month(admin: Admin, kamers: list[dict], *, today: datetime | None = None, seed: int = 1711) -> int:
    """Writes last month for each kamer (``id`` each); returns how many requests."""
    rng = random.Random(seed)
    start, end = previous_month(today or datetime.now(UTC))
    written = 0
    for kamer in kamers:
        joined = [(start + timedelta(days=rng.randrange(max(1, (end - start).days)), hours=11)).astimezone(UTC)
                  for _ in range(rng.randint(5, 7))]
        written += admin.add_past_month(kamer["id"], past_month_records(rng, start, end, rng.randint(26, 34)),
                                        joined)
    return written
