"""The proposals list and what a person does with a proposal: approve, reject, ask for
another volunteer, or approve a selection at once."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from ...adapters import read_models
from ...domain import commands
from ...service_layer import workflow
from .common import MAX_REASON, Pages, act, kamer_filter, safe_next, signed_in, staff_blueprint

BULK_MAX = 500


def blueprint(pages: Pages):
    bp = staff_blueprint("proposals", __name__)
    _, uow = pages.words, pages.uow

    def back() -> str:
        return url_for(".index")

    @bp.get("/review/")
    @signed_in(pages)
    def index():
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        kamer_id = kamer_filter(kamers)
        items, total = read_models.proposals(pages.engine, g.principal, pages.places, kamer_id=kamer_id)
        return render_template("review/proposals.html", items=items, total=total, kamers=kamers,
                               kamer_id=kamer_id, here=request.full_path.rstrip("?"))

    @bp.post("/review/assignments/<assignment_id>/approve")
    @signed_in(pages)
    def approve(assignment_id):
        return act(pages, lambda: workflow.approve(commands.Approve(g.principal, assignment_id), uow()),
                   _("flash.approved"), back())

    @bp.post("/review/assignments/<assignment_id>/reject")
    @signed_in(pages)
    def reject(assignment_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON]
        if not reason:
            flash(_("flash.reason_needed"), "error")
            return redirect(safe_next(request.form.get("next"), back()), 303)
        return act(pages, lambda: workflow.reject(commands.Reject(g.principal, assignment_id, reason), uow()),
                   _("flash.rejected"), back())

    @bp.post("/review/assignments/<assignment_id>/reassign")
    @signed_in(pages)
    def reassign(assignment_id):
        volunteer_id = (request.form.get("volunteer_id") or request.form.get("volunteer_id_typed") or "").strip()
        if not volunteer_id:
            flash(_("flash.pick_volunteer"), "error")
            return redirect(safe_next(request.form.get("next"), back()), 303)
        return act(pages, lambda: workflow.reassign(commands.Reassign(g.principal, assignment_id, volunteer_id),
                                                    uow()),
                   _("flash.reassigned"), back())

    @bp.post("/review/assignments/bulk-approve")
    @signed_in(pages)
    def bulk_approve():
        ids = [i for i in request.form.getlist("ids") if i][:BULK_MAX]
        to = safe_next(request.form.get("next"), back())
        if not ids:
            flash(_("flash.nothing_selected"), "error")
            return redirect(to, 303)
        results = workflow.bulk_approve(commands.BulkApprove(g.principal, ids), uow)
        ok = sum(1 for r in results if r["status"] == 200)
        flash(_("flash.bulk", ok=ok, conflict=sum(1 for r in results if r["status"] == 409),
                missing=sum(1 for r in results if r["status"] == 404)), "ok" if ok == len(results) else "error")
        return redirect(to, 303)

    return bp
