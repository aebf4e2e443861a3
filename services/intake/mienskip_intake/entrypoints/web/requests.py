"""One request's page, and cancelling it."""

from __future__ import annotations

from flask import g, render_template, request, url_for

from ...adapters import read_models, referral_views
from ...domain import commands
from ...domain.model import ACTIONS, OPEN_STATUSES, Status
from ...service_layer import handlers
from .common import MAX_REASON, Pages, act, signed_in, staff_blueprint
from .desk_visits import request_visit

REASSIGNABLE = ACTIONS["reassign"][0]


def blueprint(pages: Pages):
    bp = staff_blueprint("requests", __name__)

    @bp.get("/review/requests/<request_id>")
    @signed_in(pages)
    def detail(request_id):
        record = handlers.show_request(commands.ShowRequest(g.principal, request_id), pages.uow())  # audits the read
        context = read_models.request_context(pages.engine, g.principal, record, pages.places)
        current = context["current"]
        status = Status(record.status)
        candidates = []
        if current is not None and status in REASSIGNABLE:
            tried = {a["volunteer_id"] for a in context["assignments"]}
            candidates = read_models.reassign_candidates(pages.engine, g.principal, record, exclude=tried)
        return render_template("review/request.html", r=record, ctx=context, current=current,
                               candidates=candidates, may_reassign=bool(current) and status in REASSIGNABLE,
                               may_cancel=status in OPEN_STATUSES, here=request.path,
                               **request_visit(pages, record),
                               **referral_views.request_page(pages.engine, g.principal, record))

    @bp.post("/review/requests/<request_id>/cancel")
    @signed_in(pages)
    def cancel(request_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return act(pages, lambda: handlers.cancel_request(commands.CancelRequest(g.principal, request_id, reason),
                                                          pages.uow()),
                   pages.words("flash.cancelled"), url_for(".detail", request_id=request_id))

    return bp
