"""The intake WSGI app: the kamers' API (:mod:`.api`), the review pages (:mod:`.web`),
health, readiness and metrics; token checks, limits, CSRF and errors in API.md's shape."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from flask import Flask, g, jsonify, request
from flask_limiter import Limiter
from flask_smorest import Api
from flask_wtf.csrf import CSRFProtect
from limits import parse as parse_limit
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from mienskip_shared.links import REFERRAL_PREFIX, InvalidLink, is_volunteer_link, verify_volunteer_link
from mienskip_shared.workers import Wakeup

from ..adapters.accounts import Argon2Passwords
from ..adapters.rate_limit_storage import storage_uri
from ..adapters.repository import IntakeUnitOfWork
from ..catalogue import catalogue
from ..domain.accounts import LockoutPolicy
from ..domain.model import Principal, Role
from ..service_layer import handlers, workflow
from ..service_layer.geocoding import AddressLookup, GeocoderUnavailable
from . import schemas
from .api import api_blueprint
from .errors import error_response, from_http_exception, message_for
from .guards import no_store, refuse_unreadable_body, refuse_unusable_ids
from .observability import log_http_calls
from .reports_api import reports_blueprint
from .token_cache import TokenCache
from .web import PLACES_CSV, follow_up, load_places, review_blueprint
from .web.provider_link import referral_link_principal
from .wording import caller_language, conflict_why

MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = "5"
GEOCODER_RETRY_AFTER_SECONDS = "30"


class _Api(Api):
    """flask-smorest, with errors in API.md's shape (also in the OpenAPI document)."""

    ERROR_SCHEMA = schemas.ApiErrorSchema

    def handle_http_exception(self, error: HTTPException):
        return from_http_exception(error)


