"""On the volunteer's link page (``/v/<token>``): after the task's start, "how did it
go?" (done or not, hours, km, a note for the kamer) and what was recorded; and "add to my
calendar" with their private feed's URL (``/calendar/<token>.ics``), which a new link
revokes. Added to the link blueprint by :func:`add_routes`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for

from ...adapters import visit_reads
from ...catalogue import catalogue
from ...domain.model import Principal
from ...domain.visits import may_record
from ...service_layer import visits
from ...service_layer.common import Conflict
from .calendar_feed import InvalidFeedToken, feed, sign_feed, verify_feed
from .common import Pages, now
from .i18n import UI_LANGUAGES
from .visit_forms import record_from_form


def page_context(pages: Pages, principal: Principal, task: dict[str, Any]) -> dict[str, Any]:
    """What the link page shows about the visit and the calendar."""
    visit = visits.visit_of(pages.uow(), task["assignment_id"])
    version = visits.calendar_version(pages.uow(), principal.volunteer_id)
    path = url_for("review.link.calendar", token=sign_feed(pages.secret_key, principal.volunteer_id, version))
    return {"visit": visit, "calendar_url": pages.link_base.rstrip("/") + path,
            "may_record": may_record(task["status"], task["window_start"], now(), visit is not None)}


def add_routes(bp: Blueprint, pages: Pages, principal_of: Callable[[str], Principal],
               check_of: Callable[[str], str]) -> None:
    def checked(token: str) -> Principal:
        principal = principal_of(token)
        if not hmac.compare_digest(request.form.get("check", ""), check_of(token)):
            abort(403)
        return principal

    def back(token: str, done: str):
        lang = request.form.get("lang")
        return redirect(url_for(".page", token=token, done=done, **({"lang": lang} if lang in UI_LANGUAGES else {})),
                        303)

    @bp.post("/v/<token>/visit")
    def record_visit(token):
        principal = checked(token)
        if request.form.get("lang") in UI_LANGUAGES:  # shown again on a problem: in the language it was in
            g.link_lang = request.form["lang"]
        return record_from_form(pages, principal, principal.assignment_id,
                                again=lambda: current_app.view_functions["review.link.page"](token=token),
                                done=lambda was_done: back(token, "visit_done" if was_done else "visit_not_done"))

    @bp.post("/v/<token>/calendar/new")
    def new_calendar_link(token):
        principal = checked(token)
        try:
            visits.new_calendar_link(principal, pages.uow())
        except Conflict:
            return back(token, "conflict")
        return back(token, "calendar_new")

    @bp.get("/calendar/<token>.ics")
    def calendar(token):
        try:
            volunteer_id, version = verify_feed(pages.secret_key, token)
        except InvalidFeedToken:
            abort(404)
        with pages.uow() as uow:
            volunteer = uow.volunteers.get(volunteer_id)
            current = uow.visits.feed_version(volunteer_id)
        if volunteer is None or volunteer.erased_at is not None or version != current:
            abort(404)
        language = volunteer.language if volunteer.language in UI_LANGUAGES else "nl"
        moment = now()
        tasks = visit_reads.feed_tasks(pages.engine, volunteer_id, moment)
        visits.calendar_read(volunteer_id, [task["request_id"] for task in tasks if task["address"]], pages.uow())
        body = feed(tasks, words=catalogue(), language=language, now=moment)
        return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="mienskip.ics"'})
