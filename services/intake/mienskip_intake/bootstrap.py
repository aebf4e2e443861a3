"""The only place intake builds clients: engine, broker connections, app, workers."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from mienskip_shared.clock import utcnow
from mienskip_shared.db import make_engine, upgrade
from mienskip_shared.links import secret_key
from mienskip_shared.messaging.dead_letters import DeadLetters, peek_dead_letters
from mienskip_shared.runtime import Service, readiness
from mienskip_shared.workers import Wakeup

from .adapters import past_records, read_models
from .adapters.accounts import Argon2Passwords
from .adapters.geocoders import build_lookup
from .adapters.repository import IntakeUnitOfWork
from .domain import commands, referral_commands
from .domain.accounts import LockoutPolicy, PersonRole
from .domain.model import Principal, Role
from .domain.waiting import Thresholds
from .entrypoints.app import create_app
from .entrypoints.consumer import build_consumer
from .entrypoints.guards import JsonErrorRequestHandler
from .entrypoints.metrics import proposal_age_worker
from .entrypoints.workers import (
    account_cleanup_worker,
    build_relay,
    digest_worker,
    exact_lookup_worker,
    overdue_referral_worker,
    retention_worker,
    series_worker,
    stale_import_worker,
)
from .service_layer import accounts, handlers, privacy, providers, referrals
from .settings import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_intake"


def build(settings: Settings, *, migrate: bool = True, with_workers: bool = True) -> Service:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine, MIGRATIONS, VERSION_TABLE)
    wakeup = Wakeup()
    addresses = build_lookup(settings.geocoder, settings.geocoder_url, timeout_s=settings.geocoder_timeout_s)

    def new_uow() -> IntakeUnitOfWork:
        return IntakeUnitOfWork(engine, wakeup)

    def check_ready() -> dict[str, str]:
        return readiness(engine, settings.broker_connection)

    workers = []
    if with_workers:
        workers = [build_relay(settings, engine, wakeup), build_consumer(settings, engine, wakeup),
                   retention_worker(new_uow, timedelta(days=settings.retention_days)),
                   account_cleanup_worker(new_uow), series_worker(new_uow), stale_import_worker(new_uow),
                   digest_worker(new_uow, engine, waiting_thresholds(settings), link_base(settings)),
                   overdue_referral_worker(new_uow)]
        if addresses.may_retry:
            workers.append(exact_lookup_worker(new_uow, addresses))
        workers.append(proposal_age_worker(engine))
    app = create_app(engine, check_ready, relay_wakeup=wakeup, secret_key=secret_key(settings.secret_key, settings.data_dir),
                     secure_cookies=settings.public_url.startswith("https://"),
                     dead_letters=lambda: _dead_letters(settings),
                     rate_limit=settings.rate_limit,
                     rate_limit_storage=settings.rate_limit_storage, addresses=addresses,
                     unauthenticated_rate_limit=settings.unauthenticated_rate_limit,
                     sign_in_rate_limit=settings.sign_in_rate_limit,
                     lockout=LockoutPolicy(max_delay_s=settings.sign_in_max_delay_s),
                     link_base=link_base(settings),
                     vog_valid_years=settings.vog_valid_years_in,
                     token_cache_s=settings.token_cache_s)
    app.config["MIENSKIP_WAITING"] = waiting_thresholds(settings)
    return Service("intake", engine, workers, check_ready, wsgi_app=app)


def waiting_thresholds(settings: Settings) -> Thresholds:
    """When a thing waits too long, from ``MIENSKIP_WAITING_*``."""
    return Thresholds(proposal_hours=settings.waiting_proposal_hours, offer_hours=settings.waiting_offer_hours,
                      visit_days=settings.waiting_visit_days, follow_up_days=settings.waiting_follow_up_days)


def link_base(settings: Settings) -> str:
    """Where invitation and reset links point: the public URL, else the server's own
    address (never a request's Host header, which a stranger chooses)."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def http_server(host: str, port: int, app: Flask | None = None) -> BaseWSGIServer:
    """werkzeug's threaded HTTP server, bound at once (``port`` 0: any free one, see
    ``server_port``); what it refuses itself, a header over 64 KiB (431) say, is JSON in
    API.md's shape. ``app`` may be set later (``server.app``), before ``serve_forever``."""
    return make_server(host, port, app, threaded=True, request_handler=JsonErrorRequestHandler)


def _dead_letters(settings: Settings) -> DeadLetters:
    with settings.broker_connection() as connection:
        return peek_dead_letters(connection)


class Admin:
    """Administration for the ``mienskip`` command: kamers, tokens, demo data.

    The command line talks to intake only through this (and ``build``), never to its
    handlers or tables directly.
    """

    def __init__(self, settings: Settings, *, migrate: bool = True):
        self.link_base = link_base(settings)
        self.engine = make_engine(settings.database_url)
        self.addresses = build_lookup(settings.geocoder, settings.geocoder_url, timeout_s=settings.geocoder_timeout_s)
        if migrate:
            upgrade(self.engine, MIGRATIONS, VERSION_TABLE)

    def _uow(self) -> IntakeUnitOfWork:
        return IntakeUnitOfWork(self.engine)  # a relay in another process polls for what it writes

    def add_kamer(self, **kamer) -> str:
        return handlers.register_kamer(commands.RegisterKamer(**kamer), self._uow())

    def add_token(self, role: str, *, kamer_id: str | None = None, region: str | None = None,
                  label: str | None = None) -> tuple[str, str]:
        return handlers.issue_token(commands.IssueToken(Role(role), kamer_id=kamer_id, region=region, label=label),
                                    self._uow())

    def kamers(self) -> list[dict]:
        return read_models.all_kamers(self.engine)

    def revoke_token(self, token_id: str) -> bool:
        return handlers.revoke_token(commands.RevokeToken(token_id), self._uow())

    def invite_person(self, email: str, role: str, *, kamer_ids: tuple[str, ...] = (), region: str | None = None,
                      lead: bool = False, name: str | None = None, language: str = "nl") -> accounts.Invited:
        """An invitation link (also e-mailed through notify); ``InvalidInvitation`` names the field."""
        return accounts.invite(commands.InvitePerson(email=email, role=role, link_base=self.link_base,
                                                     kamer_ids=kamer_ids, region=region, lead=lead,
                                                     display_name=name, language=language), self._uow(), utcnow())

    def add_person(self, email: str, role: str, password: str, **invitation) -> str:
        """A person who can sign in at once (the demo's): invited, and the link used."""
        invited = self.invite_person(email, role, **invitation)
        secret = invited.link.rsplit("/", 1)[1]
        return accounts.set_password(commands.SetPassword(secret, password), self._uow(), Argon2Passwords(),
                                     utcnow())

    def deactivate_person(self, user_id: str) -> None:
        """The person can no longer sign in; their sessions end at once (``NotFound`` if unknown)."""
        accounts.deactivate(commands.DeactivatePerson(user_id), self._uow(), utcnow())

    def as_kamer(self, kamer_id: str, token_id: str) -> Principal:
        return Principal(token_id=token_id, role=Role.KAMER, kamer_id=kamer_id)

    def register_volunteer(self, principal: Principal, data: dict) -> dict:
        return asdict(handlers.register_volunteer(commands.RegisterVolunteer(principal, data), self._uow()))

    def submit_request(self, principal: Principal, data: dict) -> str:
        return handlers.submit_request(commands.SubmitRequest(principal, data), self._uow(), self.addresses)[1]["id"]

    def add_past_month(self, kamer_id: str, records: list[dict], joined: list[datetime] = ()) -> int:
        """Requests of a past month as they stand today, with their visits (the demo's, so
        the monthly report shows something): see ``adapters.past_records.add_past_month``."""
        return past_records.add_past_month(self.engine, kamer_id, records, joined)
    # -- care providers and referrals (issue 13) ----------------------------------------------
    def register_provider(self, region: str, data: dict) -> str:
        """A provider registered as the region's coordinator would (``provider.registered``)."""
        coordinator = Principal(token_id="admin", role=Role.COORDINATOR, region=region)
        return providers.register_provider(referral_commands.RegisterProvider(coordinator, data), self._uow()).id

    def refer(self, principal: Principal, request_id: str, provider_id: str, note: str | None = None) -> str:
        return referrals.refer(referral_commands.Refer(principal, request_id, provider_id, note), self._uow()).id

    def answer_referral(self, referral_id: str, provider_id: str, *, accept: bool, who: str | None = None,
                        reason: str | None = None) -> None:
        """The provider's answer, as through its link."""
        link = Principal(token_id=provider_id, role=Role.PROVIDER, provider_id=provider_id, referral_id=referral_id)
        if accept:
            referrals.accept(referral_commands.AcceptReferral(link, referral_id, who=who), self._uow())
        else:
            referrals.decline(referral_commands.DeclineReferral(link, referral_id, reason or "—"), self._uow())

    def erase(self, kind: str, subject_id: str) -> None:
        """``kind`` is ``resident`` (by request id) or ``volunteer``."""
        if kind == "resident":
            privacy.erase_resident(commands.EraseResident(subject_id), self._uow())
        else:
            privacy.erase_volunteer(commands.EraseVolunteer(subject_id), self._uow())

    def apply_retention(self, days: int) -> int:
        total = 0
        while done := privacy.apply_retention(commands.ApplyRetention(timedelta(days=days)), self._uow()):
            total += done
        return total

    def dispose(self) -> None:
        self.engine.dispose()


# The roles an API token can hold: volunteers and providers hold signed links, never tokens.
ROLES = [role.value for role in Role if role not in (Role.VOLUNTEER, Role.PROVIDER)]
PERSON_ROLES = [role.value for role in PersonRole]
NotFound = handlers.NotFound
InvalidInvitation = accounts.InvalidInvitation
Conflict = handlers.Conflict
