"""Signing in with an API token (the demo's way, kept for kamers' systems' staff) and
signing out.

Either way the session lives on the server (``intake_web_sessions``, see
:mod:`..service_layer.accounts`); the cookie, HttpOnly and SameSite=Lax, carries only its
random id, the CSRF token (Flask-WTF, field ``csrf``, sign-in included) and the
language. Signing out ends the server's copy, so a copied cookie is refused afterwards,
its CSRF token included. People sign in with e-mail and password in :mod:`.account`.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for

from mienskip_shared.links import is_volunteer_link

from ...service_layer import accounts, handlers
from .common import (
    HOME,
    LOGIN,
    SESSION_ID,
    STAFF,
    Pages,
    forget_session,
    now,
    safe_next,
    session_principal,
    staff_blueprint,
    start_session,
)


def client_address() -> str:
    return request.remote_addr or "unknown"


def pause(seconds: float) -> None:
    """Slow a failed sign-in down (``MIENSKIP_SLEEP`` in the app's config: tests record it)."""
    if seconds > 0:
        current_app.config["MIENSKIP_SLEEP"](seconds)


def blueprint(pages: Pages):
    bp = staff_blueprint("session", __name__)
    _ = pages.words

    @bp.get("/")
    def root():
        return redirect(url_for(HOME))

    @bp.route("/review/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next"), url_for(HOME))
        if request.method == "GET":
            if session_principal() is not None:
                return redirect(target)
            return render_template("review/login.html", next=target)
        if not pages.sign_in_allowed() or accounts.address_blocked(client_address(), pages.uow(), pages.lockout,
                                                                   now()):
            return render_template("review/login.html", next=target, error=_("login.too_many")), 429
        token = request.form.get("token", "").strip()
        principal = handlers.authenticate(token, pages.uow()) if token and not is_volunteer_link(token) else None
        if principal is None:
            pause(accounts.token_failure(client_address(), pages.uow(), pages.lockout, now()))
            return render_template("review/login.html", next=target, error=_("login.bad_token")), 401
        if principal.role not in STAFF:
            return render_template("review/login.html", next=target, error=_("login.wrong_role")), 403
        accounts.sign_out(session.get(SESSION_ID), pages.uow(), now())  # whoever was signed in here before
        start_session(accounts.sign_in_with_token(principal, pages.uow(), now()))
        return redirect(target, 303)

    @bp.post("/review/logout")
    @bp.post("/logout", endpoint="logout_short")
    def logout():
        accounts.sign_out(session.get(SESSION_ID), pages.uow(), now())
        forget_session()
        flash(_("flash.signed_out"), "ok")
        return redirect(url_for(LOGIN), 303)

    return bp
