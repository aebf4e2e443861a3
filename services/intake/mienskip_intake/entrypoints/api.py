"""The kamers' HTTP API under ``/v1`` (API.md). Views are thin: the principal comes from
the app's token check, the body from the schemas; each view builds a command, hands it
with a fresh unit of work to the service layer, and shapes the answer."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import current_app, g, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from mienskip_shared.clock import utcnow

from ..adapters import desk, read_models
from ..adapters.repository import lost_idempotency_race
from ..catalogue import catalogue
from ..domain import commands
from ..domain.model import Assignment, HelpRequest, InvalidRequest, Role
from ..domain.places import Place
from ..service_layer import handlers, visits, volunteers, workflow
from ..service_layer.geocoding import AddressLookup
from ..service_layer.unit_of_work import UnitOfWork
from . import schemas, volunteer_schemas
from .errors import error_response, message_for
from .fields import is_plain_text
from .observability import caller_correlation_id
from .referral_api import add_referral_routes
from .wording import caller_language, conflict_why

PEOPLE = (Role.KAMER, Role.COORDINATOR)


def require(*roles: Role) -> Callable:
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.principal.role not in roles:
                return error_response(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def assignment_view(outcome: tuple[Assignment, HelpRequest]) -> dict[str, Any]:
    assignment, request_ = outcome
    return {
        "id": assignment.id, "request_id": assignment.request_id, "volunteer_id": assignment.volunteer_id,
        "kamer_id": assignment.kamer_id, "status": assignment.status, "distance_km": assignment.distance_km,
        "explanation": assignment.explanation, "created_at": assignment.created_at,
        "updated_at": assignment.updated_at,
        "request": {"status": request_.status, "category": request_.category, "urgency": request_.urgency,
                    "urgent": request_.urgent,
                    "window": {"start": request_.window_start, "end": request_.window_end}},
    }


def _bulk_result(result: dict[str, Any]) -> dict[str, Any]:
    """One id's answer in a bulk approval; a 409 says why, in the caller's language."""
    shown = {"id": result["id"], "status": result["status"]}
    if "conflict" in result:
        conflict = result["conflict"]
        shown["message"] = conflict_why(catalogue(), caller_language(), conflict.code, conflict.params)
    return shown


def request_item_view(item: dict[str, Any]) -> dict[str, Any]:
    """One row of ``adapters.desk``'s request list, as the API shows it."""
    return {"id": item["id"], "kamer_id": item["kamer_id"], "status": item["status"], "category": item["category"],
            "urgency": item["urgency"], "urgent": item["urgent"], "recurrence": item["recurrence"],
            "window": {"start": item["window_start"], "end": item["window_end"]},
            "resident": {"first_name": item["resident_first_name"]}, "place": item["place"],
            "location": {"precision": item["location_precision"]}, "created_at": item["created_at"]}


