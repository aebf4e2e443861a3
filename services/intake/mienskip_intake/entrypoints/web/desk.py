"""The kamer desk (``/desk``): the kamer's own requests, and this week's tasks of its
volunteers (printable on one A4, and as CSV). Kamer staff see their kamer, a coordinator
the region; the pages that enter and change things are their own areas (``desk_*``)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time

from flask import Response, g, render_template, request

from mienskip_shared.clock import utcnow

from ...adapters import desk, read_models, referral_views
from ...domain.model import Status
from ...domain.referrals import ReferralStatus
from .common import Pages, kamer_filter, now, signed_in, staff_blueprint
from .i18n import local

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _positive_int(value: str | None, default: int = 1) -> int:
    try:
        return max(1, int(value or default))
    except ValueError:
        return default


def _week_of(value: str | None) -> datetime:
    """The week asked for (``?week=YYYY-MM-DD``, any day in it), else this week."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        day = None
    if day is None:
        return utcnow()
    return datetime.combine(day, time(12), tzinfo=read_models.AMSTERDAM)


def csv_cell(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def blueprint(pages: Pages):
    bp = staff_blueprint("desk", __name__)
    _ = pages.words

    @bp.get("/desk")
    @signed_in(pages)
    def index():
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        wanted = request.args.get("status") or None
        status = wanted if wanted in {s.value for s in Status} else None
        name = (request.args.get("q") or "").strip()[:100]
        listing = desk.our_requests(pages.engine, g.principal, pages.places, status=status, name=name,
                                    kamer_id=kamer_filter(kamers), page=_positive_int(request.args.get("page")))
        return render_template("desk/requests.html", listing=listing, status=status, q=name,
                               statuses=[s.value for s in Status], kamers=kamers,
                               kamer_id=kamer_filter(kamers),
                               declined_referrals=referral_views.referrals_in(
                                   pages.engine, g.principal, pages.places, [ReferralStatus.DECLINED], now()))

    @bp.get("/desk/week")
    @signed_in(pages)
    def week():
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        shown = desk.week_tasks(pages.engine, g.principal, pages.places, _week_of(request.args.get("week")),
                                kamer_id=kamer_filter(kamers))
        return render_template("desk/week.html", week=shown, kamers=kamers, kamer_id=kamer_filter(kamers),
                               previous=(shown.start.date().fromordinal(shown.start.toordinal() - 7)).isoformat(),
                               following=(shown.start.date().fromordinal(shown.start.toordinal() + 7)).isoformat())

    @bp.get("/desk/week.csv")
    @signed_in(pages)
    def week_csv():
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        shown = desk.week_tasks(pages.engine, g.principal, pages.places, _week_of(request.args.get("week")),
                                kamer_id=kamer_filter(kamers))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([_(key) for key in ("week.csv.day", "week.csv.from", "week.csv.to", "week.csv.category",
                                            "week.csv.resident", "week.csv.place", "week.csv.volunteer",
                                            "week.csv.status", "week.csv.kamer")])
        for task in shown.tasks:
            start, end = local(task["window_start"]), local(task["window_end"])
            volunteer = task["volunteer"]["name"] if task["volunteer"] else ""
            writer.writerow([csv_cell(v) for v in (
                start.date().isoformat(), start.strftime("%H:%M"), end.strftime("%H:%M"),
                _("cat." + task["category"]), task["resident_first_name"], task["place"], volunteer,
                _("status." + task["status"]), task["kamer_name"])])
        filename = f"mienskip-week-{shown.start.date().isoformat()}.csv"
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    return bp
