"""A migrated matching database and intake-shaped events for the integration tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from mienskip_matching import bootstrap
from mienskip_shared.contracts import new_event, parse
from mienskip_shared.db import make_engine, upgrade

TUESDAY_9 = datetime(2025, 7, 1, 7, 0, tzinfo=UTC)  # 09:00 in Amsterdam


class Events:
    """Events as the consumer hands them to handlers: encoded, then parsed back.

    ``wire=True`` gives the producer's envelope instead, ready to publish.
    """

    @staticmethod
    def volunteer_registered(volunteer_id="vol-1", *, wire=False, north_km=1.0, max_tasks_per_week=3, **changes):
        data = {
            "volunteer_id": volunteer_id, "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
            "home": {"lat": round(53.2012 + north_km / 111.195, 4), "lon": 5.7999},
            "languages": ["nl", "fy"], "skills": ["buddy", "shopping", "transport"], "has_car": True,
            "vog_checked_on": date(2024, 5, 1), "availability": [{"day": "tue", "start": "09:00", "end": "12:00"}],
            "max_tasks_per_week": max_tasks_per_week, "max_distance_km": 10.0, **changes,
        }
        return _deliver(new_event("volunteer.registered", data, correlation_id=f"corr-{volunteer_id}",
                               kamer_id="kamer-bilgaard"), wire)

    @staticmethod
    def request_submitted(request_id="req-1", *, wire=False, hour=0, **changes):
        start = TUESDAY_9 + timedelta(hours=hour)
        data = {
            "request_id": request_id, "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
            "category": "buddy", "skills": [], "needs_vog": False, "needs_language": None,
            "window": {"start": start, "end": start + timedelta(hours=1)},
            "location": {"lat": 53.2012, "lon": 5.7999}, "urgency": "normal", **changes,
        }
        return _deliver(new_event("request.submitted", data, correlation_id=f"corr-{request_id}",
                               kamer_id="kamer-bilgaard"), wire)

    @staticmethod
    def request_cancelled(request_id="req-1", *, wire=False):
        data = {"request_id": request_id, "kamer_id": "kamer-bilgaard", "reason": "resident cancelled"}
        return _deliver(new_event("request.cancelled", data, correlation_id=f"corr-{request_id}",
                               kamer_id="kamer-bilgaard"), wire)

    @staticmethod
    def workflow(event_type, stored, **extra):
        """intake's word on a stored proposal (``assignment.rejected``, ``.declined``, ...)."""
        data = {"assignment_id": stored.assignment_id, "request_id": stored.request_id,
                "volunteer_id": stored.volunteer_id, "kamer_id": "kamer-bilgaard", "region": "leeuwarden",
                "actor": "coordinator", **extra}
        return _deliver(new_event(event_type, data, correlation_id=f"corr-{stored.request_id}",
                                  kamer_id="kamer-bilgaard"), False)


def _deliver(envelope, wire: bool):
    return envelope if wire else parse(envelope.to_json())


@pytest.fixture(scope="session")
def events() -> type[Events]:
    return Events


@pytest.fixture
def matching_engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine, bootstrap.MIGRATIONS, bootstrap.VERSION_TABLE)
    yield engine
    engine.dispose()
