"""The monthly report's page (``/review/reports`` for coordinators, ``/desk/report`` for
kamer staff): a month picker, the figures, bar charts as SVG with the same numbers as a
table, and the export as CSV and XLSX. Every output applies "< 5"
(``domain.reports``); the figures come from ``adapters.reports``, scoped to who asks."""

from __future__ import annotations

from typing import Any

from babel.dates import format_date
from flask import Response, g, render_template, request

from mienskip_shared.contracts.vocabulary import CATEGORIES
from mienskip_shared.i18n import as_written, decimal

from ...adapters import read_models
from ...adapters import reports as report_queries
from ...domain import reports
from .charts import Bar, bar_chart
from .common import Pages, kamer_filter, now, signed_in, staff_blueprint
from .i18n import lang
from .report_exports import report_csv, report_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def blueprint(pages: Pages):
    bp = staff_blueprint("reports", __name__)
    _ = pages.words

    def asked() -> tuple[reports.Month, str | None, list[dict[str, Any]]]:
        """The month asked for (``?month=YYYY-MM``; else last month) and the kamer, if one
        this person may see."""
        try:
            month = reports.Month.parse(request.args.get("month"))
        except ValueError:
            month = reports.Month.of(now()).previous()
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        return month, kamer_filter(kamers), kamers

    def headers() -> list[str]:
        return [_("report.col.kamer"), *(_("report.col." + c) for c in reports.COLUMNS),
                *(_("cat." + c) for c in CATEGORIES)]

    def number(value: Any) -> Any:
        """Hours, km and medians as the reader writes decimals (``172,5``); counts as they are."""
        return decimal(value, lang()) if isinstance(value, float) else value

    def page():
        month, kamer_id, kamers = asked()
        shown = report_queries.monthly_report(pages.engine, g.principal, month, kamer_id)
        total = shown["total"]
        month_name = as_written(format_date(month.first_day, "LLLL yyyy", locale=lang()), lang())
        categories = bar_chart("chart-categories", _("report.chart.categories"),
                               _("report.chart.categories_desc", month=month_name),
                               [Bar(_("cat." + c), total["by_category"].get(c, 0)) for c in CATEGORIES])
        outcomes = bar_chart("chart-outcomes", _("report.chart.outcomes"),
                             _("report.chart.outcomes_desc", month=month_name),
                             [Bar(_("report.outcome." + o), n) for o, n in total["outcomes"].items()], colour=1)
        return render_template("review/reports.html", r=shown, month=month, month_name=month_name, kamers=kamers, kamer_id=kamer_id,
                               categories_chart=categories, outcomes_chart=outcomes, category_codes=CATEGORIES,
                               previous=str(month.previous()), following=str(month.next()),
                               table=reports.table(shown, CATEGORIES), columns=reports.COLUMNS, number=number)

    bp.add_url_rule("/review/reports", "index", signed_in(pages)(page))
    bp.add_url_rule("/desk/report", "desk", signed_in(pages)(page))

    @bp.get("/review/reports.csv")
    @signed_in(pages)
    def export_csv():
        month, kamer_id, _kamers = asked()
        shown = report_queries.monthly_report(pages.engine, g.principal, month, kamer_id)
        return Response("\ufeff" + report_csv(shown, headers(), _("report.total")), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="mienskip-report-{month}.csv"'})

    @bp.get("/review/reports.xlsx")
    @signed_in(pages)
    def export_xlsx():
        month, kamer_id, _kamers = asked()
        shown = report_queries.monthly_report(pages.engine, g.principal, month, kamer_id)
        return Response(report_xlsx(shown, headers(), _("report.total"), _("report.small_note")), mimetype=XLSX,
                        headers={"Content-Disposition": f'attachment; filename="mienskip-report-{month}.xlsx"'})

    return bp
