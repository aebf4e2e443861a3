"""The pages about care providers and referrals (issue 13): the coordinator's provider
list (register, change; per provider how many it took and how fast it answered, and the
referrals waiting for an answer), referring a request from its page, and noting an
answer a provider gave by phone."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from mienskip_shared.contracts.vocabulary import CATEGORIES, LANGUAGES, PROVIDER_KINDS

from ...adapters import read_models, referral_views
from ...domain import referral_commands as rc
from ...domain.model import InvalidRequest, Role
from ...domain.referrals import ReferralStatus
from ...service_layer import providers, referrals
from ...service_layer.common import Conflict
from ..referral_schemas import ProviderSchema, provider_patch_schema
from .common import MAX_REASON, Pages, act, now, signed_in, staff_blueprint
from .form_errors import problem_of

TEXT_FIELDS = ("name", "kind", "email", "phone", "webhook_url", "language", "answer_within_days")


def _form_data(form) -> dict[str, Any]:
    """The provider form as the API's body (empty text: left out, or null where it may be)."""
    data: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    for name in ("phone", "webhook_url", "email"):
        data[name] = data[name] or None
    data["answer_within_days"] = int(data["answer_within_days"]) if data["answer_within_days"].isdigit() else (
        data["answer_within_days"] or 2)
    data["categories"] = form.getlist("categories")
    data["kamer_ids"] = form.getlist("kamer_ids")
    data["active"] = form.get("active") == "yes"
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    messages = exc.messages if isinstance(exc.messages, dict) else {"_form": exc.messages}
    return {field: problem_of(str((problems if isinstance(problems, list) else [problems])[0]))
            for field, problems in messages.items()}


def blueprint(pages: Pages):
    bp = staff_blueprint("referrals", __name__)

    def form_page(provider=None, form=None, errors=None, status=200):
        kamers = read_models.visible_kamers(pages.engine, g.principal)
        shown = form or (provider.__dict__ if provider else {"language": "nl", "answer_within_days": 2, "active": True,
                                                              "categories": [], "kamer_ids": [], "kind": "wijkteam"})
        return render_template("review/provider_form.html", p=provider, form=shown, errors=errors or {},
                               kinds=PROVIDER_KINDS, all_categories=CATEGORIES, ui_languages=LANGUAGES,
                               kamers=kamers), status

    @bp.get("/review/providers")
    @signed_in(pages)
    def index():
        stamp = now()
        waiting = referral_views.referrals_in(pages.engine, g.principal, pages.places,
                                              [ReferralStatus.SENT, ReferralStatus.OVERDUE], stamp)
        return render_template("review/providers.html", stats=referral_views.provider_stats(pages.engine, g.principal),
                               waiting=waiting, may_edit=g.principal.role is Role.COORDINATOR)

    @bp.get("/review/providers/new")
    @signed_in(pages)
    def new():
        if g.principal.role is not Role.COORDINATOR:
            raise PermissionError("coordinators register providers")
        return form_page()

    @bp.post("/review/providers/new")
    @signed_in(pages)
    def register():
        data = _form_data(request.form)
        try:
            body = ProviderSchema().load({**data, "region": g.principal.region} if g.principal.region else data)
            providers.register_provider(rc.RegisterProvider(g.principal, body), pages.uow())
        except ValidationError as exc:
            return form_page(form=data, errors=_errors(exc), status=422)
        except InvalidRequest as exc:
            return form_page(form=data, errors={exc.field: "invalid"}, status=422)
        flash(pages.words("provider.flash.saved", name=data["name"]), "ok")
        return redirect(url_for(".index"), 303)

    @bp.get("/review/providers/<provider_id>")
    @signed_in(pages)
    def edit(provider_id):
        provider = providers.show_provider(rc.ShowProvider(g.principal, provider_id), pages.uow())
        if g.principal.role is not Role.COORDINATOR:
            raise PermissionError("coordinators change providers")
        return form_page(provider)

    @bp.post("/review/providers/<provider_id>")
    @signed_in(pages)
    def save(provider_id):
        provider = providers.show_provider(rc.ShowProvider(g.principal, provider_id), pages.uow())
        data = _form_data(request.form)
        try:
            changes = provider_patch_schema().load(data)
            providers.update_provider(rc.UpdateProvider(g.principal, provider_id, changes), pages.uow())
        except ValidationError as exc:
            return form_page(provider, form=data, errors=_errors(exc), status=422)
        except InvalidRequest as exc:
            return form_page(provider, form=data, errors={exc.field: "invalid"}, status=422)
        flash(pages.words("provider.flash.saved", name=data["name"]), "ok")
        return redirect(url_for(".index"), 303)

    @bp.post("/review/requests/<request_id>/refer")
    @signed_in(pages)
    def refer(request_id):
        provider_id = request.form.get("provider_id", "")
        note = request.form.get("note", "").strip()[:MAX_REASON] or None
        back = url_for("review.requests.detail", request_id=request_id)

        def do():
            try:
                referrals.refer(rc.Refer(g.principal, request_id, provider_id, note), pages.uow())
            except InvalidRequest as exc:
                raise Conflict("invalid_provider", str(exc)) from exc

        return act(pages, do, pages.words("provider.flash.referred"), back)

    @bp.post("/review/referrals/<referral_id>/phoned-accept")
    @signed_in(pages)
    def phoned_accept(referral_id):
        who = request.form.get("who", "").strip()[:200] or None
        return act(pages, lambda: referrals.accept(rc.AcceptReferral(g.principal, referral_id, who=who), pages.uow()),
                   pages.words("provider.flash.accepted"), url_for(".index"))

    @bp.post("/review/referrals/<referral_id>/phoned-decline")
    @signed_in(pages)
    def phoned_decline(referral_id):
        reason = request.form.get("reason", "").strip()[:MAX_REASON] or "—"
        return act(pages, lambda: referrals.decline(rc.DeclineReferral(g.principal, referral_id, reason), pages.uow()),
                   pages.words("provider.flash.declined"), url_for(".index"))

    return bp
