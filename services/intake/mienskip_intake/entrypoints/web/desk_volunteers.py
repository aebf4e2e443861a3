"""The desk's volunteer pages (``/desk/volunteers``): the kamer's volunteers (search, active,
paused, stopped; whose VOG stops counting soon), registering and editing one (contact,
languages, home by postcode and house number, skills, a weekly availability grid, limits,
car, VOG date), their away periods, and pausing, resuming or stopping them.

Each form is turned into the API's body and goes through the same schemas
(``VolunteerSchema``, the patch schema) and service-layer use cases as ``/v1/volunteers``:
one place for the rules. Errors are shown next to their field, in the reader's language;
registering someone the kamer already has shows them, and asks before making a second.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from babel import Locale
from babel.dates import format_date, get_day_names
from flask import abort, flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts.vocabulary import CATEGORIES, DAYS, LANGUAGES
from mienskip_shared.i18n import as_written

from ...domain import commands
from ...domain.model import InvalidRequest, Role, Volunteer
from ...domain.volunteers import vog_valid_until
from ...service_layer import handlers, volunteers, workflow
from ...service_layer.geocoding import GeocoderUnavailable
from ..errors import flatten
from ..volunteer_schemas import VolunteerSchema, volunteer_patch_schema
from .common import MAX_REASON, Pages, act, signed_in, staff_blueprint
from .form_errors import problem_of
from .i18n import AMSTERDAM, lang

# The availability grid: each day in three parts; a ticked part is one weekly slot.
PARTS = {"morning": ("08:00", "12:00"), "afternoon": ("12:00", "17:00"), "evening": ("17:00", "21:00")}
TEXT_FIELDS = ("name", "phone", "email", "language", "postcode", "house_number", "addition", "lat", "lon",
               "max_tasks_per_week", "max_distance_km", "vog_checked_on")
# Where an error of the API's body is shown on the form.
FORM_FIELD = {"home_address.postcode": "postcode", "home_address.house_number": "house_number",
              "home_address.addition": "addition", "home_address": "postcode", "home": "postcode",
              "home.lat": "lat", "home.lon": "lon", "availability": "availability"}


def grid_of(availability: list[dict[str, str]]) -> tuple[set[str], list[dict[str, str]]]:
    """(ticked ``day-part`` cells, slots the grid cannot show): an edit keeps the latter."""
    ticked, other = set(), []
    by_part = {(start, end): part for part, (start, end) in PARTS.items()}
    for slot in availability:
        part = by_part.get((slot["start"], slot["end"]))
        if part is not None and slot["day"] in DAYS:
            ticked.add(f"{slot['day']}-{part}")
        else:
            other.append(slot)
    return ticked, other


def availability_from(ticked: list[str], kept: list[dict[str, str]]) -> list[dict[str, str]]:
    slots = []
    for day in DAYS:
        for part, (start, end) in PARTS.items():
            if f"{day}-{part}" in ticked:
                slots.append({"day": day, "start": start, "end": end})
    return slots + kept


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text.replace(",", ".")) if kind is float else kind(text)
    except ValueError:
        return text  # the schema names it


def form_from(args, volunteer: Volunteer | None = None) -> dict[str, Any]:
    form = {name: (args.get(name) or "").strip() for name in TEXT_FIELDS}
    form["languages"] = [code for code in args.getlist("languages") if code in LANGUAGES]
    form["skills"] = [s for s in args.getlist("skills") if s in CATEGORIES]
    form["slots"] = [cell for cell in args.getlist("slots")]
    form["has_car"] = args.get("has_car") == "on"
    kept = [int(i) for i in args.getlist("keep") if i.isdigit()]
    other = grid_of(volunteer.availability)[1] if volunteer else []
    form["kept"] = [slot for i, slot in enumerate(other) if i in kept]
    form["other"] = other
    return form


def form_of(volunteer: Volunteer) -> dict[str, Any]:
    ticked, other = grid_of(volunteer.availability)
    return {"name": volunteer.name, "phone": volunteer.phone or "", "email": volunteer.email or "",
            "language": volunteer.language, "languages": [c for c in volunteer.languages if c != volunteer.language],
            "postcode": "", "house_number": "", "addition": "", "lat": "", "lon": "", "skills": volunteer.skills,
            "slots": sorted(ticked), "kept": other, "other": other, "has_car": volunteer.has_car,
            "max_tasks_per_week": str(volunteer.max_tasks_per_week),
            "max_distance_km": f"{volunteer.max_distance_km:g}",
            "vog_checked_on": volunteer.vog_checked_on.isoformat() if volunteer.vog_checked_on else ""}


def blank_form() -> dict[str, Any]:
    form: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
    form.update(language="nl", languages=[], skills=[], slots=[], kept=[], other=[], has_car=False,
                max_tasks_per_week="2", max_distance_km="10")
    return form


def body_of(form: dict[str, Any], *, new: bool) -> dict[str, Any]:
    """The API's volunteer body. The home: by postcode and house number, else as typed
    coordinates; on an edit, left out when neither is filled in (it stays)."""
    body: dict[str, Any] = {
        "name": form["name"], "phone": form["phone"] or None, "email": form["email"] or None,
        "language": form["language"] or "nl", "languages": form["languages"], "skills": form["skills"],
        "has_car": form["has_car"], "vog_checked_on": form["vog_checked_on"] or None,
        "availability": [{"day": s["day"], "from": s["start"], "to": s["end"]}
                         for s in availability_from(form["slots"], form["kept"])],
        "max_tasks_per_week": _number(form["max_tasks_per_week"], int),
        "max_distance_km": _number(form["max_distance_km"], float)}
    if form["postcode"] or form["house_number"]:
        body["home_address"] = {"postcode": form["postcode"], "house_number": form["house_number"],
                                "addition": form["addition"] or None}
    elif form["lat"] or form["lon"]:
        body["home"] = {"lat": _number(form["lat"], float), "lon": _number(form["lon"], float)}
    elif new:
        body["home_address"] = None  # neither: the schema says which to give
    return body


def errors_from_api(errors: dict[str, list[str]]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for path, messages in errors.items():
        field = FORM_FIELD.get(path) or FORM_FIELD.get(path.split(".")[0]) or path.split(".")[0]
        problem = "skills" if field == "skills" else problem_of(messages[0] if messages else "")
        shown.setdefault(field if field in (*TEXT_FIELDS, "skills", "availability", "languages") else "_form",
                         problem)
    return shown


def date_text(iso: str) -> str:
    """``2026-12-20`` as the reader writes a day: ``zo 20 dec 2026``, ``si 20 des 2026``."""
    return as_written(format_date(date.fromisoformat(iso), "EEE d MMM yyyy", locale=lang()), lang())


def blueprint(pages: Pages):
    bp = staff_blueprint("desk_volunteers", __name__)
    _ = pages.words

    def render_form(form: dict[str, Any], *, volunteer: Volunteer | None = None, errors: dict | None = None,
                    duplicate: Volunteer | None = None, status: int = 200):
        reader = Locale.parse(lang())
        wide = get_day_names("wide", locale=reader)
        return render_template(
            "desk/volunteer_form.html", form=form, v=volunteer, errors=errors or {}, duplicate=duplicate,
            categories=CATEGORIES, languages_spoken=LANGUAGES, days=DAYS, parts=PARTS,
            language_names={code: reader.languages.get(code, code) for code in LANGUAGES},
            day_names={day: wide[number] for number, day in enumerate(DAYS)}, date_text=date_text,
            may_register=g.principal.role is Role.KAMER), status

    def load(body: dict[str, Any], schema) -> tuple[dict[str, Any] | None, dict[str, str]]:
        try:
            return schema.load(body), {}
        except ValidationError as exc:
            return None, errors_from_api(flatten(exc.messages))

    @bp.get("/desk/volunteers")
    @signed_in(pages)
    def index():
        wanted = request.args.get("status") or None
        status = wanted if wanted in ("active", "paused", "stopped") else None
        q = (request.args.get("q") or "").strip()[:100] or None
        try:
            page = volunteers.list_volunteers(commands.ListVolunteers(
                g.principal, q=q, status=status, limit=50, cursor=request.args.get("cursor") or None), pages.uow())
        except ValueError:
            abort(404)
        today = utcnow().astimezone(AMSTERDAM).date()
        expiring = volunteers.vog_expiring(g.principal, pages.uow(), pages.vog_valid_years, today)
        until = {v.id: vog_valid_until(v.vog_checked_on, pages.vog_valid_years(v.region)) for v in page.items}
        return render_template("desk/volunteers.html", page=page, status=status, q=q or "", expiring=expiring,
                               until=until, today=today, may_register=g.principal.role is Role.KAMER,
                               date_text=lambda d: date_text(d if isinstance(d, str) else d.isoformat()))

    @bp.get("/desk/volunteers/new")
    @signed_in(pages)
    def new():
        return render_form(blank_form())

    @bp.post("/desk/volunteers/new")
    @signed_in(pages)
    def register():
        if g.principal.role is not Role.KAMER:
            abort(403)  # a kamer registers its own volunteers
        form = form_from(request.form)
        body = body_of(form, new=True)
        if request.form.get("allow_duplicate") == "yes":
            body["allow_duplicate"] = True
        data, errors = load(body, VolunteerSchema())
        if body.get("home_address") is None and "home" not in body:  # said even beside other errors
            errors = {**errors, "postcode": "home"}
        if errors:
            return render_form(form, errors=errors, status=422)
        try:
            volunteer = handlers.register_volunteer(commands.RegisterVolunteer(g.principal, data), pages.uow(),
                                                    pages.addresses)
        except volunteers.DuplicateVolunteer as exc:
            existing = handlers.show_volunteer(commands.ShowVolunteer(g.principal, exc.existing_id), pages.uow())
            return render_form(form, errors={}, duplicate=existing, status=409)
        except InvalidRequest as exc:
            return render_form(form, errors=errors_from_api({exc.field: [exc.problem]}), status=422)
        except GeocoderUnavailable:
            return render_form(form, errors={"postcode": "service_away"}, status=503)
        flash(_("vol.flash.registered", name=volunteer.name), "ok")
        return redirect(url_for(".edit", volunteer_id=volunteer.id), 303)

    @bp.get("/desk/volunteers/<volunteer_id>")
    @signed_in(pages)
    def edit(volunteer_id):
        volunteer = handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), pages.uow())
        return render_form(form_of(volunteer), volunteer=volunteer)

    def change(volunteer_id: str, changes: dict[str, Any]) -> Volunteer:
        return volunteers.update_volunteer(commands.UpdateVolunteer(g.principal, volunteer_id, changes),
                                           pages.uow(), pages.addresses)

    @bp.post("/desk/volunteers/<volunteer_id>")
    @signed_in(pages)
    def save(volunteer_id):
        volunteer = handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), pages.uow())
        form = form_from(request.form, volunteer)
        changes, errors = load(body_of(form, new=False), volunteer_patch_schema())
        if errors:
            return render_form(form, volunteer=volunteer, errors=errors, status=422)
        try:
            change(volunteer_id, changes)
        except InvalidRequest as exc:
            return render_form(form, volunteer=volunteer, errors=errors_from_api({exc.field: [exc.problem]}),
                               status=422)
        except GeocoderUnavailable:
            return render_form(form, volunteer=volunteer, errors={"postcode": "service_away"}, status=503)
        flash(_("vol.flash.saved"), "ok")
        return redirect(url_for(".edit", volunteer_id=volunteer_id), 303)

    def away_change(volunteer_id: str, periods: list[dict[str, str]], done: str):
        """Away periods as the API takes them; a problem is flashed, naming the dates."""
        here = url_for(".edit", volunteer_id=volunteer_id) + "#away"
        data, errors = load({"away": periods}, volunteer_patch_schema())
        if errors:
            flash(_("vol.flash.away_invalid"), "error")
            return redirect(here, 303)
        try:
            change(volunteer_id, data)
        except InvalidRequest:
            flash(_("vol.flash.away_invalid"), "error")
            return redirect(here, 303)
        flash(done, "ok")
        return redirect(here, 303)

    @bp.post("/desk/volunteers/<volunteer_id>/away")
    @signed_in(pages)
    def add_away(volunteer_id):
        volunteer = handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), pages.uow())
        new = {"from": request.form.get("from", "").strip(), "to": request.form.get("to", "").strip()}
        return away_change(volunteer_id, [*volunteer.away, new], _("vol.flash.away_added"))

    @bp.post("/desk/volunteers/<volunteer_id>/away/remove")
    @signed_in(pages)
    def remove_away(volunteer_id):
        volunteer = handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), pages.uow())
        gone = request.form.get("from", ""), request.form.get("to", "")
        kept = [p for p in volunteer.away if (p["from"], p["to"]) != gone]
        return away_change(volunteer_id, kept, _("vol.flash.away_removed"))

    def set_active(volunteer_id: str, active: bool, done: str):
        return act(pages, lambda: change(volunteer_id, {"active": active}), done,
                   url_for(".edit", volunteer_id=volunteer_id))

    @bp.post("/desk/volunteers/<volunteer_id>/pause")
    @signed_in(pages)
    def pause(volunteer_id):
        return set_active(volunteer_id, False, _("vol.flash.paused"))

    @bp.post("/desk/volunteers/<volunteer_id>/resume")
    @signed_in(pages)
    def resume(volunteer_id):
        return set_active(volunteer_id, True, _("vol.flash.resumed"))

    @bp.post("/desk/volunteers/<volunteer_id>/stop")
    @signed_in(pages)
    def stop(volunteer_id):
        return act(pages, lambda: volunteers.stop_volunteering(
            commands.StopVolunteering(g.principal, volunteer_id), pages.uow()), _("vol.flash.stopped"),
            url_for(".edit", volunteer_id=volunteer_id))

    # -- the volunteer phoned the kamer: their answer, passed on (the API's accept and decline) --

    @bp.post("/desk/assignments/<assignment_id>/phoned/accept")
    @signed_in(pages)
    def phoned_accept(assignment_id):
        return act(pages, lambda: workflow.accept(commands.Accept(g.principal, assignment_id), pages.uow()),
                   _("phoned.flash.accepted"), url_for("review.desk.index"))

    @bp.post("/desk/assignments/<assignment_id>/phoned/decline")
    @signed_in(pages)
    def phoned_decline(assignment_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or None
        return act(pages, lambda: workflow.decline(commands.Decline(g.principal, assignment_id, reason),
                                                   pages.uow()),
                   _("phoned.flash.declined"), url_for("review.desk.index"))

    return bp

