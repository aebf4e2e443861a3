"""Test helpers for intake: a kamer with its token, ready to call the API."""

from mienskip_intake.domain.model import Role
from mienskip_intake.service_layer import handlers


class Kamer:
    def __init__(self, engine, name, lat=53.2155, lon=5.7957):
        self.id = handlers.register_kamer(engine, name=name, lat=lat, lon=lon)
        self.token_id, self.token = handlers.issue_token(engine, Role.KAMER, kamer_id=self.id)
        self.headers = {"Authorization": f"Bearer {self.token}"}
