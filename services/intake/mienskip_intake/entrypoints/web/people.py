"""The people page (``/account/people``): a coordinator sees their region's people, a
kamer's lead the staff of the kamer they work for now (e-mail, role, kamers, last
sign-in, active), and deactivates or reactivates them. Deactivating is the command
line's ``mienskip user deactivate`` (the same service function): the person's sessions
end at once. Never oneself; the audit log names who did it. The rules are
``domain.accounts.visible_to`` and ``may_manage``."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, url_for

from ...adapters import read_models
from ...domain import commands
from ...service_layer import accounts
from ...service_layer.common import NotFound
from .common import Pages, now, signed_in, staff_blueprint


def blueprint(pages: Pages):
    bp = staff_blueprint("people", __name__)
    _ = pages.words

    @bp.get("/account/people")
    @signed_in(pages)
    def index():
        listed = accounts.people(g.principal, pages.uow())  # others than coordinators and leads: 403
        names = {k["id"]: k["name"] for k in read_models.all_kamers(pages.engine)}
        return render_template("account/people.html", people=listed, kamer_names=names)

    def change(user_id: str, active: bool):
        person = accounts.person(user_id, pages.uow())
        if person is None:
            raise NotFound(f"person {user_id}")
        if active:
            accounts.reactivate(commands.ReactivatePerson(user_id, by=g.principal), pages.uow(), now())
        else:
            accounts.deactivate(commands.DeactivatePerson(user_id, by=g.principal), pages.uow(), now())
        flash(_("people.flash.reactivated" if active else "people.flash.deactivated", name=person.name), "ok")
        return redirect(url_for(".index"), 303)

    @bp.post("/account/people/<user_id>/deactivate")
    @signed_in(pages)
    def deactivate(user_id):
        return change(user_id, False)

    @bp.post("/account/people/<user_id>/reactivate")
    @signed_in(pages)
    def reactivate(user_id):
        return change(user_id, True)

    return bp