def _is_local(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _client_address() -> str:
    return request.remote_addr or "unknown"


def _caller_key() -> str:
    """Rate-limit per verified caller (token, person or volunteer link), which is known
    only after ``_authenticate``: a made-up token never gets a budget of its own."""
    principal = g.get("principal")
    return principal.credential if principal is not None else "addr:" + _client_address()


def create_app(engine: Engine, check_ready: Callable[[], dict[str, str]],
               relay_wakeup: Wakeup | None = None, *, secret_key: str, secure_cookies: bool = False,
               dead_letters: Callable[[], Any] | None = None,
               rate_limit: str = "30 per second; 600 per minute", rate_limit_storage: str = "memory://",
               addresses: AddressLookup | None = None,
               unauthenticated_rate_limit: str = "120 per minute", sign_in_rate_limit: str = "30 per minute",
               lockout: LockoutPolicy | None = None, link_base: str = "http://127.0.0.1:8000",
               vog_valid_years: Callable[[str], int] = lambda region: 3,
               token_cache_s: float = 5.0) -> Flask:
    """The intake WSGI app; nothing is built at import time. ``addresses`` places Dutch
    addresses (``bootstrap`` builds it from ``MIENSKIP_GEOCODER``).

    Every use case gets a fresh :class:`IntakeUnitOfWork`; its commit wakes the outbox
    relay (``relay_wakeup``) when it wrote events, so no view has to.
    """
    app = Flask(__name__)
    app.secret_key = secret_key  # signs the review pages' session cookie and their CSRF tokens

    def uow() -> IntakeUnitOfWork:
        return IntakeUnitOfWork(engine, relay_wakeup)

    def _volunteer_principal(token: str) -> Principal | None:
        try:
            link = verify_volunteer_link(secret_key, token)
        except InvalidLink:
            return None
        return Principal(token_id=link.volunteer_id, role=Role.VOLUNTEER, volunteer_id=link.volunteer_id,
                         assignment_id=link.assignment_id)

    app.config.update(
        API_TITLE="Mienskip intake",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
        # The pages' forms keep the field name they always had.
        WTF_CSRF_FIELD_NAME="csrf",
        # A token lasts as long as its session (8 hours), as before, not Flask-WTF's
        # default hour: a page left open over lunch still approves.
        WTF_CSRF_TIME_LIMIT=None,
        # The pages send no Referer (Referrer-Policy: no-referrer keeps link tokens in);
        # the session-bound token and SameSite=Lax are the protection, over HTTPS too.
        WTF_CSRF_SSL_STRICT=False,
    )
    log_http_calls(app)
    # Hostile input is a 4xx, never a 500; every answer uncacheable (guards.py).
    app.url_value_preprocessor(refuse_unusable_ids)
    app.after_request(no_store)
    app.json.ensure_ascii = False  # Frisian, Arabic and emoji come back byte for byte
    api = _Api(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    v1 = api_blueprint(engine, uow, addresses, load_places(PLACES_CSV))
    api.register_blueprint(v1)
    monthly_reports = reports_blueprint(engine)
    api.register_blueprint(monthly_reports)
    # Calls are limited per caller once authenticated (``_caller_key``); calls that fail
    # authentication, and the sign-in forms, per client address, before any check.
    limiter = Limiter(
        key_func=_caller_key, default_limits=[rate_limit], storage_uri=storage_uri(rate_limit_storage),
        headers_enabled=False, default_limits_exempt_when=lambda: not request.path.startswith("/v1"),
    )
    unauthenticated, sign_ins = parse_limit(unauthenticated_rate_limit), parse_limit(sign_in_rate_limit)

    def sign_in_allowed() -> bool:
        return limiter.limiter.hit(sign_ins, "sign-in", _client_address())

    pages, volunteer_links = review_blueprint(engine, uow, secret_key=secret_key, secure_cookies=secure_cookies,
                                              dead_letters=dead_letters, addresses=addresses, link_base=link_base,
                                              passwords=Argon2Passwords(), lockout=lockout,
                                              sign_in_allowed=sign_in_allowed,
                                              vog_valid_years=vog_valid_years)
    app.register_blueprint(pages)
    csrf = CSRFProtect(app)
    csrf.exempt(v1)  # token-authenticated, no cookies: nothing for a forged form to ride on
    csrf.exempt(monthly_reports)
    csrf.exempt(volunteer_links)  # no session either; its forms carry their own check of the link
    csrf.exempt(follow_up.SESSIONLESS_VIEW)  # the resident's follow-up answer: the same
    csrf.exempt(app.blueprints["review.provider_link"])  # a provider's link page: the same
    tokens = TokenCache(token_cache_s)

    @app.before_request
    def _authenticate():
        if not request.path.startswith("/v1"):
            return None
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_length and request.content_length > MAX_BODY_BYTES:
                return error_response(413)
            if request.get_data(cache=True) and not request.is_json:
                return error_response(415)
        address = _client_address()
        if not limiter.limiter.test(unauthenticated, "unauthenticated", address):
            return error_response(429, headers={"Retry-After": str(unauthenticated.get_expiry())})
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        principal: Principal | None = None
        token = token.strip()
        if scheme.lower() == "bearer" and is_volunteer_link(token):
            principal = _volunteer_principal(token)
        elif scheme.lower() == "bearer" and token.startswith(REFERRAL_PREFIX + "."):
            principal = referral_link_principal(secret_key, token)
        elif scheme.lower() == "bearer" and token:
            principal = tokens.principal(handlers.hash_token(token), lambda: handlers.authenticate(token, uow()))
        if principal is None:
            limiter.limiter.hit(unauthenticated, "unauthenticated", address)
            return error_response(401, headers={"WWW-Authenticate": "Bearer"})
        g.principal = principal
        return None

    limiter.init_app(app)  # after _authenticate: the per-caller limit knows the caller

    @app.after_request
    def _vary_by_language(response):
        if request.path.startswith("/v1"):
            response.vary.add("Accept-Language")  # error messages and history notes are in the caller's
        return response

    @app.errorhandler(workflow.UnknownVolunteer)
    def _unknown_volunteer(_exc):
        return error_response(422, errors={"volunteer_id": ["is not a volunteer you can choose here"]})

    @app.errorhandler(handlers.NotFound)
    def _not_found(_exc):
        return error_response(404)

    @app.errorhandler(handlers.Conflict)
    def _conflict(exc: handlers.Conflict):
        why = conflict_why(catalogue(), caller_language(), exc.code, exc.params)
        return error_response(409, message_for(409, "api.error.409_because", why=why))

    @app.errorhandler(GeocoderUnavailable)
    def _geocoder_away(_exc):
        # Only when even the embedded postcode areas cannot place the address.
        return error_response(503, headers={"Retry-After": GEOCODER_RETRY_AFTER_SECONDS})

    @app.errorhandler(PermissionError)
    def _forbidden(_exc):
        return error_response(403)

    @app.errorhandler(OperationalError)
    def _database_down(_exc):
        return error_response(503, headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        checks = check_ready()
        ok = all(v == "ok" for v in checks.values())
        return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503

    @app.get("/metrics")
    def metrics():
        if not _is_local(request.remote_addr):
            header = request.headers.get("Authorization", "")
            principal = handlers.authenticate(header.partition(" ")[2].strip(), uow()) if header else None
            if principal is None or principal.role is not Role.OPERATOR:
                return error_response(401 if principal is None else 403)
        return generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    # Registered last, so it runs after the rate limit and the token check: a stranger's
    # body is never parsed.
    app.before_request(refuse_unreadable_body)
    return app
