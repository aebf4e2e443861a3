"""A volunteer's link page (``/v/<token>``): the one task it is for, accept or decline; and
their own page around it: their tasks to come, whom to call at the kamer, their weekly
availability and time away (which they may change), and stopping as a volunteer.

No session and no cookie: the signed link is the credential, and its forms carry their
own check (an HMAC of the link), so Flask-WTF's session-bound CSRF is not used here.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from mienskip_shared.contracts.vocabulary import DAYS
from mienskip_shared.links import InvalidLink, verify_volunteer_link

from ...domain import commands
from ...domain.model import InvalidRequest, Principal, Role
from ...service_layer import handlers, volunteers, workflow
from ...service_layer.common import Conflict
from ..volunteer_schemas import volunteer_patch_schema
from .common import MAX_REASON, Pages
from .desk_volunteers import PARTS, availability_from, date_text, grid_of
from .i18n import UI_LANGUAGES, note_link_language
from .visit_link import add_routes as add_visit_routes
from .visit_link import page_context as visit_context


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
        own = volunteers.own_page(commands.ShowOwnPage(principal_of(token)), pages.uow(), pages.places)
        if own is None:
            abort(404)
        ticked, other = grid_of(own["volunteer"].availability)
        reader = Locale.parse(g.lang)
        wide = get_day_names("wide", locale=reader)
        return render_template("review/link.html", task=task, own=own, token=token, check=check_of(token),
                               done=request.args.get("done"), ticked=ticked, other=other, parts=PARTS,
                               days=DAYS, day_names={day: wide[n] for n, day in enumerate(DAYS)},
                               date_text=date_text, **visit_context(pages, principal_of(token), task))

    def answer(token: str, do, done: str) -> Any:
        principal = principal_of(token)
        if not hmac.compare_digest(request.form.get("check", ""), check_of(token)):
            abort(403)
        try:
            do(principal)
        except Conflict as exc:
            done = "invalid" if exc.code == "invalid" else "conflict"
        args = {"done": done, **({"lang": request.form["lang"]} if request.form.get("lang") in UI_LANGUAGES else {})}
        return redirect(url_for(".page", token=token, **args), 303)

    def change(token: str, changes: dict[str, Any], done: str) -> Any:
        """The volunteer's own change (availability, away), as PATCH would take it."""
        def do(principal: Principal) -> None:
            try:
                data = volunteer_patch_schema().load(changes)
                volunteers.update_volunteer(commands.UpdateVolunteer(principal, principal.volunteer_id, data),
                                            pages.uow())
            except (ValidationError, InvalidRequest) as exc:
                raise Conflict("invalid", str(exc)) from exc
        return answer(token, do, done)

    @bp.post("/v/<token>/availability")
    def availability(token):
        kept = [int(i) for i in request.form.getlist("keep") if i.isdigit()]
        own = volunteers.own_page(commands.ShowOwnPage(principal_of(token)), pages.uow(), pages.places)
        if own is None:
            abort(404)
        other = grid_of(own["volunteer"].availability)[1]
        slots = availability_from(request.form.getlist("slots"), [s for i, s in enumerate(other) if i in kept])
        return change(token, {"availability": [{"day": s["day"], "from": s["start"], "to": s["end"]}
                                               for s in slots]}, "availability")

    @bp.post("/v/<token>/away")
    def add_away(token):
        own = volunteers.own_page(commands.ShowOwnPage(principal_of(token)), pages.uow(), pages.places)
        if own is None:
            abort(404)
        new = {"from": request.form.get("from", "").strip(), "to": request.form.get("to", "").strip()}
        return change(token, {"away": [*own["volunteer"].away, new]}, "away")

    @bp.post("/v/<token>/away/remove")
    def remove_away(token):
        own = volunteers.own_page(commands.ShowOwnPage(principal_of(token)), pages.uow(), pages.places)
        if own is None:
            abort(404)
        gone = request.form.get("from", ""), request.form.get("to", "")
        return change(token, {"away": [p for p in own["volunteer"].away if (p["from"], p["to"]) != gone]}, "away")

    @bp.post("/v/<token>/stop")
    def stop(token):
        return answer(token, lambda p: volunteers.stop_volunteering(
            commands.StopVolunteering(p, p.volunteer_id), pages.uow()), "stopped")

    @bp.post("/v/<token>/accept")
    def accept(token):
        return answer(token, lambda p: workflow.accept(commands.Accept(p, p.assignment_id), pages.uow()), "accepted")

    @bp.post("/v/<token>/decline")
    def decline(token):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return answer(token, lambda p: workflow.decline(commands.Decline(p, p.assignment_id, reason), pages.uow()),
                      "declined")

    add_visit_routes(bp, pages, principal_of, check_of)
    return bp
