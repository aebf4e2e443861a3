"""The desk's "new request" form (``/desk/requests/new``): what a kamer's staff member
types while a resident is at the desk or on the phone.

Server-side, two steps, no script needed: "look up" places the postcode and house number
and shows the street and place (or the postcode area, when only that is known) for
confirmation; "save" submits. The form is turned into the API's body and goes through
the same ``RequestSchema`` and ``handlers.submit_request`` as ``POST /v1/requests``: one
place for the rules. Errors are shown next to their field, in the reader's language.
A hidden idempotency key (the API's ``Idempotency-Key``) makes a double click or a
resend one request.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from flask import abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

from mienskip_shared.clock import utcnow
from mienskip_shared.contracts.vocabulary import CATEGORIES, DAYS, LANGUAGES, URGENCIES

from ...adapters import referral_views
from ...adapters.repository import lost_idempotency_race
from ...domain import commands
from ...domain.addresses import AddressError, DutchAddress, Located
from ...domain.model import InvalidRequest, Role
from ...service_layer import handlers
from ...service_layer.geocoding import GeocoderUnavailable, UnknownAddress
from ..errors import flatten
from ..schemas import RequestSchema
from .common import Pages, signed_in, staff_blueprint
from .form_errors import problem_of
from .i18n import AMSTERDAM, lang

TEXT_FIELDS = ("name", "phone", "email", "language", "postcode", "house_number", "addition", "category",
               "needs_language", "when", "date", "day", "start", "end", "urgency", "notes", "key", "confirmed",
               "helper", "provider_id")
# Where an error of the API's body is shown on the form.
FORM_FIELD = {"resident.name": "name", "resident.phone": "phone", "resident.email": "email",
              "resident.language": "language", "address.postcode": "postcode",
              "address.house_number": "house_number", "address.addition": "addition", "address": "postcode",
              "location": "postcode", "category": "category", "skills": "skills", "needs_vog": "needs_vog",
              "needs_language": "needs_language", "window.start": "date", "window.end": "end", "window": "date",
              "recurrence": "when", "urgency": "urgency", "notes": "notes", "Idempotency-Key": "_form",
              "helper": "helper", "provider_id": "provider_id"}


def _form_from(args) -> dict[str, Any]:
    form = {name: (args.get(name) or "").strip() for name in TEXT_FIELDS}
    form["skills"] = [s for s in args.getlist("skills") if s in CATEGORIES]
    form["needs_car"] = args.get("needs_car") == "on"
    form["needs_vog"] = args.get("needs_vog") == "on"
    return form


def _blank_form() -> dict[str, Any]:
    form: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
    form.update(skills=[], needs_car=False, needs_vog=False, language="nl", urgency="normal", when="once",
                key=str(uuid.uuid4()), helper="volunteer")
    return form


def _address_of(form: dict[str, Any]) -> DutchAddress:
    return DutchAddress.parse(form["postcode"], form["house_number"], form["addition"] or None)


def _clock(text: str) -> time | None:
    try:
        return time.fromisoformat(text) if len(text) == 5 else None
    except ValueError:
        return None


def _window(form: dict[str, Any], today: date) -> tuple[dict[str, str] | None, dict[str, str]]:
    """The window as the API wants it (ISO 8601 with offset), from a date or a weekday
    and two times of day in Leeuwarden's time; else the form's errors."""
    errors: dict[str, str] = {}
    start, end = _clock(form["start"]), _clock(form["end"])
    if start is None:
        errors["start"] = "time"
    if end is None:
        errors["end"] = "time"
    day = None
    if form["when"] == "weekly":
        if form["day"] not in DAYS:
            errors["day"] = "required"
        else:  # the first one still to come
            day = today + timedelta(days=(DAYS.index(form["day"]) - today.weekday()) % 7)
            if day == today and start is not None and datetime.combine(day, start, AMSTERDAM) <= utcnow():
                day += timedelta(days=7)
    else:
        try:
            day = date.fromisoformat(form["date"])
        except ValueError:
            errors["date"] = "required" if not form["date"] else "date"
    if errors:
        return None, errors
    return {"start": datetime.combine(day, start, AMSTERDAM).isoformat(),
            "end": datetime.combine(day, end, AMSTERDAM).isoformat()}, {}


def _body(form: dict[str, Any], window: dict[str, str]) -> dict[str, Any]:
    """The API's request body, exactly as a kamer's own system would send it."""
    skills = list(dict.fromkeys([*form["skills"], *(["transport"] if form["needs_car"] else [])]))
    return {
        "resident": {"name": form["name"], "phone": form["phone"] or None, "email": form["email"] or None,
                     "language": form["language"] or "nl"},
        "address": {"postcode": form["postcode"], "house_number": form["house_number"],
                    "addition": form["addition"] or None},
        "category": form["category"], "skills": skills, "needs_vog": form["needs_vog"],
        "needs_language": form["needs_language"] or None, "window": window,
        "recurrence": "weekly" if form["when"] == "weekly" else None, "urgency": form["urgency"] or "normal",
        "notes": form["notes"] or None, "helper": form["helper"] or "volunteer",
        "provider_id": form["provider_id"] or None,
    }


def _errors_from_api(errors: dict[str, list[str]]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for path, messages in errors.items():
        problem = problem_of(messages[0] if messages else "")
        field = FORM_FIELD.get(path) or FORM_FIELD.get(path.split(".")[0], "_form")
        shown.setdefault("date" if problem == "past" else field, problem)  # a window in the past: its day
    return shown


def blueprint(pages: Pages):
    bp = staff_blueprint("desk_requests", __name__)

    def render(form: dict[str, Any], errors: dict[str, str] | None = None, found: Located | None = None,
               status: int = 200):
        reader = Locale.parse(lang())
        wide = get_day_names("wide", locale=reader)  # 0 is Monday, as DAYS
        return render_template("desk/new_request.html", form=form, errors=errors or {}, found=found,
                               categories=CATEGORIES, languages_spoken=LANGUAGES, urgencies=URGENCIES, days=DAYS,
                               language_names={code: reader.languages.get(code, code) for code in LANGUAGES},
                               day_names={day: wide[number] for number, day in enumerate(DAYS)},
                               may_submit=g.principal.role is Role.KAMER,
                               providers=referral_views.active_providers(pages.engine, g.principal)), status

    def look_up(form: dict[str, Any]) -> tuple[Located | None, dict[str, str]]:
        try:
            address = _address_of(form)
        except AddressError as exc:
            return None, {exc.part: problem_of(exc.problem)}
        if pages.addresses is None:
            return None, {"postcode": "service_away"}
        try:
            return pages.addresses.locate(address), {}
        except UnknownAddress:
            return None, {"postcode": "postcode_unknown"}
        except GeocoderUnavailable:
            return None, {"postcode": "service_away"}

    @bp.get("/desk/requests/new")
    @signed_in(pages)
    def new_request():
        return render(_blank_form())

    @bp.post("/desk/requests/new")
    @signed_in(pages)
    def submit():
        if g.principal.role is not Role.KAMER:
            abort(403)  # a coordinator reads; a kamer's staff enters its residents' requests
        form = _form_from(request.form)
        form["key"] = form["key"] or str(uuid.uuid4())
        found, errors = look_up(form)
        if errors:
            form["confirmed"] = ""
            return render(form, errors, status=422)
        address = _address_of(form)
        form.update(postcode=address.postcode, addition=address.addition or "")  # as the letter will say it
        asked = address.as_query()
        if request.form.get("action") != "save" or form["confirmed"] != asked:
            form["confirmed"] = asked  # shown: save confirms this address
            return render(form, found=found)
        window, errors = _window(form, utcnow().astimezone(AMSTERDAM).date())
        body = _body(form, window or {"start": "", "end": ""})
        try:
            data = RequestSchema().load(body)
        except ValidationError as exc:
            problems = flatten(exc.messages)
            if window is None:  # the form's own words for its date and times say it better
                problems = {path: words for path, words in problems.items() if not path.startswith("window")}
            errors = {**_errors_from_api(problems), **errors}
        if errors:
            return render(form, errors, found=found, status=422)
        cmd = commands.SubmitRequest(g.principal, data, idempotency_key=f"desk:{form['key']}",
                                     body_hash=handlers.body_fingerprint(json.dumps(body, sort_keys=True).encode()))
        try:
            _, answer = handlers.submit_request(cmd, pages.uow(), pages.addresses)
        except InvalidRequest as exc:
            return render(form, _errors_from_api({exc.field: [exc.problem]}), found=found, status=422)
        except handlers.IdempotencyKeyReused:
            return render(form, {"_form": "resent_changed"}, found=found, status=422)
        except GeocoderUnavailable:
            return render(form, {"postcode": "service_away"}, status=503)
        except IntegrityError as exc:
            if not lost_idempotency_race(exc):
                raise
            # The same form, saved twice at once: the other click made the request.
            _, answer = handlers.submit_request(cmd, pages.uow(), pages.addresses)
        return redirect(url_for("review.requests.detail", request_id=answer["id"]), 303)

    return bp
