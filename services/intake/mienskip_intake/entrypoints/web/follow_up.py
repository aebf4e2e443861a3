"""The resident's follow-up page (``/f/<token>``): "Did the help come? Do you need more
help?" -- yes, no, or I need more, with an optional short text. No account, no session,
phone-sized, in the resident's language (``?lang=`` switches it for this page only).

Like the volunteer's link page, its form carries its own check (an HMAC of the link)
instead of Flask-WTF's session-bound CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from mienskip_shared.links import InvalidLink, verify_follow_up_link

from ...adapters import follow_ups as follow_up_answers
from ...domain.follow_ups import MAX_TEXT, Answer
from ...service_layer import follow_ups
from .common import Pages, now
from .i18n import UI_LANGUAGES, note_link_language

# The answer form's view, for the app to exempt from session CSRF (it checks the link instead).
SESSIONLESS_VIEW = f"{__name__}.answer"


def blueprint(pages: Pages) -> Blueprint:
    bp = Blueprint("follow_up", __name__)
    bp.before_request(note_link_language)

    @bp.app_template_global()
    def follow_up_answer(request_id: str):
        """For the request page (``review/_follow_up_answer.html``): the resident's answer."""
        return follow_up_answers.answer_to(pages.engine, request_id)

    def link_of(token: str):
        try:
            return verify_follow_up_link(pages.secret_key, token, now())
        except InvalidLink:
            abort(404)

    def check_of(token: str) -> str:
        return hmac.new(pages.secret_key.encode(), f"follow-up-form:{token}".encode(), hashlib.sha256).hexdigest()

    @bp.get("/f/<token>")
    def page(token):
        link = link_of(token)
        asked = follow_ups.question(link.request_id, link.assignment_id, pages.uow())
        if asked is None:
            abort(404)
        g.lang = g.link_lang or (asked["language"] if asked["language"] in UI_LANGUAGES else "nl")
        return render_template("review/follow_up.html", asked=asked, token=token, check=check_of(token),
                               answers=[a.value for a in Answer], max_text=MAX_TEXT,
                               thanks=request.args.get("done") == "1")

    @bp.post("/f/<token>")
    def answer(token):
        link = link_of(token)
        if not hmac.compare_digest(request.form.get("check", ""), check_of(token)):
            abort(403)
        try:
            given = Answer(request.form.get("answer", ""))
        except ValueError:
            abort(400)
        if follow_ups.answer(link.request_id, link.assignment_id, given, request.form.get("text"), pages.uow(),
                             now()) is None:
            abort(404)
        chosen = request.form.get("lang")
        return redirect(url_for(".page", token=token, done="1", **({"lang": chosen} if chosen in UI_LANGUAGES
                                                                      else {})), 303)

    return bp
