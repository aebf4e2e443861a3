"""Importing a kamer's volunteer list or open requests (``/desk/import``): upload a CSV or
XLSX, check the preview (each column's meaning, each row as it will be stored, its
problems and, for volunteers, likely duplicates), then import every row or none
(:mod:`service_layer.imports`).

The upload waits server-side, the uploader's own, for an hour at most; nothing of it
goes into the session cookie. Kamer staff only: volunteers belong to one kamer.
"""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from ...adapters.spreadsheets import UnreadableSpreadsheet, read_spreadsheet
from ...domain import commands
from ...domain.imports import KINDS, MAX_BYTES, REQUEST_TARGETS, VOLUNTEER_TARGETS, targets_of
from ...service_layer import imports
from ...service_layer.common import NotFound
from ..errors import flatten
from ..schemas import RequestSchema
from ..volunteer_schemas import VolunteerSchema
from .common import Pages, signed_in, staff_blueprint

# The upload and a confirm of many rows are bigger than the app's 64 KB for everything else.
BIG_BODIES = {"upload": MAX_BYTES + 64 * 1024, "confirm": 512 * 1024}


def check_volunteer(body: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The API's rules for a volunteer body, exactly as ``POST /v1/volunteers`` applies them."""
    try:
        return VolunteerSchema().load(body), {}
    except ValidationError as exc:
        return None, flatten(exc.messages)


def check_request(body: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, list[str]]]:
    """The API's rules for a request body, exactly as ``POST /v1/requests`` applies them."""
    try:
        return RequestSchema().load(body), {}
    except ValidationError as exc:
        return None, flatten(exc.messages)


CHECKS = {"volunteers": check_volunteer, "requests": check_request}
ALL_TARGETS = frozenset(VOLUNTEER_TARGETS) | frozenset(REQUEST_TARGETS)


def blueprint(pages: Pages):
    bp = staff_blueprint("desk_import", __name__)
    _ = pages.words

    @bp.url_value_preprocessor
    def _allow_big_bodies(endpoint, _values):
        # Runs before any before_request (CSRF reads the form there), so the limit holds for that read.
        if request.method == "POST" and endpoint and endpoint.rsplit(".", 1)[-1] in BIG_BODIES:
            request.max_content_length = BIG_BODIES[endpoint.rsplit(".", 1)[-1]]

    @bp.errorhandler(RequestEntityTooLarge)
    def _too_large(_exc):
        return _upload_page(_("import.unreadable.too_large"), 413)

    def _kamer_only() -> None:
        if g.principal.kamer_id is None:
            raise PermissionError("only kamer staff import volunteers")

    def _upload_page(error: str | None = None, status: int = 200):
        return render_template("desk/import.html", error=error, max_mb=MAX_BYTES // (1024 * 1024)), status

    @bp.route("/desk/import", methods=["GET", "POST"])
    @signed_in(pages)
    def upload():
        _kamer_only()
        if request.method == "GET":
            return _upload_page()
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return _upload_page(_("import.unreadable.no_file"), 422)
        data = upload.stream.read(MAX_BYTES + 1)
        try:
            sheet = read_spreadsheet(data)
        except UnreadableSpreadsheet as exc:
            return _upload_page(_("import.unreadable." + exc.code), 422)
        kind = request.form.get("kind") if request.form.get("kind") in KINDS else "volunteers"
        import_id = imports.stage_import(commands.StageImport(g.principal, sheet, kind), pages.uow())
        return redirect(url_for(".preview", import_id=import_id), 303)

    @bp.get("/desk/import/<import_id>")
    @signed_in(pages)
    def preview(import_id):
        _kamer_only()
        try:
            shown = imports.preview_import(commands.PreviewImport(g.principal, import_id), pages.uow(),
                                           pages.addresses, CHECKS)
        except NotFound:
            return _expired()
        if isinstance(shown, imports.ImportResult):
            return redirect(url_for(".done", import_id=import_id), 303)
        return _preview_page(shown)

    @bp.post("/desk/import/<import_id>/columns")
    @signed_in(pages)
    def columns(import_id):
        _kamer_only()
        mapping = []
        for index in range(len(request.form.getlist("column"))):
            wanted = request.form.get(f"column-{index}") or None
            mapping.append(wanted if wanted in ALL_TARGETS else None)
        try:
            imports.map_columns(commands.MapColumns(g.principal, import_id, tuple(mapping)), pages.uow())
        except NotFound:
            return _expired()
        except ValueError:
            flash(_("import.columns.refused"), "error")
        return redirect(url_for(".preview", import_id=import_id), 303)

    @bp.post("/desk/import/<import_id>/confirm")
    @signed_in(pages)
    def confirm(import_id):
        _kamer_only()
        choices = {}
        for name, value in request.form.items():
            if name.startswith("choice-") and name[7:].isdigit():
                choices[int(name[7:])] = value
        try:
            imports.confirm_import(commands.ConfirmImport(g.principal, import_id, choices), pages.uow(),
                                   pages.addresses, CHECKS)
        except NotFound:
            return _expired()
        except imports.ImportBlocked as exc:
            return _preview_page(exc.preview, blocked=True, status=422)
        return redirect(url_for(".done", import_id=import_id), 303)

    @bp.get("/desk/import/<import_id>/done")
    @signed_in(pages)
    def done(import_id):
        _kamer_only()
        try:
            shown = imports.preview_import(commands.PreviewImport(g.principal, import_id), pages.uow(),
                                           pages.addresses, CHECKS)
        except NotFound:
            return _expired()
        if isinstance(shown, imports.Preview):
            return redirect(url_for(".preview", import_id=import_id), 303)
        return render_template("desk/import_done.html", result=shown)

    def _expired():
        return _upload_page(_("import.expired"), 404)

    def _preview_page(preview: imports.Preview, *, blocked: bool = False, status: int = 200):
        return render_template("desk/import_preview.html", preview=preview, blocked=blocked,
                               targets=targets_of(preview.kind), problem=_problem_words), status

    def _problem_words(problem) -> str:
        label = _("import.field." + problem.field)
        if problem.code == "invalid":
            return f"{label}: {_('import.invalid.' + problem.field)}"
        return f"{label}: {_('import.problem.' + problem.code, **dict(problem.params))}"

    return bp
