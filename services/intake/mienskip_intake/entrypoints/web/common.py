"""What the page blueprints share: their dependencies, who is signed in, and the
Post/Redirect/Get of an action."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, g, redirect, request, session, url_for

from ...adapters import read_models
from ...domain.model import Principal, Role
from ...domain.places import Place
from ...service_layer.common import Conflict
from ...service_layer.geocoding import AddressLookup
from ...service_layer.unit_of_work import UnitOfWork
from ...service_layer.workflow import UnknownVolunteer
from .i18n import Words, remember_chosen_language

STAFF = (Role.KAMER, Role.COORDINATOR)  # operators see no personal data: they cannot sign in here
SESSION_KEYS = ("token_id", "role", "kamer_id", "region")
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


def staff_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of pages for kamer staff and coordinators (``?lang=`` sticks)."""
    bp = Blueprint(name, import_name)
    bp.before_request(remember_chosen_language)
    return bp


def session_principal() -> Principal | None:
    token_id, role = session.get("token_id"), session.get("role")
    if not token_id or role not in {r.value for r in STAFF}:
        return None
    return Principal(token_id=token_id, role=Role(role), kamer_id=session.get("kamer_id"),
                     region=session.get("region"))


def signed_in(pages: Pages) -> Callable:
    """A view for a signed-in person whose token is still active; else to the sign-in page."""
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = session_principal()
            if principal is None or not read_models.token_active(pages.engine, principal.token_id):
                for key in SESSION_KEYS:
                    session.pop(key, None)
                if request.method == "GET":
                    return redirect(url_for("review.session.login", next=request.full_path.rstrip("?")))
                flash(pages.words("flash.signed_out_expired"), "error")
                return redirect(url_for("review.session.login"), 303)
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorate


_OWN_PAGE = re.compile(r"/review(?:[/?#][\x21-\x7e]*)?")  # printable ASCII only: no CR/LF, no space


def safe_next(value: str | None, default: str) -> str:
    """Only back to our own pages, as a plain path: never an open redirect, and nothing
    (CR/LF, control or non-ASCII characters) that could not go into a Location header."""
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
