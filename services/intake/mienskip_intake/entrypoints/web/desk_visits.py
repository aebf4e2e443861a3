"""The desk after the task: kamer staff record a visit for the volunteer (from the
request's page), and the kamer's mileage claims (``/desk/mileage?month=YYYY-MM``): open
lines computed now, approved ones frozen, marked paid; as CSV too (``;``, Excel's Dutch
way, cells never start a formula)."""

from __future__ import annotations

import csv
import io
from typing import Any

from babel.numbers import format_currency
from flask import Response, current_app, flash, g, redirect, render_template, request, url_for

from mienskip_shared.i18n import decimal

from ...adapters import read_models, visit_reads
from ...domain import commands
from ...domain.model import HelpRequest
from ...domain.visits import ClaimLine, may_record, month_bounds, month_of
from ...service_layer import mileage, visits
from .common import Pages, act, kamer_filter, now, signed_in, staff_blueprint
from .desk import csv_cell
from .i18n import lang, local
from .visit_forms import record_from_form


def request_visit(pages: Pages, record: HelpRequest) -> dict[str, Any]:
    """For the request's page: its newest assignment's visit, and whether staff may record it now."""
    current = record.assignment
    if current is None:
        return {"visit": None, "may_record_visit": False}
    visit = visits.visit_of(pages.uow(), current.id)
    return {"visit": visit, "may_record_visit": record.status == current.status
            and may_record(current.status, record.window_start, now(), visit is not None)}


def euro(cents: int) -> str:
    return format_currency(cents / 100, "EUR", locale=lang())


def _month(value: str | None) -> str:
    try:
        month_bounds(value or "")
    except ValueError:
        return month_of(now())
    return value


def _shift(month: str, by: int) -> str:
    year, number = int(month[:4]), int(month[5:]) - 1 + by
    return f"{year + number // 12:04d}-{number % 12 + 1:02d}"


def blueprint(pages: Pages):
    bp = staff_blueprint("desk_visits", __name__)
    _ = pages.words

    @bp.post("/desk/assignments/<assignment_id>/visit")
    @signed_in(pages)
    def record(assignment_id):
        request_id = request.form.get("request_id", "")

        def recorded(was_done: bool):
            flash(_("visit.flash.visit_done" if was_done else "visit.flash.visit_not_done"), "ok")
            return redirect(url_for("review.requests.detail", request_id=request_id), 303)

        return record_from_form(
            pages, g.principal, assignment_id, done=recorded,
            again=lambda: current_app.view_functions["review.requests.detail"](request_id=request_id))

    def _listing() -> tuple[list[dict[str, Any]], str | None, str]:
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        kamer_id = kamer_filter(kamers) or (kamers[0]["id"] if kamers else None)
        return kamers, kamer_id, _month(request.args.get("month"))

    def _lines(kamer_id: str, month: str) -> tuple[Any, list[ClaimLine], dict[str, str]]:
        kamer, lines = mileage.month_claims(g.principal, kamer_id, month, pages.uow())
        return kamer, lines, visit_reads.claim_names(pages.engine, kamer_id, [line.volunteer_id for line in lines])

    @bp.get("/desk/mileage")
    @signed_in(pages)
    def claims():
        kamers, kamer_id, month = _listing()
        kamer, lines, names = _lines(kamer_id, month) if kamer_id else (None, [], {})
        return render_template("desk/mileage.html", kamers=kamers, kamer_id=kamer_id, kamer=kamer, month=month,
                               lines=lines, names=names, euro=euro, previous=_shift(month, -1),
                               following=_shift(month, 1), here=request.full_path.rstrip("?"),
                               total=sum(line.amount_cents for line in lines))

    @bp.get("/desk/mileage.csv")
    @signed_in(pages)
    def claims_csv():
        _kamers, kamer_id, month = _listing()
        if kamer_id is None:
            return redirect(url_for(".claims"))
        kamer, lines, names = _lines(kamer_id, month)
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow([_(f"mileage.csv.{key}") for key in ("month", "volunteer", "visits", "km", "rate", "amount",
                                                             "status", "approved_at", "paid_at", "kamer")])
        for line in lines:
            writer.writerow([csv_cell(value) for value in (
                line.month, names.get(line.volunteer_id, line.volunteer_id), line.visits, decimal(line.km, lang()),
                decimal(line.rate_cents / 100, lang(), 2), decimal(line.amount_cents / 100, lang(), 2),
                _(f"mileage.status.{line.status}"),
                local(line.approved_at).strftime("%Y-%m-%d %H:%M") if line.approved_at else "",
                local(line.paid_at).strftime("%Y-%m-%d %H:%M") if line.paid_at else "", kamer.name)])
        return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="mienskip-mileage-{month}.csv"'})

    @bp.post("/desk/mileage/approve")
    @signed_in(pages)
    def approve():
        month = _month(request.form.get("month"))
        back = url_for(".claims", month=month, kamer=request.form.get("kamer_id"))
        try:
            expected = float(request.form.get("expected_km", ""))
        except ValueError:
            expected = None
        return act(pages, lambda: mileage.approve(commands.ApproveMileage(
            g.principal, request.form.get("kamer_id", ""), request.form.get("volunteer_id", ""), month, expected),
            pages.uow()), _("mileage.flash.approved"), back)

    @bp.post("/desk/mileage/<claim_id>/paid")
    @signed_in(pages)
    def paid(claim_id):
        back = url_for(".claims", month=_month(request.form.get("month")), kamer=request.form.get("kamer_id"))
        return act(pages, lambda: mileage.mark_paid(commands.MarkMileagePaid(g.principal, claim_id), pages.uow()),
                   _("mileage.flash.paid"), back)

    return bp
