"""A kamer's settings (``/desk/settings``, its lead or a coordinator): the phone volunteers
call, the mileage rate per km, the reminders' time and the follow-up days. Saving
announces the kamer again (``kamer.registered``), so notify learns them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import abort, flash, g, redirect, render_template, request, url_for

from ...adapters import read_models
from ...domain import commands
from ...service_layer import mileage
from ..fields import PHONE, TIME_OF_DAY
from .common import Pages, kamer_filter, signed_in, staff_blueprint


def read_settings(form) -> tuple[dict[str, str], dict[str, str], dict[str, object]]:
    """(what was typed, errors as catalogue keys per field, the values to store)."""
    typed = {name: form.get(name, "").strip()[:40] for name in ("phone", "rate", "reminder_time", "follow_up_days")}
    errors: dict[str, str] = {}
    values: dict[str, object] = {"phone": typed["phone"] or None}
    if typed["phone"] and not PHONE.regex.match(typed["phone"]):
        errors["phone"] = "settings.error.phone"
    try:
        euros = Decimal(typed["rate"].replace("€", "").replace(",", ".").strip())
        cents = euros * 100
        if not (0 <= cents <= 500) or cents != cents.to_integral_value():
            raise InvalidOperation
        values["mileage_rate_cents"] = int(cents)
    except InvalidOperation:
        errors["rate"] = "settings.error.rate"
    if not TIME_OF_DAY.regex.match(typed["reminder_time"]):
        errors["reminder_time"] = "settings.error.reminder_time"
    values["reminder_time"] = typed["reminder_time"]
    days = typed["follow_up_days"]
    if not days.isdigit() or not 1 <= int(days) <= 30:
        errors["follow_up_days"] = "settings.error.follow_up_days"
    else:
        values["follow_up_days"] = int(days)
    return typed, errors, values


def blueprint(pages: Pages):
    bp = staff_blueprint("desk_settings", __name__)

    def _kamer_id() -> tuple[list, str]:
        if not mileage.may_change_settings(g.principal):
            abort(403)
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        kamer_id = request.values.get("kamer_id") if request.method == "POST" else kamer_filter(kamers)
        if kamer_id not in {k["id"] for k in kamers}:
            if request.method == "POST" or not kamers:
                abort(404)
            kamer_id = kamers[0]["id"]
        return kamers, kamer_id

    @bp.get("/desk/settings")
    @signed_in(pages)
    def show():
        kamers, kamer_id = _kamer_id()
        kamer = mileage.kamer_settings(g.principal, kamer_id, pages.uow())
        typed = {"phone": kamer.phone or "", "rate": f"{kamer.mileage_rate_cents / 100:.2f}".replace(".", ","),
                 "reminder_time": kamer.reminder_time, "follow_up_days": str(kamer.follow_up_days)}
        return render_template("desk/settings.html", kamers=kamers, kamer=kamer, form=typed, errors={})

    @bp.post("/desk/settings")
    @signed_in(pages)
    def save():
        kamers, kamer_id = _kamer_id()
        typed, errors, values = read_settings(request.form)
        if errors:
            kamer = mileage.kamer_settings(g.principal, kamer_id, pages.uow())
            return render_template("desk/settings.html", kamers=kamers, kamer=kamer, form=typed, errors=errors), 422
        mileage.change_settings(commands.ChangeKamerSettings(g.principal, kamer_id, **values), pages.uow())
        flash(pages.words("settings.saved"), "ok")
        return redirect(url_for(".show", kamer=kamer_id), 303)

    return bp
