"""Staff of several kamers: which kamer the pages act for.

The choice is kept with the session on the server (``intake_web_sessions.kamer_id``), so
every desk page and action of that session, in every tab, acts for the chosen kamer; a
new sign-in starts at the person's first kamer. A request, volunteer or import of
another of the person's kamers opened by link (a GET, say from a kamer e-mail) switches
the session to that kamer and says so, rather than answering 404 to its own staff; a
form posted for a record of a kamer not chosen is a 404 like any record not theirs (a
form never switches: it acts for the kamer its page was shown for, or not at all).
"""

from __future__ import annotations

from flask import flash, g, redirect, request, session, url_for

from ...adapters import desk, read_models
from ...service_layer import accounts
from .common import SESSION_ID, Pages, now, safe_next, session_principal, signed_in, staff_blueprint


def own_kamers(pages: Pages, principal) -> list[dict]:
    """The person's kamers to choose from (empty unless there are several)."""
    if principal is None or len(principal.kamers) < 2:
        return []
    names = {k["id"]: k["name"] for k in read_models.all_kamers(pages.engine)}
    return [{"id": kamer_id, "name": names.get(kamer_id, kamer_id)} for kamer_id in principal.kamers]


def switch_to_owner(pages: Pages):
    """The redirect that opens a page of another of the person's kamers, switched to it;
    None when the 404 stands (not a GET, one kamer only, or not a kamer of theirs)."""
    principal = session_principal()
    if request.method != "GET" or principal is None or len(principal.kamers) < 2:
        return None
    owner = desk.kamer_of_record(pages.engine, request.view_args)
    if owner is None or owner == principal.kamer_id or owner not in principal.kamers:
        return None
    accounts.choose_kamer(session.get(SESSION_ID), owner, pages.uow(), now())
    flash(pages.words("kamer_choice.switched", kamer=read_models.kamer_name(pages.engine, owner) or ""), "ok")
    return redirect(request.full_path.rstrip("?"), 303)


def blueprint(pages: Pages):
    bp = staff_blueprint("kamer_choice", __name__)

    @bp.post("/account/kamer")
    @signed_in(pages)
    def choose():
        kamer_id = request.form.get("kamer", "")[:36]
        accounts.choose_kamer(session.get(SESSION_ID), kamer_id, pages.uow(), now())  # not theirs: 403
        g.pop("session_principal", None)
        flash(pages.words("kamer_choice.chosen", kamer=read_models.kamer_name(pages.engine, kamer_id) or ""), "ok")
        return redirect(safe_next(request.form.get("next"), url_for("review.desk.index")), 303)

    return bp
