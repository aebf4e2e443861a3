"""Issue 13's part of the ``/v1`` API (API.md "Additions"): care providers, referring a
request, and the provider's answer through its signed link. Views are thin, as in
:mod:`.api`: a command, a fresh unit of work, the service layer, the answer's shape."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flask import g
from flask_smorest import Blueprint

from ..domain import referral_commands as rc
from ..domain.model import InvalidRequest, Role
from ..domain.places import Place
from ..service_layer import providers, referrals
from ..service_layer.unit_of_work import UnitOfWork
from . import referral_schemas as rs
from . import schemas
from .errors import error_response
from .observability import caller_correlation_id

PEOPLE = (Role.KAMER, Role.COORDINATOR)
PARTIES = (*PEOPLE, Role.PROVIDER)


def add_referral_routes(blp: Blueprint, uow: Callable[[], UnitOfWork], places: Sequence[Place],
                        require: Callable) -> None:
    @blp.route("/providers", methods=["POST"])
    @blp.arguments(rs.ProviderSchema())
    @blp.response(201, rs.ProviderSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.COORDINATOR)
    def register_provider(body):
        """Register a care provider of the coordinator's region (a wijkteam, home care, debt help...)."""
        try:
            return providers.register_provider(rc.RegisterProvider(g.principal, body, caller_correlation_id()), uow())
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})

    @blp.route("/providers", methods=["GET"])
    @blp.arguments(rs.ProviderQuerySchema(), location="query")
    @blp.response(200, rs.ProviderListSchema)
    @require(*PEOPLE)
    def list_providers(query):
        """Providers by name: the coordinator's region's; a kamer's region's that serve it."""
        found = providers.list_providers(rc.ListProviders(g.principal, query["category"], bool(query["active"])),
                                         uow())
        return {"items": found}

    @blp.route("/providers/<provider_id>", methods=["GET"])
    @blp.response(200, rs.ProviderSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def get_provider(provider_id):
        """One provider (another region's, or one that does not serve the kamer, is a 404)."""
        return providers.show_provider(rc.ShowProvider(g.principal, provider_id), uow())

    @blp.route("/providers/<provider_id>", methods=["PATCH"])
    @blp.arguments(rs.provider_patch_schema())
    @blp.response(200, rs.ProviderSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.COORDINATOR)
    def update_provider(body, provider_id):
        """Change a provider: any field; active false stops new referrals to it."""
        try:
            return providers.update_provider(
                rc.UpdateProvider(g.principal, provider_id, body, caller_correlation_id()), uow())
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})

    @blp.route("/requests/<request_id>/refer", methods=["POST"])
    @blp.arguments(rs.ReferSchema())
    @blp.response(200, rs.ReferralViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def refer(body, request_id):
        """Refer a request to a care provider (a professional's or combined request, or an unmatched one).
        Again only when the current referral was declined or went overdue; else 409."""
        try:
            referral = referrals.refer(rc.Refer(g.principal, request_id, body["provider_id"], body.get("note"),
                                                caller_correlation_id()), uow())
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        return referrals.show_referral(rc.ShowReferral(g.principal, referral.id), uow(), places)

    @blp.route("/referrals/<referral_id>", methods=["GET"])
    @blp.response(200, rs.ReferralViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(*PARTIES)
    def get_referral(referral_id):
        """One referral: the provider's link sees its own only (the address once accepted)."""
        return referrals.show_referral(rc.ShowReferral(g.principal, referral_id), uow(), places)

    @blp.route("/referrals/<referral_id>/accept", methods=["POST"])
    @blp.arguments(rs.ReferralAcceptSchema(), required=False)
    @blp.response(200, rs.ReferralViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @require(*PARTIES)
    def accept_referral(body, referral_id):
        """The provider takes the request on (who will come, when); a repeated answer is a 409."""
        body = body or {}
        referrals.accept(rc.AcceptReferral(g.principal, referral_id, body.get("who"), body.get("when"),
                                           body.get("note"), caller_correlation_id()), uow())
        return referrals.show_referral(rc.ShowReferral(g.principal, referral_id), uow(), places)

    @blp.route("/referrals/<referral_id>/decline", methods=["POST"])
    @blp.arguments(rs.ReferralDeclineSchema())
    @blp.response(200, rs.ReferralViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(*PARTIES)
    def decline_referral(body, referral_id):
        """The provider cannot take it (reason required); the kamer chooses another provider."""
        try:
            referrals.decline(rc.DeclineReferral(g.principal, referral_id, body["reason"], caller_correlation_id()),
                              uow())
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        return referrals.show_referral(rc.ShowReferral(g.principal, referral_id), uow(), places)
