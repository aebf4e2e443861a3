"""The coordinator's audit log and a kamer's auto-approve policy."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from mienskip_shared.contracts.vocabulary import CATEGORIES

from ...adapters import read_models
from ...domain import commands
from ...domain.model import Role
from ...service_layer import workflow
from .common import Pages, signed_in, staff_blueprint

AUDIT_ROWS = 300


def blueprint(pages: Pages):
    bp = staff_blueprint("audit", __name__)

    @bp.get("/review/audit")
    @signed_in(pages)
    def audit_log():
        entries = read_models.audit_entries(pages.engine, g.principal, limit=AUDIT_ROWS)  # coordinators only: else 403
        return render_template("review/audit.html", entries=entries, limit=AUDIT_ROWS)

    @bp.route("/review/policy/<kamer_id>", methods=["GET", "POST"])
    @signed_in(pages)
    def policy(kamer_id):
        if request.method == "POST":
            chosen = [c for c in request.form.getlist("categories") if c in CATEGORIES]
            workflow.set_auto_approve_categories(commands.SetAutoApprove(g.principal, kamer_id, chosen), pages.uow())
            flash(pages.words("flash.policy_saved"), "ok")
            return redirect(url_for(".policy", kamer_id=kamer_id), 303)
        current = workflow.auto_approve_categories(commands.ShowAutoApprove(g.principal, kamer_id), pages.uow())
        return render_template("review/policy.html", kamer_id=kamer_id,
                               kamer_name=read_models.kamer_name(pages.engine, kamer_id),
                               current=set(current), may_edit=g.principal.role is Role.COORDINATOR)

    return bp
