"""One volunteer's page: who they are, their week and their recent tasks."""

from __future__ import annotations

from flask import g, render_template

from mienskip_shared.clock import utcnow

from ...adapters import read_models
from ...domain import commands
from ...service_layer import handlers
from .common import Pages, signed_in, staff_blueprint


def blueprint(pages: Pages):
    bp = staff_blueprint("volunteers", __name__)

    @bp.get("/review/volunteers/<volunteer_id>")
    @signed_in(pages)
    def detail(volunteer_id):
        record = handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), pages.uow())  # audited
        context = read_models.volunteer_context(pages.engine, g.principal, record, utcnow(), pages.places)
        return render_template("review/volunteer.html", v=record, ctx=context)

    return bp
