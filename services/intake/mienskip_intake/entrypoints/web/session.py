"""Signing in and out of the review pages.

Sign-in takes a kamer or coordinator token once; the signed session cookie then holds
the token's id, role, kamer and region (never the token), is HttpOnly and SameSite=Lax.
Every form post carries the session's CSRF token (Flask-WTF, field ``csrf``), sign-in
included; a revoked token ends its sessions (see ``common.signed_in``).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_wtf.csrf import generate_csrf

from mienskip_shared.links import is_volunteer_link

from ...service_layer import handlers
from .common import HOME, STAFF, Pages, safe_next, session_principal, staff_blueprint


def blueprint(pages: Pages) -> Blueprint:
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
        token = request.form.get("token", "").strip()
        principal = handlers.authenticate(token, pages.uow()) if token and not is_volunteer_link(token) else None
        if principal is None:
            return render_template("review/login.html", next=target, error=_("login.bad_token")), 401
        if principal.role not in STAFF:
            return render_template("review/login.html", next=target, error=_("login.wrong_role")), 403
        chosen = session.get("lang")
        session.clear()  # a fresh session (and CSRF token) for the new person
        session.permanent = True
        session.update(token_id=principal.token_id, role=principal.role.value, kamer_id=principal.kamer_id,
                       region=principal.region)
        generate_csrf()
        if chosen:
            session["lang"] = chosen
        return redirect(target, 303)

    @bp.post("/review/logout")
    def logout():
        chosen = session.get("lang")
        session.clear()
        if chosen:
            session["lang"] = chosen
        flash(_("flash.signed_out"), "ok")
        return redirect(url_for(".login"), 303)

    return bp
