"""Test helpers for intake: a kamer with its token, ready to call the API."""

from mienskip_intake.adapters.repository import IntakeUnitOfWork
from mienskip_intake.domain.commands import IssueToken, RegisterKamer
from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import events, handlers

TEST_SECRET = "test-secret-for-volunteer-links"


def uow(engine) -> IntakeUnitOfWork:
    """A unit of work on the test's database, for calling intake's handlers directly."""
    return IntakeUnitOfWork(engine)


def issue_token(engine, role: Role, **kwargs) -> tuple[str, str]:
    return handlers.issue_token(IssueToken(role, **kwargs), uow(engine))


class Kamer:
    def __init__(self, engine, name, lat=53.2155, lon=5.7957):
        self.id = handlers.register_kamer(RegisterKamer(name=name, lat=lat, lon=lon), uow(engine))
        self.token_id, self.token = issue_token(engine, Role.KAMER, kamer_id=self.id)
        self.headers = {"Authorization": f"Bearer {self.token}"}


def propose(engine, request_id: str, volunteer_id: str, distance_km: float = 1.2) -> str:
    """Play matching: deliver an ``assignment.proposed`` for the request to intake."""
    import uuid

    from mienskip_shared.contracts import new_event, parse

    assignment_id = str(uuid.uuid4())
    event = new_event("assignment.proposed", {
        "assignment_id": assignment_id, "request_id": request_id, "volunteer_id": volunteer_id,
        "kamer_id": "k", "region": "leeuwarden", "distance_km": distance_km,
        "explanation": {"distance_km": distance_km}},
        correlation_id=request_id)
    events.on_assignment_proposed(parse(event.to_json()), uow(engine))
    return assignment_id


# -- care providers and referrals (issue 13) --------------------------------------------------

PROVIDER = {"name": "Sociaal Wijkteam Leeuwarden-Oost", "kind": "wijkteam", "categories": ["buddy", "paperwork", "pets"],
            "email": "wijkteam-oost@example.org", "phone": "+31582345678"}


def register_provider(client, coordinator_headers, **overrides) -> str:
    """A coordinator registers a care provider over the API; its id."""
    answer = client.post("/v1/providers", json={**PROVIDER, **overrides}, headers=coordinator_headers)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def provider_headers(referral_id: str, provider_id: str, secret: str = TEST_SECRET) -> dict[str, str]:
    """What notify would send the provider: its signed link, as a Bearer token."""
    from datetime import UTC, datetime, timedelta

    from mienskip_shared.links import sign_referral_link

    token = sign_referral_link(secret, referral_id, provider_id, datetime.now(UTC) + timedelta(days=14))
    return {"Authorization": f"Bearer {token}"}


def unmatch(engine, request_id: str) -> None:
    """Play matching: no volunteer for the request (``request.unmatched``)."""
    from mienskip_shared.contracts import new_event, parse

    event = new_event("request.unmatched", {"request_id": request_id, "kamer_id": "k", "region": "leeuwarden",
                                            "reasons": {"skills": 1}, "considered": 1}, correlation_id=request_id)
    events.on_request_unmatched(parse(event.to_json()), uow(engine))
