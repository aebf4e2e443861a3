"""People's own sign-in and account pages: ``/login`` (e-mail and password),
``/account/forgot``, ``/account/password/<secret>`` (from an invitation or reset e-mail),
``/account/sessions`` (sign out everywhere) and ``/account/invite``.

Every failure of the sign-in looks the same, whatever the reason (wrong password,
unknown e-mail, locked account, blocked address), and is slowed down by the lockout
policy; the forgotten-password form answers the same whether or not the address has an
account. The rules are in :mod:`..service_layer.accounts` and ``domain.accounts``.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from ...adapters import read_models
from ...domain import commands
from ...domain.accounts import PersonRole, secret_hash
from ...domain.model import Role
from ...service_layer import accounts
from ...service_layer.common import Conflict
from .common import (
    HOME,
    SESSION_ID,
    Pages,
    now,
    safe_next,
    session_principal,
    signed_in,
    staff_blueprint,
    start_session,
)
from .i18n import lang
from .session import client_address, pause


def blueprint(pages: Pages):
    bp = staff_blueprint("account", __name__)
    _ = pages.words

    def login_page(status: int = 200, **context):
        return render_template("account/login.html", **context), status

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(request.values.get("next"), url_for(HOME))
        if request.method == "GET":
            if session_principal() is not None:
                return redirect(target)
            return login_page(next=target)
        email = request.form.get("email", "")[:320]
        if not pages.sign_in_allowed():
            return login_page(429, next=target, email=email, error=_("login.too_many"))
        outcome = accounts.sign_in(commands.SignIn(email, request.form.get("password", ""), client_address()),
                                   pages.uow(), pages.passwords, pages.lockout, now())
        if outcome.no_pages:
            return login_page(403, next=target, email=email, error=_("login.operator"))
        if outcome.session_id is None:
            pause(outcome.delay_s)
            return login_page(401, next=target, email=email, error=_("login.failed"))
        accounts.sign_out(session.get(SESSION_ID), pages.uow(), now())  # whoever was signed in here before
        start_session(outcome.session_id)
        return redirect(target, 303)

    @bp.route("/account/forgot", methods=["GET", "POST"])
    def forgot():
        if request.method == "GET":
            return render_template("account/forgot.html")
        if pages.sign_in_allowed():
            accounts.forgot_password(commands.ForgotPassword(request.form.get("email", "")[:320], pages.link_base,
                                                             lang()), pages.uow(), now())
        # the same answer whether or not the address has an account (or was limited)
        return render_template("account/forgot.html", sent=True)

    @bp.route("/account/password/<secret>", methods=["GET", "POST"])
    def set_password(secret: str):
        try:
            person = accounts.link_person(secret, pages.uow(), now())
        except accounts.LinkNotUsable:
            return render_template("account/password.html", unusable=True), 404
        if request.method == "GET":
            return render_template("account/password.html", person=person)
        password = request.form.get("password", "")
        if password != request.form.get("repeat", ""):
            return render_template("account/password.html", person=person, problems=["different"]), 422
        if not pages.sign_in_allowed():
            return render_template("account/password.html", person=person, problems=["too_many"]), 429
        try:
            accounts.set_password(commands.SetPassword(secret, password), pages.uow(), pages.passwords, now())
        except accounts.WeakPassword as exc:
            return render_template("account/password.html", person=person, problems=exc.problems), 422
        except accounts.LinkNotUsable:
            return render_template("account/password.html", unusable=True), 404
        flash(_("account.password_set"), "ok")
        return redirect(url_for(".login"), 303)

    @bp.get("/account/sessions")
    @signed_in(pages)
    def sessions():
        if g.principal.user_id is None:
            return render_template("account/sessions.html", sessions=None)
        return render_template("account/sessions.html", current=secret_hash(session.get(SESSION_ID, "")),
                               sessions=accounts.sessions_of(g.principal.user_id, pages.uow(), now()))

    @bp.post("/account/sessions/end-all")
    @signed_in(pages)
    def end_all_sessions():
        if g.principal.user_id is None:
            raise PermissionError("a token's session is ended by signing out or revoking the token")
        accounts.sign_out_everywhere(g.principal.user_id, pages.uow(), now())
        flash(_("account.signed_out_everywhere"), "ok")
        return redirect(url_for(".login"), 303)

    @bp.route("/account/invite", methods=["GET", "POST"])
    @signed_in(pages)
    def invite():
        principal = g.principal
        kamers = read_models.visible_kamers(pages.engine, principal)
        if principal.role is Role.KAMER:
            kamers = [k for k in kamers if k["id"] == principal.kamer_id]
        if request.method == "GET":
            return render_template("account/invite.html", kamers=kamers)
        form = {"email": request.form.get("email", "")[:320], "name": request.form.get("name", "")[:200],
                "kamer": request.form.get("kamer", ""), "language": request.form.get("language", "nl")}
        language = form["language"] if form["language"] in ("nl", "fy", "en") else "nl"
        try:
            accounts.invite(commands.InvitePerson(
                email=form["email"], role=PersonRole.STAFF.value, link_base=pages.link_base,
                kamer_ids=(form["kamer"],), display_name=form["name"], language=language, by=principal),
                pages.uow(), now())
        except accounts.InvalidInvitation as exc:
            return render_template("account/invite.html", kamers=kamers, form=form, error_field=exc.field,
                                   error=_(f"invite.error.{exc.field}")), 422
        except Conflict:
            return render_template("account/invite.html", kamers=kamers, form=form, error_field="email",
                                   error=_("invite.error.exists")), 409
        flash(_("invite.sent"), "ok")
        return redirect(url_for(".invite"), 303)

    return bp
