"""A seeded month for the monthly report's tests: November 2026, whose true counts the
tests know (kamer A: 9 requests -- 6 transport, 2 pets, 1 buddy at 23:30 on the last day --
6 helped, 6 visits of 1.5 h and 4 km, 5 declines, 1 back-out, 5 new volunteers; kamer B: 2
shopping, completed; a kamer of region "fryslan": 7 meals)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from intake_support import uow

from mienskip_intake.adapters import past_records as past
from mienskip_intake.domain.commands import IssueToken, RegisterKamer
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers

AMS = ZoneInfo("Europe/Amsterdam")


def at(day: int, hour: int = 10, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


def seed_november(intake, kamer_a, kamer_b) -> dict:
    """November 2026 in Leeuwarden (see test_intake_monthly_report for its true counts),
    and a kamer of another region with 7 requests."""
    other_id = handlers.register_kamer(RegisterKamer(name="Dorpskamer Drachten", lat=53.1, lon=6.1,
                                                     region="fryslan"), uow(intake.engine))
    _, other_token = handlers.issue_token(IssueToken(Role.KAMER, kamer_id=other_id), uow(intake.engine))
    with intake.engine.begin() as tx:
        a, b = kamer_a.id, kamer_b.id
        helpers = [past.add_volunteer(tx, a, "leeuwarden", at(1, month=1) - timedelta(days=300)) for _ in range(6)]
        for n, volunteer in enumerate(helpers):  # 6 transport: matched in 2 h, answered in 2 h, visited
            created = at(3 + n)
            request_id, assignment_id = past.add_request(
                tx, a, "leeuwarden", "transport", created,
                [("queued", created + timedelta(minutes=1)), ("proposed", created + timedelta(hours=2)),
                 ("approved", created + timedelta(hours=3)), ("accepted", created + timedelta(hours=5))],
                volunteer_id=volunteer, window_start=created + timedelta(days=2))
            past.add_visit(tx, assignment_id, request_id, volunteer, a, created + timedelta(days=2),
                           hours=1.5, km=4.0)
        for day in (12, 13):  # 2 pets, nobody: none
            past.add_request(tx, a, "leeuwarden", "pets", at(day), [("unmatched", at(day, 11))])
        past.add_request(tx, a, "leeuwarden", "buddy", at(30, 23, 30))  # last day, 23:30: November
        past.add_request(tx, a, "leeuwarden", "buddy", at(1, 0, 30, month=12))  # December
        past.add_request(tx, a, "leeuwarden", "buddy", at(31, 23, 30, month=10))  # October
        # 5 declines of offers in November, each 2 h after the approval, on a request from October
        cycles = []
        for day in range(2, 7):
            cycles += [("proposed", at(day, 9)), ("approved", at(day, 10)), ("declined", at(day, 12))]
        past.add_request(tx, a, "leeuwarden", "garden", at(20, month=10), cycles)
        # a back-out in November after accepting in October
        past.add_request(tx, a, "leeuwarden", "garden", at(21, month=10),
                         [("proposed", at(22, month=10)), ("approved", at(23, month=10)),
                          ("accepted", at(24, month=10)), ("declined", at(10))])
        for day in (4, 8, 15, 22, 29):  # 5 new volunteers in November, one on 1 December
            past.add_volunteer(tx, a, "leeuwarden", at(day))
        past.add_volunteer(tx, a, "leeuwarden", at(1, 0, 10, month=12))
        # a visit of a task at 00:30 on 1 December: December's
        late, late_assignment = past.add_request(tx, a, "leeuwarden", "transport", at(28, month=10),
                                                 [("accepted", at(29, month=10))],
                                                 volunteer_id=helpers[0], window_start=at(1, 0, 30, month=12))
        past.add_visit(tx, late_assignment, late, helpers[0], a, at(1, 0, 30, month=12), hours=9.0, km=99.0)
        # kamer B: 2 shopping, completed
        for day in (5, 6):
            past.add_request(tx, b, "leeuwarden", "shopping", at(day), [("proposed", at(day, 11)),
                                                                          ("approved", at(day, 12)),
                                                                          ("accepted", at(day, 13)),
                                                                          ("completed", at(day + 3))])
        for day in range(1, 8):  # another region: never in Leeuwarden's report
            past.add_request(tx, other_id, "fryslan", "meals", at(day))
    return {"other_id": other_id, "other_headers": {"Authorization": f"Bearer {other_token}"}}
