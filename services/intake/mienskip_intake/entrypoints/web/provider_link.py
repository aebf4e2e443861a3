"""A care provider's link page (``/p/<token>``): the one referral it is for, accept (who
will come, when, a note) or decline (why). No account, no session, no cookie: the
signed link is the credential and its forms carry their own check (an HMAC of the link),
as the volunteer's link page does (:mod:`.link`). The page speaks the provider's
language (nl by default; ``?lang=`` switches for this page). The address and the
resident's phone only after accepting; an expired or tampered link gets a plain page
that says so and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for

from mienskip_shared.links import InvalidLink, verify_referral_link

from ...domain import referral_commands as rc
from ...domain.model import InvalidRequest, Principal, Role
from ...service_layer import referrals
from ...service_layer.common import Conflict, NotFound
from .common import MAX_REASON, Pages
from .i18n import AMSTERDAM, UI_LANGUAGES, note_link_language

MAX_WHO = 200


def referral_link_principal(secret_key: str, token: str) -> Principal | None:
    """Who holds a provider's link (``rl1``): one referral, one provider; None if it is
    tampered, malformed or expired. The API's Bearer check and this page share it."""
    try:
        link = verify_referral_link(secret_key, token)
    except InvalidLink:
        return None
    return Principal(token_id=link.provider_id, role=Role.PROVIDER, provider_id=link.provider_id,
                     referral_id=link.referral_id)


def blueprint(pages: Pages) -> Blueprint:
    bp = Blueprint("provider_link", __name__)
    bp.before_request(note_link_language)

    def principal_of(token: str) -> Principal | None:
        return referral_link_principal(pages.secret_key, token)

    def check_of(token: str) -> str:
        """The page's CSRF field: only someone who holds the link can make it."""
        return hmac.new(pages.secret_key.encode(), f"provider-link-form:{token}".encode(),
                        hashlib.sha256).hexdigest()

    def invalid():
        g.lang = g.link_lang or "nl"
        return render_template("review/provider_invalid.html"), 404

    @bp.get("/p/<token>")
    def page(token):
        principal = principal_of(token)
        if principal is None:
            return invalid()
        try:
            referral = referrals.show_referral(rc.ShowReferral(principal, principal.referral_id), pages.uow(),
                                               pages.places)
        except NotFound:
            return invalid()
        g.lang = g.link_lang or (referral["language"] if referral["language"] in UI_LANGUAGES else "nl")
        return render_template("review/provider_link.html", ref=referral, token=token, check=check_of(token),
                               done=request.args.get("done"))

    def answer(token: str, do, done: str) -> Any:
        principal = principal_of(token)
        if principal is None:
            return invalid()
        if not hmac.compare_digest(request.form.get("check", ""), check_of(token)):
            return invalid()
        try:
            do(principal)
        except Conflict:
            done = "conflict"
        except InvalidRequest:
            done = "invalid"
        except NotFound:
            return invalid()
        args = {"done": done, **({"lang": request.form["lang"]} if request.form.get("lang") in UI_LANGUAGES else {})}
        return redirect(url_for(".page", token=token, **args), 303)

    @bp.post("/p/<token>/accept")
    def accept(token):
        who = request.form.get("who", "").strip()[:MAX_WHO] or None
        note = request.form.get("note", "").strip()[:MAX_REASON] or None
        when = _local_moment(request.form.get("when", ""))
        return answer(token, lambda p: referrals.accept(rc.AcceptReferral(p, p.referral_id, who, when, note),
                                                        pages.uow()), "accepted")

    @bp.post("/p/<token>/decline")
    def decline(token):
        reason = request.form.get("reason", "").strip()[:MAX_REASON]
        return answer(token, lambda p: referrals.decline(rc.DeclineReferral(p, p.referral_id, reason), pages.uow()),
                      "declined")

    return bp


def _local_moment(text: str) -> datetime | None:
    """A ``datetime-local`` field's value (Leeuwarden's time), or None if empty or not a moment."""
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=AMSTERDAM) if text.strip() else None
    except ValueError:
        return None
