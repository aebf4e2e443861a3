"""``GET /v1/reports/monthly`` (API.md "Additions"): the month's figures of a kamer (its
staff: their own) or of a region (a coordinator: the region, or one kamer of it), as JSON,
or as CSV with ``Accept: text/csv``. Counts under 5 read "< 5" in both."""

from __future__ import annotations

from flask import Response, g, request
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from ..adapters import reports as report_queries
from ..domain import reports
from ..domain.model import Role
from .api import require
from .fields import Strict, Text
from .schemas import ApiErrorSchema
from .web.report_exports import csv_headers, report_csv


def _month(value: str) -> None:
    try:
        reports.Month.parse(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


class MonthlyQuerySchema(Strict):
    month = Text(required=True, validate=_month, metadata={"example": "2026-11"})
    kamer_id = Text(load_default=None, validate=validate.Length(min=1, max=36))


class FiguresSchema(Schema):
    """Counts are numbers, or the string "< 5" for 1 to 4; medians in hours ("< 5" from
    fewer than 5 cases, null from none); hours and km "< 5" from fewer than 5 visit records."""

    requests = fields.Raw()
    by_category = fields.Dict(keys=fields.Str(), values=fields.Raw())
    outcomes = fields.Dict(keys=fields.Str(), values=fields.Raw(),
                           metadata={"description": "volunteer, none, and open (no outcome yet)"})
    median_hours_to_match = fields.Raw(allow_none=True)
    median_hours_to_answer = fields.Raw(allow_none=True)
    visits_done = fields.Raw()
    hours = fields.Raw()
    km = fields.Raw()
    volunteers_active = fields.Raw()
    volunteers_new = fields.Raw()
    declines = fields.Raw()
    back_outs = fields.Raw(metadata={"description": "declined after accepting"})


class KamerFiguresSchema(FiguresSchema):
    id = fields.Str()
    name = fields.Str()


class MonthlyReportSchema(Schema):
    month = fields.Str()
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    scope = fields.Dict()
    total = fields.Nested(FiguresSchema)
    kamers = fields.List(fields.Nested(KamerFiguresSchema))


def reports_blueprint(engine) -> Blueprint:
    blp = Blueprint("v1_reports", __name__, url_prefix="/v1", description="The monthly report")

    @blp.route("/reports/monthly", methods=["GET"])
    @require(Role.KAMER, Role.COORDINATOR)  # before the query is read: another role learns nothing from a 422
    @blp.arguments(MonthlyQuerySchema(), location="query")
    @blp.response(200, MonthlyReportSchema, description="JSON, or CSV with Accept: text/csv")
    @blp.doc(responses={"200": {"description": "JSON, or CSV with Accept: text/csv", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/MonthlyReport"}},
        "text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(404, schema=ApiErrorSchema, description="Not a kamer of yours (or of your region)")
    @blp.alt_response(422, schema=ApiErrorSchema, description="month is not YYYY-MM")
    def monthly(query):
        """The month's figures (Europe/Amsterdam months): per kamer and in total; counts only."""
        shown = report_queries.monthly_report(engine, g.principal, reports.Month.parse(query["month"]),
                                              query["kamer_id"])
        if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
            body = report_csv(shown, csv_headers(), "total")
            return Response(body, mimetype="text/csv", headers={
                "Content-Disposition": f'attachment; filename="mienskip-report-{shown["month"]}.csv"'})
        return shown

    return blp
