"""The coordinator pages (``/review``) and a volunteer's link page (``/v/<token>``).

Server-rendered Jinja, plain forms, Post/Redirect/Get. Views are thin: who is signed in
comes from the session (:mod:`.session`), what to show from the read models
(``adapters.read_models``, ``adapters.overviews``), what to do from the service layer.
Everything the pages load ships in this package's ``web/`` folder.

One parent blueprint, ``review``, holds the templates, static files, security headers,
error pages and words; each area is a blueprint inside it (endpoints ``review.<area>.<view>``).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, g, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from mienskip_shared.contracts.vocabulary import CATEGORIES

from ...adapters import read_models
from ...catalogue import catalogue
from ...domain.accounts import LockoutPolicy
from ...domain.places import Place
from ...service_layer.common import NotFound
from ...service_layer.geocoding import AddressLookup
from ...service_layer.unit_of_work import Passwords, UnitOfWork
from . import (
    account,
    audit,
    desk,
    desk_import,
    desk_requests,
    desk_settings,
    desk_visits,
    desk_volunteers,
    follow_up,
    kamer_choice,
    link,
    overviews,
    people,
    proposals,
    provider_link,
    referrals,
    reports,
    requests,
    session,
    volunteers,
)
from .common import Pages
from .i18n import Words

WEB = Path(__file__).resolve().parents[2] / "web"
PLACES_CSV = WEB / "places.csv"
SESSION_HOURS = 8
SECURITY_HEADERS = {
    # Nothing from elsewhere; no inline script or style; never framed.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # a volunteer link's token must not leak to other sites
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # personal data: not in shared or back-button caches
}


def load_places(path: Path) -> list[Place]:
    with path.open(encoding="utf-8") as f:
        return [Place(r["name"], r["kind"], float(r["lat"]), float(r["lon"]))
                for r in csv.DictReader(line for line in f if not line.startswith("#"))]


def review_blueprint(engine, uow: Callable[[], UnitOfWork], *, secret_key: str, secure_cookies: bool = False,
                     places_path: Path = PLACES_CSV,
                     dead_letters: Callable[[], Any] | None = None,
                     addresses: AddressLookup | None = None,
                     link_base: str = "http://127.0.0.1:8000", passwords: Passwords,
                     lockout: LockoutPolicy | None = None,
                     sign_in_allowed: Callable[[], bool] = lambda: True,
                     vog_valid_years: Callable[[str], int] = lambda region: 3) -> tuple[Blueprint, Blueprint]:
    """The pages, and the link pages' blueprint (which keeps no session: exempt it from
    session CSRF). ``secure_cookies`` when served over HTTPS (behind a proxy, say);
    ``dead_letters`` counts the dead-letter queues and peeks at their requests' ids for
    the attention page (messaging's ``peek_dead_letters``); ``link_base`` starts
    invitation and reset links; ``sign_in_allowed`` limits the sign-in forms per client
    address."""
    pages = Pages(engine=engine, uow=uow, words=Words(catalogue()), places=load_places(places_path),
                  secret_key=secret_key, dead_letters=dead_letters, addresses=addresses, link_base=link_base,
                  passwords=passwords, lockout=lockout or LockoutPolicy(), sign_in_allowed=sign_in_allowed,
                  vog_valid_years=vog_valid_years)
    review = Blueprint("review", __name__, template_folder=str(WEB / "templates"),
                       static_folder=str(WEB / "static"), static_url_path="/review/static")
    volunteer_link = link.blueprint(pages)
    for area in (session, account, proposals, requests, volunteers, overviews, audit, desk, desk_import,
                 desk_requests, desk_volunteers, desk_visits, desk_settings, reports, referrals, kamer_choice,
                 people):
        review.register_blueprint(area.blueprint(pages))
    review.register_blueprint(volunteer_link)
    review.register_blueprint(follow_up.blueprint(pages))  # the resident's /f/<token>: no session
    review.register_blueprint(provider_link.blueprint(pages))  # no session either: the app exempts it from CSRF

    @review.record_once
    def _configure(state) -> None:
        state.app.config.update(
            SESSION_COOKIE_NAME="mienskip_review", SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
            SESSION_COOKIE_SECURE=secure_cookies, PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS))
        state.app.config.setdefault("MIENSKIP_SLEEP", time.sleep)  # a failed sign-in's slow-down
        state.app.extensions["mienskip.pages"] = pages
    @review.context_processor
    def _words() -> dict[str, Any]:
        principal = g.get("principal")
        who = None
        if principal is not None:
            who = read_models.kamer_name(engine, principal.kamer_id) if principal.kamer_id else principal.region
            if principal.name:
                who = f"{principal.name} · {who}" if who else principal.name
        return {**pages.words.for_templates(), "who": who, "principal": principal,
                "categories": CATEGORIES, "own_kamers": kamer_choice.own_kamers(pages, principal)}

    @review.after_request
    def _headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def _error_page(status: int):
        return render_template("review/error.html", status=status), status

    @review.errorhandler(NotFound)
    def _not_found(_exc):
        return kamer_choice.switch_to_owner(pages) or _error_page(404)

    @review.errorhandler(PermissionError)
    def _forbidden(_exc):
        return _error_page(403)

    @review.errorhandler(CSRFError)
    def _forged(_exc):
        return _error_page(403)  # a form without this session's token: refused, as before Flask-WTF

    @review.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return _error_page(exc.code or 500)

    return review, volunteer_link
