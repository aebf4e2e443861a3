"""What the page blueprints share: their dependencies, who is signed in, and the
Post/Redirect/Get of an action."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from flask_wtf.csrf import generate_csrf

from mienskip_shared.clock import utcnow

from ...domain.model import Principal, Role
from ...domain.places import Place
from ...domain.waiting import Thresholds
from ...service_layer import accounts
from ...service_layer.common import Conflict
from ...service_layer.geocoding import AddressLookup
from ...service_layer.unit_of_work import UnitOfWork
from ...service_layer.workflow import UnknownVolunteer
from .i18n import Words, remember_chosen_language

STAFF = (Role.KAMER, Role.COORDINATOR)  # operators see no personal data: they cannot sign in here
SESSION_ID = "sid"  # all the cookie says of who is signed in; the rest is on the server
LOGIN = "review.account.login"
MAX_REASON = 500
HOME = "review.proposals.index"


@dataclass(frozen=True)
class Pages:
    """Everything the page blueprints use; built once by ``review_blueprint``."""

    engine: Any  # for the read models
    uow: Callable[[], UnitOfWork]  # a fresh unit of work per use case
    words: Words
    places: list[Place]
    secret_key: str
    dead_letters: Callable[[], Any] | None = None  # messaging's DeadLetters: depths and peeked ids
    addresses: AddressLookup | None = None  # places Dutch addresses (the desk's forms)
    link_base: str = "http://127.0.0.1:8000"  # where invitation and reset links point (never the Host header)
    passwords: Any = field(default=None, repr=False)  # service_layer.unit_of_work.Passwords
    lockout: Any = None  # domain.accounts.LockoutPolicy
    # Per client address, for the sign-in forms: True while under the limit (Flask-Limiter's storage).
    sign_in_allowed: Callable[[], bool] = lambda: True
    vog_valid_years: Callable[[str], int] = lambda region: 3  # how long a VOG counts, per region (settings)


def staff_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of pages for kamer staff and coordinators (``?lang=`` sticks)."""
    bp = Blueprint(name, import_name)
    bp.before_request(remember_chosen_language)
    return bp


def now() -> datetime:
    """The pages' clock (``MIENSKIP_CLOCK`` in the app's config: tests move it)."""
    return current_app.config.get("MIENSKIP_CLOCK", utcnow)()


def thresholds() -> Thresholds:
    """When a thing waits too long (``MIENSKIP_WAITING`` in the app's config: the settings')."""
    return current_app.config.get("MIENSKIP_WAITING") or Thresholds()


def session_principal() -> Principal | None:
    """Who holds this browser's session, checked against the session store on every
    request (once per request): the cookie carries only the session's id."""
    if "session_principal" not in g:
        pages: Pages = current_app.extensions["mienskip.pages"]
        g.session_principal = accounts.current(session.get(SESSION_ID), pages.uow(), now())
    principal = g.session_principal
    return principal if principal is not None and principal.role in STAFF else None


def start_session(session_id: str) -> None:
    """A fresh cookie session for a new sign-in: new id, new CSRF token, language kept."""
    chosen = session.get("lang")
    session.clear()
    session.permanent = True
    session[SESSION_ID] = session_id
    generate_csrf()
    if chosen:
        session["lang"] = chosen
    g.pop("session_principal", None)


def forget_session() -> None:
    """This browser's copy goes (the server's copy is ended by the caller); language kept."""
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen
    g.pop("session_principal", None)


def signed_in(pages: Pages) -> Callable:
    """A view for a person whose session is still open on the server; else to the sign-in page."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = session_principal()
            if principal is None:
                if SESSION_ID in session:
                    forget_session()
                if request.method == "GET":
                    return redirect(url_for(LOGIN, next=request.full_path.rstrip("?")))
                flash(pages.words("flash.signed_out_expired"), "error")
                return redirect(url_for(LOGIN), 303)
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorate


_OWN_PAGE = re.compile(r"/(?:review|account|desk)(?:[/?#][\x21-\x7e]*)?")  # printable ASCII: no CR/LF, no space


def safe_next(value: str | None, default: str) -> str:
    """Only back to our own pages, as a plain path: never an open redirect, nor a header
    split (CR/LF, control or non-ASCII characters could not go into a Location header)."""
    if value and _OWN_PAGE.fullmatch(value) and "\\" not in value:
        return value
    return default


def act(pages: Pages, do: Callable[[], Any], done: str, back: str):
    """Do it, say how it went, and go back (Post/Redirect/Get)."""
    try:
        do()
    except Conflict as exc:
        flash(pages.words("flash.conflict", detail=pages.words.conflict(exc.code, exc.params)), "error")
    except UnknownVolunteer:
        flash(pages.words("flash.unknown_volunteer"), "error")
    else:
        flash(done, "ok")
    return redirect(safe_next(request.form.get("next"), back), 303)


def kamer_filter(kamers: list[dict[str, Any]]) -> str | None:
    """The ``?kamer=`` asked for, if it is one this person may see."""
    wanted = request.args.get("kamer") or None
    return wanted if wanted in {k["id"] for k in kamers} else None
