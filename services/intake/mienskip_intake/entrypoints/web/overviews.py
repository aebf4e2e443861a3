"""The overview pages: the region map, the dashboard, and what needs attention."""

from __future__ import annotations

from flask import g, render_template, request

from mienskip_shared.clock import utcnow

from ...adapters import overviews, read_models, referral_views, visit_reads, waiting
from ...domain.model import Role
from .common import Pages, kamer_filter, now, signed_in, staff_blueprint, thresholds
from .map_drawing import draw_map


def blueprint(pages: Pages):
    bp = staff_blueprint("overviews", __name__)

    @bp.get("/review/map")
    @signed_in(pages)
    def region_map():
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        kamer_id = kamer_filter(kamers)
        zoom = "city" if request.args.get("zoom") == "city" else "region"
        data = overviews.map_data(pages.engine, g.principal, kamer_id=kamer_id)
        drawing = draw_map(data, pages.places, kamer_id=kamer_id, zoom=zoom)
        return render_template("review/map.html", m_=drawing, kamers=kamers, kamer_id=kamer_id, zoom=zoom)

    @bp.get("/review/dashboard")
    @signed_in(pages)
    def dashboard():
        return render_template("review/dashboard.html", d=overviews.dashboard(pages.engine, g.principal, utcnow()))

    @bp.get("/review/attention")
    @signed_in(pages)
    def attention():
        dead, stuck = None, []
        if pages.dead_letters is not None and g.principal.role is Role.COORDINATOR:
            try:
                found = pages.dead_letters()
            except Exception:  # noqa: BLE001 -- the broker being away must not take the page down
                dead = "unavailable"
            else:
                dead = {queue: n for queue, n in found.depths.items() if n}
                stuck = overviews.dead_lettered_requests(pages.engine, g.principal, found.letters)
        return render_template("review/attention.html", a=overviews.attention(pages.engine, g.principal, pages.places),
                               dead_letters=dead, stuck=stuck,
                               not_done=visit_reads.not_done(pages.engine, g.principal, pages.places),
                               waiting=waiting.waiting_too_long(pages.engine, g.principal, now(), thresholds()),
                               referral_attention=referral_views.attention(pages.engine, g.principal, pages.places,
                                                                           utcnow()))

    return bp
