"""Test helpers for intake: a kamer with its token, ready to call the API."""

from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers

TEST_SECRET = "test-secret-for-volunteer-links"


class Kamer:
    def __init__(self, engine, name, lat=53.2155, lon=5.7957):
        self.id = handlers.register_kamer(engine, name=name, lat=lat, lon=lon)
        self.token_id, self.token = handlers.issue_token(engine, Role.KAMER, kamer_id=self.id)
        self.headers = {"Authorization": f"Bearer {self.token}"}


def propose(engine, request_id: str, volunteer_id: str, distance_km: float = 1.2) -> str:
    """Play matching: deliver an ``assignment.proposed`` for the request to intake."""
    import uuid

    from mienskip_shared.contracts import new_event, parse

    assignment_id = str(uuid.uuid4())
    event = new_event("assignment.proposed", {
        "assignment_id": assignment_id, "request_id": request_id, "volunteer_id": volunteer_id,
        "kamer_id": "k", "region": "leeuwarden", "distance_km": distance_km,
        "explanation": {"why": "dichtstbij / nearest", "distance_km": distance_km}},
        correlation_id=request_id)
    handlers.on_assignment_proposed(engine, parse(event.to_json()))
    return assignment_id
