"""The kamers' HTTP API (API.md). Views are thin: authenticate, parse, call a handler."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable

from flask import Flask, g, jsonify, request
from flask_limiter import Limiter
from flask_smorest import Api, Blueprint
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from mienskip_shared.links import InvalidLink, is_volunteer_link, verify_volunteer_link
from mienskip_shared.workers import Wakeup

from ..domain.model import InvalidRequest, Principal, Role
from ..service_layer import handlers, privacy, workflow
from . import schemas, web
from .errors import error_response, from_http_exception

MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = "5"


class _Api(Api):
    """flask-smorest, with errors in API.md's shape (also in the OpenAPI document)."""

    ERROR_SCHEMA = schemas.ApiErrorSchema

    def handle_http_exception(self, error: HTTPException):
        return from_http_exception(error)


def require(*roles: Role) -> Callable:
    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if g.principal.role not in roles:
                return error_response(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _blueprint(engine: Engine, wakeup: Wakeup) -> Blueprint:
    blp = Blueprint("v1", __name__, url_prefix="/v1", description="Help requests and volunteers")

    @blp.route("/volunteers", methods=["POST"])
    @blp.arguments(schemas.VolunteerSchema)
    @blp.response(201, schemas.VolunteerSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def register_volunteer(body):
        """Register a volunteer of the caller's kamer."""
        volunteer = handlers.register_volunteer(engine, g.principal, body)
        wakeup.set()
        return _volunteer_view(volunteer)

    @blp.route("/volunteers/<volunteer_id>", methods=["GET"])
    @blp.response(200, schemas.VolunteerSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER, Role.COORDINATOR)
    def get_volunteer(volunteer_id):
        """One volunteer: the kamer's own, or any in the coordinator's region."""
        return _volunteer_view(handlers.get_volunteer(engine, g.principal, volunteer_id))

    @blp.route("/requests", methods=["POST"])
    @blp.arguments(schemas.RequestSchema)
    @blp.response(202, schemas.AcceptedSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def submit_request(body):
        """Submit a resident's help request. Answered once it is durably stored."""
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 255):
            return error_response(422, errors={"Idempotency-Key": ["must be 1 to 255 characters"]})
        try:
            status, answer = handlers.submit_request(
                engine, g.principal, body, idempotency_key=key,
                body_hash=handlers.body_fingerprint(request.get_data(cache=True)))
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        except handlers.IdempotencyKeyReused:
            return error_response(422, errors={"Idempotency-Key": ["was used before with another body"]})
        except IntegrityError as exc:
            if key and handlers.record_duplicate_key_race(exc):
                return error_response(409, "The same Idempotency-Key is being processed / Wordt al verwerkt")
            raise
        wakeup.set()
        return answer, status

    @blp.route("/requests/validate", methods=["POST"])
    @blp.arguments(schemas.RequestSchema)
    @blp.response(200, schemas.ValidSchema)
    @blp.alt_response(422, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER)
    def validate_request(body):
        """Check a request body as POST /v1/requests would, without storing anything."""
        try:
            handlers.validate_request(engine, g.principal, body)
        except InvalidRequest as exc:
            return error_response(422, errors={exc.field: [exc.problem]})
        return {"valid": True}

    @blp.route("/requests/<request_id>", methods=["GET"])
    @blp.response(200, schemas.RequestViewSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER, Role.COORDINATOR)
    def get_request(request_id):
        """A request with its status, assignment, reasons and history."""
        return handlers.get_request(engine, g.principal, request_id)

    @blp.route("/requests/<request_id>/cancel", methods=["POST"])
    @blp.arguments(schemas.OptionalReasonSchema, required=False)
    @blp.response(200, schemas.AcceptedSchema)
    @blp.alt_response(404, schema=schemas.ApiErrorSchema)
    @blp.alt_response(409, schema=schemas.ApiErrorSchema)
    @require(Role.KAMER, Role.COORDINATOR)
    def cancel_request(body, request_id):
        """Cancel an open request; frees the volunteer's capacity."""
        result = handlers.cancel_request(engine, g.principal, request_id, (body or {}).get("reason"))
        wakeup.set()
        return result

    @blp.route("/assignments", methods=["GET"])
    @blp.arguments(schemas.AssignmentQuerySchema, location="query")
    @blp.response(200, schemas.AssignmentPageSchema)
    @require(Role.KAMER, Role.COORDINATOR)
    def list_assignments(query):
        """Proposals and assignments: the kamer's own, or the coordinator's region."""
        try:
            page = workflow.list_assignments(engine, g.principal, status=query["status"], limit=query["limit"],
                                             cursor=query["cursor"])
        except ValueError:
            return error_response(422, errors={"cursor": ["is not a cursor from this API"]})
        body = {"items": page.items}
        if page.next:
            body["next"] = page.next
        return body

    def _assignment_action(name: str, roles: tuple[Role, ...], schema, act):
        @blp.route(f"/assignments/<assignment_id>/{name}", methods=["POST"], endpoint=f"assignment_{name}")
        @blp.arguments(schema, required=schema is schemas.RejectSchema or schema is schemas.ReassignSchema)
        @blp.response(200, schemas.AssignmentViewSchema)
        @blp.alt_response(404, schema=schemas.ApiErrorSchema)
        @blp.alt_response(409, schema=schemas.ApiErrorSchema)
        @require(*roles)
        def action(body, assignment_id):
            result = act(g.principal, assignment_id, body or {})
            wakeup.set()
            return result

        action.__doc__ = f"{name.capitalize()} an assignment (DOMAIN.md workflow); 409 if the state forbids it."
        return action

    people = (Role.KAMER, Role.COORDINATOR)
    _assignment_action("approve", people, schemas.OptionalReasonSchema,
                       lambda p, a, body: workflow.approve(engine, p, a))
    _assignment_action("reject", people, schemas.RejectSchema,
                       lambda p, a, body: workflow.reject(engine, p, a, body["reason"]))
    _assignment_action("accept", (*people, Role.VOLUNTEER), schemas.OptionalReasonSchema,
                       lambda p, a, body: workflow.accept(engine, p, a))
    _assignment_action("decline", (*people, Role.VOLUNTEER), schemas.OptionalReasonSchema,
                       lambda p, a, body: workflow.decline(engine, p, a, body.get("reason")))
    _assignment_action("reassign", people, schemas.ReassignSchema,
                       lambda p, a, body: workflow.reassign(engine, p, a, body["volunteer_id"]))

    @blp.route("/assignments/bulk-approve", methods=["POST"])
    @blp.arguments(schemas.BulkApproveSchema)
    @blp.response(200, schemas.BulkResultsSchema)
    @require(*people)
    def bulk_approve(body):
        """Approve several proposals; each answers for itself (200, 404 or 409)."""
        results = workflow.bulk_approve(engine, g.principal, body["ids"])
        wakeup.set()
        return {"results": results}

    @blp.route("/kamers/<kamer_id>/auto-approve", methods=["GET"])
    @blp.response(200, schemas.PolicySchema)
    @require(*people)
    def get_policy(kamer_id):
        """Categories whose proposals this kamer approves at once."""
        return {"categories": workflow.auto_approve_categories(engine, g.principal, kamer_id)}

    @blp.route("/kamers/<kamer_id>/auto-approve", methods=["PUT"])
    @blp.arguments(schemas.PolicySchema)
    @blp.response(200, schemas.PolicySchema)
    @require(Role.COORDINATOR)
    def set_policy(body, kamer_id):
        """Set the auto-approve categories of a kamer (coordinators)."""
        return {"categories": workflow.set_auto_approve_categories(engine, g.principal, kamer_id,
                                                                   body["categories"])}

    @blp.route("/audit", methods=["GET"])
    @blp.arguments(schemas.AuditQuerySchema, location="query")
    @blp.response(200, schemas.AuditPageSchema)
    @require(Role.COORDINATOR)
    def audit_log(query):
        """Who read or changed personal data in the coordinator's region, newest first."""
        entries = privacy.audit_entries(engine, g.principal, subject_id=query["subject_id"], limit=query["limit"])
        return {"items": [entry.__dict__ for entry in entries]}

    return blp


def _volunteer_view(row: dict) -> dict:
    view = dict(row)
    view["home"] = {"lat": row["home_lat"], "lon": row["home_lon"]}
    return view


def _is_local(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _token_key() -> str:
    """Rate-limit per token (hashed: the raw token is never kept), else per address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "token:" + handlers.hash_token(token.strip())
    return "addr:" + (request.remote_addr or "unknown")


def create_app(engine: Engine, check_ready: Callable[[], dict[str, str]],
               relay_wakeup: Wakeup | None = None, *, secret_key: str, secure_cookies: bool = False,
               dead_letters: Callable[[], dict[str, int]] | None = None,
               rate_limit: str = "30 per second; 600 per minute", rate_limit_storage: str = "memory://") -> Flask:
    """The intake WSGI app; nothing is built at import time."""
    app = Flask(__name__)
    app.secret_key = secret_key  # signs the review pages' session cookie

    def _volunteer_principal(token: str) -> Principal | None:
        try:
            link = verify_volunteer_link(secret_key, token)
        except InvalidLink:
            return None
        return Principal(token_id=link.volunteer_id, role=Role.VOLUNTEER, volunteer_id=link.volunteer_id,
                         assignment_id=link.assignment_id)

    app.config.update(
        API_TITLE="Mienskip intake",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # Frisian, Arabic and emoji come back byte for byte
    api = _Api(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    api.register_blueprint(_blueprint(engine, relay_wakeup or Wakeup()))
    app.register_blueprint(web.review_blueprint(engine, secret_key=secret_key, relay_wakeup=relay_wakeup,
                                                secure_cookies=secure_cookies, dead_letters=dead_letters))
    Limiter(
        key_func=_token_key, app=app, default_limits=[rate_limit], storage_uri=rate_limit_storage,
        headers_enabled=False, default_limits_exempt_when=lambda: not request.path.startswith("/v1"),
    )

    @app.before_request
    def _authenticate():
        if not request.path.startswith("/v1"):
            return None
        if request.method in ("POST", "PUT", "PATCH"):
            if request.content_length and request.content_length > MAX_BODY_BYTES:
                return error_response(413)
            if request.get_data(cache=True) and not request.is_json:
                return error_response(415)
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        principal: Principal | None = None
        token = token.strip()
        if scheme.lower() == "bearer" and is_volunteer_link(token):
            principal = _volunteer_principal(token)
        elif scheme.lower() == "bearer" and token:
            principal = handlers.authenticate(engine, token)
        if principal is None:
            return error_response(401, headers={"WWW-Authenticate": "Bearer"})
        g.principal = principal
        return None

    @app.errorhandler(workflow.UnknownVolunteer)
    def _unknown_volunteer(_exc):
        return error_response(422, errors={"volunteer_id": ["is not a volunteer you can choose here"]})

    @app.errorhandler(handlers.NotFound)
    def _not_found(_exc):
        return error_response(404)

    @app.errorhandler(handlers.Conflict)
    def _conflict(exc):
        return error_response(409, str(exc))

    @app.errorhandler(PermissionError)
    def _forbidden(_exc):
        return error_response(403)

    @app.errorhandler(OperationalError)
    def _database_down(_exc):
        return error_response(503, headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        checks = check_ready()
        ok = all(v == "ok" for v in checks.values())
        return jsonify(status="ok" if ok else "unavailable", checks=checks), 200 if ok else 503

    @app.get("/metrics")
    def metrics():
        if not _is_local(request.remote_addr):
            header = request.headers.get("Authorization", "")
            principal = handlers.authenticate(engine, header.partition(" ")[2].strip()) if header else None
            if principal is None or principal.role is not Role.OPERATOR:
                return error_response(401 if principal is None else 403)
        return generate_latest(), 200, {"Content-Type": CONTENT_TYPE_LATEST}

    return app
