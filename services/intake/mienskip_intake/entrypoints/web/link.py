"""A volunteer's link page (``/v/<token>``): the one task it is for, accept or decline.

No session and no cookie: the signed link is the credential, and its forms carry their
own check (an HMAC of the link), so Flask-WTF's session-bound CSRF is not used here.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from mienskip_shared.links import InvalidLink, verify_volunteer_link

from ...domain import commands
from ...domain.model import Principal, Role
from ...service_layer import handlers, workflow
from ...service_layer.common import Conflict
from .common import MAX_REASON, Pages
from .i18n import UI_LANGUAGES, note_link_language


def blueprint(pages: Pages) -> Blueprint:
    bp = Blueprint("link", __name__)
    bp.before_request(note_link_language)

    def principal_of(token: str) -> Principal:
        try:
            link = verify_volunteer_link(pages.secret_key, token)
        except InvalidLink:
            abort(404)
        return Principal(token_id=link.volunteer_id, role=Role.VOLUNTEER, volunteer_id=link.volunteer_id,
                         assignment_id=link.assignment_id)

    def check_of(token: str) -> str:
        """The link page's CSRF field: only someone who holds the link can make it."""
        return hmac.new(pages.secret_key.encode(), f"volunteer-link-form:{token}".encode(),
                        hashlib.sha256).hexdigest()

    @bp.get("/v/<token>")
    def page(token):
        task = handlers.show_volunteer_task(commands.ShowVolunteerTask(principal_of(token)), pages.uow(),
                                            pages.places)
        if task is None:
            abort(404)
        g.lang = g.link_lang or (task["language"] if task["language"] in UI_LANGUAGES else "nl")
        return render_template("review/link.html", task=task, token=token, check=check_of(token),
                               done=request.args.get("done"))

    def answer(token: str, do, done: str) -> Any:
        principal = principal_of(token)
        if not hmac.compare_digest(request.form.get("check", ""), check_of(token)):
            abort(403)
        try:
            do(principal)
        except Conflict:
            done = "conflict"
        args = {"done": done, **({"lang": request.form["lang"]} if request.form.get("lang") in UI_LANGUAGES else {})}
        return redirect(url_for(".page", token=token, **args), 303)

    @bp.post("/v/<token>/accept")
    def accept(token):
        return answer(token, lambda p: workflow.accept(commands.Accept(p, p.assignment_id), pages.uow()), "accepted")

    @bp.post("/v/<token>/decline")
    def decline(token):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return answer(token, lambda p: workflow.decline(commands.Decline(p, p.assignment_id, reason), pages.uow()),
                      "declined")

    return bp