def api_blueprint(engine, uow: Callable[[], UnitOfWork], addresses: AddressLookup | None = None,
                  places: Sequence[Place] = ()) -> Blueprint:
    """``engine`` serves the read models; ``uow`` makes a unit of work per use case;
    ``addresses`` places Dutch addresses; ``places`` names where a request is, roughly."""
    blp = Blueprint("v1", __name__, url_prefix="/v1", description="Help requests and volunteers")

    @blp.route("/volunteers", methods=["POST"])
    @blp.arguments(volunteer_schemas.VolunteerSchema())
    @blp.response(201, volunteer_schemas.VolunteerSchema)
    @blp.alt_response(409, schema=volunteer_schemas.DuplicateSchema, description="The kamer already has this volunteer "
                      "(same name, same phone or e-mail); send allow_duplicate: true to register them anyway.")
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def register_volunteer(body):
        """Register a volunteer of the caller's kamer."""
        try:
            return handlers.register_volunteer(
                commands.RegisterVolunteer(g.principal, body, correlation_id=caller_correlation_id()), uow(),
                addresses)
        except volunteers.DuplicateVolunteer as exc:
            response = error_response(409, message_for(409, "api.error.409_duplicate"))
            response.set_data(json.dumps({**response.get_json(), "code": "duplicate",
                                          "existing_id": exc.existing_id}, ensure_ascii=False))
            return response
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})

    @blp.route("/volunteers", methods=["GET"])
    @blp.arguments(volunteer_schemas.VolunteerQuerySchema(), location="query")
    @blp.response(200, volunteer_schemas.VolunteerPageSchema)
    @require(*PEOPLE)
    def list_volunteers(query):
        """Volunteers by name: the kamer's own, or the coordinator's region (each read audit-logged)."""
        try:
            page = volunteers.list_volunteers(commands.ListVolunteers(g.principal, **query), uow())
        except ValueError:
            return error_response(422, errors={"cursor": ["is not a cursor from this API"]})
        return {"items": page.items, **({"next": page.next} if page.next else {})}

    @blp.route("/volunteers/<volunteer_id>", methods=["PATCH"])
    @blp.arguments(volunteer_schemas.volunteer_patch_schema())
    @blp.response(200, volunteer_schemas.VolunteerSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def update_volunteer(body, volunteer_id):
        """Change a volunteer: any field, away periods, or active (false pauses: never proposed, offers not yet
        accepted end as a decline would; true resumes)."""
        try:
            return volunteers.update_volunteer(
                commands.UpdateVolunteer(g.principal, volunteer_id, body, correlation_id=caller_correlation_id()),
                uow(), addresses)
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})

    @blp.route("/volunteers/<volunteer_id>", methods=["GET"])
    @blp.response(200, volunteer_schemas.VolunteerSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def get_volunteer(volunteer_id):
        """One volunteer: the kamer's own, or any in the coordinator's region."""
        return handlers.show_volunteer(commands.ShowVolunteer(g.principal, volunteer_id), uow())

    @blp.route("/requests", methods=["POST"])
    @blp.arguments(schemas.RequestSchema())
    @blp.response(202, schemas.AcceptedSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def submit_request(body):
        """Submit a resident's help request. Answered once it is durably stored."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 255 and is_plain_text(key)):
            return error_response(422, errors={"Idempotency-Key": ["must be 1 to 255 characters, "
                                                                   "without control characters"]})
        try:
            status, answer = handlers.submit_request(commands.SubmitRequest(
                g.principal, body, idempotency_key=key,
                body_hash=handlers.body_fingerprint(request.get_data(cache=True)),
                correlation_id=caller_correlation_id()), uow(), addresses)
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        except handlers.IdempotencyKeyReused:
            return error_response(422, errors={"Idempotency-Key": ["was used before with another body"]})
        except IntegrityError as exc:
            if key and lost_idempotency_race(exc):
                return error_response(409, message_for(409, "api.error.409_idempotency"))
            raise
        g.request_id = answer["id"]  # for the HTTP log line
        return answer, status

    @blp.route("/requests/validate", methods=["POST"])
    @blp.arguments(schemas.RequestSchema())
    @blp.response(200, schemas.ValidSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def validate_request(body):
        """Check a request body as POST /v1/requests would, without storing anything."""
        try:
            handlers.validate_request(commands.ValidateRequest(g.principal, body), uow(), addresses)
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        return {"valid": True}

    @blp.route("/requests", methods=["GET"])
    @blp.arguments(schemas.RequestQuerySchema(), location="query")
    @blp.response(200, schemas.RequestPageSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def list_requests(query):
        """Requests, newest first: the kamer's own, or the coordinator's region; by status and part of a name."""
        try:
            page = desk.requests_after(engine, g.principal, places, status=query["status"], name=query["q"],
                                       limit=query["limit"], cursor=query["cursor"])
        except ValueError:
            return error_response(422, errors={"cursor": ["is not a cursor from this API"]})
        body = {"items": [request_item_view(item) for item in page.items]}
        if page.next:
            body["next"] = page.next
        return body

    @blp.route("/requests/<request_id>", methods=["GET"])
    @blp.response(200, schemas.RequestViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def get_request(request_id):
        """A request with its status, assignment, reasons and history."""
        return handlers.show_request(commands.ShowRequest(g.principal, request_id), uow())

    @blp.route("/requests/<request_id>/cancel", methods=["POST"])
    @blp.arguments(schemas.OptionalReasonSchema(), required=False)
    @blp.response(200, schemas.AcceptedSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE)
    def cancel_request(body, request_id):
        """Cancel an open request; frees the volunteer's capacity."""
        return handlers.cancel_request(commands.CancelRequest(
            g.principal, request_id, (body or {}).get("reason"), correlation_id=caller_correlation_id()), uow())

    @blp.route("/assignments", methods=["GET"])
    @blp.arguments(schemas.AssignmentQuerySchema(), location="query")
    @blp.response(200, schemas.AssignmentPageSchema)
    @require(*PEOPLE)
    def list_assignments(query):
        """Proposals and assignments: the kamer's own, or the coordinator's region."""
        try:
            page = read_models.list_assignments(engine, g.principal, status=query["status"], limit=query["limit"],
                                                cursor=query["cursor"])
        except ValueError:
            return error_response(422, errors={"cursor": ["is not a cursor from this API"]})
        body = {"items": [assignment_view(item) for item in page.items]}
        if page.next:
            body["next"] = page.next
        return body

    def _assignment_action(name: str, roles: tuple[Role, ...], schema, act):
        @blp.route(f"/assignments/<assignment_id>/{name}", methods=["POST"], endpoint=f"assignment_{name}")
        @blp.arguments(schema(), required=schema is schemas.RejectSchema or schema is schemas.ReassignSchema)
        @blp.response(200, schemas.AssignmentViewSchema)
        @blp.alt_response(404, schema=schemas.ApiErrorSchema)
        @blp.alt_response(409, schema=schemas.ApiErrorSchema)
        @require(*roles)
        def action(body, assignment_id):
            return assignment_view(act(g.principal, assignment_id, body or {}, caller_correlation_id()))

        action.__doc__ = f"{name.capitalize()} an assignment (DOMAIN.md workflow); 409 if the state forbids it."
        return action

    _assignment_action("approve", PEOPLE, schemas.OptionalReasonSchema,
                       lambda p, a, body, c: workflow.approve(commands.Approve(p, a, c), uow()))
    _assignment_action("reject", PEOPLE, schemas.RejectSchema,
                       lambda p, a, body, c: workflow.reject(commands.Reject(p, a, body["reason"], c), uow()))
    _assignment_action("accept", (*PEOPLE, Role.VOLUNTEER), schemas.OptionalReasonSchema,
                       lambda p, a, body, c: workflow.accept(commands.Accept(p, a, c), uow()))
    _assignment_action("decline", (*PEOPLE, Role.VOLUNTEER), schemas.OptionalReasonSchema,
                       lambda p, a, body, c: workflow.decline(
                           commands.Decline(p, a, body.get("reason"), correlation_id=c), uow()))
    _assignment_action("reassign", PEOPLE, schemas.ReassignSchema,
                       lambda p, a, body, c: workflow.reassign(commands.Reassign(p, a, body["volunteer_id"], c), uow()))

    @blp.route("/assignments/<assignment_id>/complete", methods=["POST"])
    @blp.arguments(schemas.CompleteSchema())
    @blp.response(200, schemas.AssignmentViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(*PEOPLE, Role.VOLUNTEER)
    def complete(body, assignment_id):
        """Record the visit once the task has started: done (the request completes) or not done with a reason
        (the kamer sees it); 409 when recorded before, too early or not accepted."""
        try:
            return assignment_view(visits.complete(commands.CompleteAssignment(
                g.principal, assignment_id, at=current_app.config.get("MIENSKIP_CLOCK", utcnow)(),
                correlation_id=caller_correlation_id(), **body), uow()))
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})

    @blp.route("/assignments/bulk-approve", methods=["POST"])
    @blp.arguments(schemas.BulkApproveSchema())
    @blp.response(200, schemas.BulkResultsSchema)
    @require(*PEOPLE)
    def bulk_approve(body):
        """Approve several proposals; each answers for itself (200, 404 or 409)."""
        results = workflow.bulk_approve(commands.BulkApprove(g.principal, body["ids"], caller_correlation_id()), uow)
        return {"results": [_bulk_result(result) for result in results]}

    @blp.route("/kamers/<kamer_id>/auto-approve", methods=["GET"])
    @blp.response(200, schemas.PolicySchema)
    @require(*PEOPLE)
    def get_policy(kamer_id):
        """Categories whose proposals this kamer approves at once."""
        return {"categories": workflow.auto_approve_categories(commands.ShowAutoApprove(g.principal, kamer_id),
                                                               uow())}

    @blp.route("/kamers/<kamer_id>/auto-approve", methods=["PUT"])
    @blp.arguments(schemas.PolicySchema())
    @blp.response(200, schemas.PolicySchema)
    @require(Role.COORDINATOR)
    def set_policy(body, kamer_id):
        """Set the auto-approve categories of a kamer (coordinators)."""
        return {"categories": workflow.set_auto_approve_categories(
            commands.SetAutoApprove(g.principal, kamer_id, body["categories"]), uow())}

    @blp.route("/audit", methods=["GET"])
    @blp.arguments(schemas.AuditQuerySchema(), location="query")
    @blp.response(200, schemas.AuditPageSchema)
    @require(Role.COORDINATOR)
    def audit_log(query):
        """Who read or changed personal data in the coordinator's region, newest first."""
        entries = read_models.audit_entries(engine, g.principal, subject_id=query["subject_id"], limit=query["limit"])
        return {"items": [entry.__dict__ for entry in entries]}

    add_referral_routes(blp, uow, places, require)
    return blp
