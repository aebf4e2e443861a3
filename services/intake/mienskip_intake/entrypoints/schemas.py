"""The HTTP bodies of API.md as marshmallow schemas; they also make /openapi.json.

Requests, assignments, the audit log and errors: what a client sends and what it gets back
are read side by side here, as API.md lists them. The volunteer bodies are in
:mod:`.volunteer_schemas`, issue 13's in :mod:`.referral_schemas`; the places and
addresses they share are here. How one value is read (text, numbers, moments) is :mod:`.fields`.

Clients cannot set ``id``, ``status``, ``kamer_id`` or timestamps: those fields are
``dump_only`` and unknown fields are refused (no mass assignment).
"""


from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_dump,
    post_load,
    validate,
    validates_schema,
)

from mienskip_shared.contracts.vocabulary import CATEGORIES, HELPERS, LANGUAGES, URGENCIES

from ..catalogue import catalogue
from ..domain.addresses import AddressError, DutchAddress, Precision
from ..domain.model import Note, Status
from .fields import (
    LAT_RANGE,
    LON_RANGE,
    PHONE,
    EmailText,
    Instant,
    JsonNumber,
    Strict,
    Text,
)
from .wording import caller_language, history_note, with_runner_up_why


class PointSchema(Strict):
    lat = JsonNumber(required=True, validate=LAT_RANGE)
    lon = JsonNumber(required=True, validate=LON_RANGE)


class HouseNumberField(Text):
    """A house number as text or as a whole number (``"3"`` or ``3``): Dutch forms mean the same."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class AddressSchema(Strict):
    """A Dutch address as Dutch forms ask it; loads as a normalised ``DutchAddress``."""

    postcode = Text(required=True, validate=validate.Length(max=10),
                    metadata={"example": "9001 AB", "description": "4 digits and 2 letters; space optional"})
    house_number = HouseNumberField(required=True, validate=validate.Length(max=10), metadata={"example": "3"})
    addition = Text(load_default=None, allow_none=True, validate=validate.Length(max=10),
                    metadata={"example": "a", "description": "house letter or addition"})

    @post_load
    def _dutch(self, data, **_):
        try:
            return DutchAddress.parse(data["postcode"], data["house_number"], data.get("addition"))
        except AddressError as exc:
            raise ValidationError(exc.problem, exc.part) from exc


class LocationSchema(Schema):
    """A stored location, as returned: where, and how exact."""

    lat = fields.Float()
    lon = fields.Float()
    precision = fields.Str(metadata={"enum": [p.value for p in Precision],
                                     "description": "exact: the address itself; postcode4: the centre of its "
                                                    "postcode area (approximate); given: typed by the kamer"})


def exactly_one_of(data: dict, point: str, address: str) -> None:
    """A location is typed (``point``) or given as a Dutch address, never both or neither."""
    if data.get(point) is not None and data.get(address) is not None:
        raise ValidationError(f"give {point} or {address}, not both", address)
    if data.get(point) is None and data.get(address) is None:
        raise ValidationError(f"give {point} ({{lat, lon}}) or {address} ({{postcode, house_number}})", point)


class ResidentSchema(Strict):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    phone = Text(load_default=None, allow_none=True, validate=PHONE)
    email = EmailText(load_default=None, allow_none=True, validate=validate.Length(max=320),
                      metadata={"description": "Optional; kept with the record for the kamer, never sent on."})
    language = Text(load_default="nl", validate=validate.OneOf(LANGUAGES))
    address = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))


class WindowSchema(Strict):
    start = Instant(required=True)
    end = Instant(required=True)

    @validates_schema
    def _end_after_start(self, data, **_):
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise ValidationError("must be after start", "end")


class RequestSchema(Strict):
    resident = fields.Nested(ResidentSchema, required=True)
    location = fields.Nested(PointSchema, load_default=None, allow_none=True, metadata={
        "description": "Where the help is needed; or give address instead (exactly one of the two)."})
    address = fields.Nested(AddressSchema, load_default=None, allow_none=True, metadata={
        "description": "The resident's Dutch address instead of location: placed by the geocoder, and "
                       "resident.address filled from it when left empty. Unknown postcode: 422 on address.postcode."})
    category = Text(required=True, validate=validate.OneOf(CATEGORIES))
    skills = fields.List(Text(validate=validate.OneOf(CATEGORIES)), load_default=list,
                         validate=validate.Length(max=len(CATEGORIES)))
    needs_vog = fields.Bool(load_default=False)
    needs_language = Text(load_default=None, allow_none=True, validate=validate.OneOf(LANGUAGES))
    window = fields.Nested(WindowSchema, required=True)
    recurrence = Text(load_default=None, allow_none=True, validate=validate.OneOf(["weekly"]))
    follows = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64),
                   metadata={"description": "For a recurring request: the id of the earlier request of its "
                                            "series; matching then prefers the volunteer who holds that one."})
    urgency = Text(load_default="normal", validate=validate.OneOf(URGENCIES))
    notes = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=4000))
    helper = Text(load_default="volunteer", validate=validate.OneOf(HELPERS), metadata={
        "description": "Who helps: volunteer (default), professional (a care provider only: never matched) or both."})
    provider_id = Text(load_default=None, allow_none=True, validate=validate.Length(min=1, max=36), metadata={
        "description": "With helper professional or both: the provider referred at once (else later, with "
                       "POST /v1/requests/{id}/refer)."})

    @validates_schema
    def _location_or_address(self, data, **_):
        exactly_one_of(data, "location", "address")


class AcceptedSchema(Schema):
    id = fields.Str(required=True)
    status = fields.Str(required=True)


class ValidSchema(Schema):
    valid = fields.Bool(required=True)


class ExplanationField(fields.Dict):
    """Matching's explanation as stored, its codes included, plus ``runner_up.why``: why the
    runner-up lost, in the caller's language (for clients that showed matching's old sentence)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(with_runner_up_why(catalogue(), caller_language(), value), attr, obj, **kwargs)


class AssignmentSchema(Schema):
    id = fields.Str()
    request_id = fields.Str()
    volunteer_id = fields.Str()
    status = fields.Str()
    distance_km = fields.Float()
    explanation = ExplanationField(metadata={
        "description": "Skills matched, the availability slot, the week's load, and runner_up: "
                       "{volunteer_id, distance_km, reason: {code, km?}, rule, why} (why: in the caller's language)."})


class HistorySchema(Schema):
    at = fields.AwareDateTime()
    status = fields.Str(allow_none=True)
    actor = fields.Str()
    note = fields.Method("_note", allow_none=True, metadata={
        "type": "string", "description": "The note in the caller's language (Accept-Language: nl, fy, en; nl by "
                                         "default): what intake says (note_code), then any text a person typed."})
    note_code = fields.Str(allow_none=True, metadata={"description": "What intake says, as a code: "
                                                                      + ", ".join(Note) + "; null: no code"})
    note_params = fields.Dict(allow_none=True, metadata={"description": "The code's parameters."})

    def _note(self, entry):
        return history_note(catalogue(), caller_language(), entry.note_code, entry.note_params, entry.note) or None


class WindowViewSchema(Schema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class WindowField(fields.Nested):
    """A request's window as ``{"start", "end"}``, ISO 8601 with offset, typed in the spec."""

    def __init__(self, **kwargs):
        super().__init__(WindowViewSchema, **kwargs)

    def get_value(self, obj, attr, accessor=None, default=None):
        if isinstance(obj, dict):
            return obj.get(attr, default)
        return {"start": obj.window_start, "end": obj.window_end}


class RequestViewSchema(Schema):
    id = fields.Str()
    kamer_id = fields.Str()
    status = fields.Str()
    category = fields.Str()
    skills = fields.List(fields.Str())
    urgency = fields.Str()
    urgent = fields.Bool()  # a late decline: the coordinator decides now
    recurrence = fields.Str(allow_none=True)
    follows = fields.Str(allow_none=True)
    window = WindowField()
    resident = fields.Method("_resident")
    location = fields.Nested(LocationSchema)
    assignment = fields.Nested(AssignmentSchema, allow_none=True)
    reasons = fields.Dict(keys=fields.Str(), values=fields.Int(), allow_none=True)
    history = fields.List(fields.Nested(HistorySchema))
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    helper = fields.Str(metadata={"enum": list(HELPERS)})
    referral = fields.Method("_referral", metadata={
        "type": "object", "description": "The current referral to a care provider, if any: {id, provider_id, "
                                         "status} (+ who and when once accepted)."})

    @post_dump
    def _without_referral(self, data, **_):
        if data.get("referral") is None:
            data.pop("referral", None)
        return data

    def _referral(self, request):
        referral = request.referral
        if referral is None:
            return None
        shown = {"id": referral.id, "provider_id": referral.provider_id, "status": referral.status}
        if referral.status == "accepted" or referral.who or referral.visit_at:
            shown.update(who=referral.who, when=fields.AwareDateTime()._serialize(referral.visit_at, None, None))
        return shown

    def _resident(self, request):
        return {"name": request.resident_name, "phone": request.resident_phone, "email": request.resident_email,
                "language": request.resident_language, "address": request.resident_address}


class RequestQuerySchema(Strict):
    status = Text(load_default=None, validate=validate.OneOf([s.value for s in Status]))
    q = Text(load_default=None, validate=validate.Length(max=100),
             metadata={"description": "Part of the resident's name (any case)."})
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, validate=validate.Length(max=500))


class RequestListItemSchema(Schema):
    """A request in a list: what a list may show (first name and place, never an address,
    phone or notes); the whole record is ``GET /v1/requests/{id}`` (audited)."""

    id = fields.Str()
    kamer_id = fields.Str()
    status = fields.Str()
    category = fields.Str()
    urgency = fields.Str()
    urgent = fields.Bool()
    recurrence = fields.Str(allow_none=True)
    window = WindowField()
    resident = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={
        "description": "{first_name}"})
    place = fields.Str(metadata={"description": "The village or wijk it lies in, roughly."})
    location = fields.Dict(keys=fields.Str(), values=fields.Str(), metadata={
        "description": "{precision}: exact, postcode4 or given"})
    created_at = fields.AwareDateTime()


class RequestPageSchema(Schema):
    items = fields.List(fields.Nested(RequestListItemSchema), required=True)
    next = fields.Str(allow_none=True)


ASSIGNMENT_STATUSES = ["proposed", "approved", "accepted", "declined", "rejected", "superseded", "cancelled",
                       "completed"]


class AssignmentQuerySchema(Strict):
    status = Text(load_default=None, validate=validate.OneOf(ASSIGNMENT_STATUSES))
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, validate=validate.Length(max=500))


class AssignmentRequestSchema(Schema):
    status = fields.Str()
    category = fields.Str()
    urgency = fields.Str()
    urgent = fields.Bool()
    window = WindowField()


class AssignmentViewSchema(AssignmentSchema):
    kamer_id = fields.Str()
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    request = fields.Nested(AssignmentRequestSchema)


class AssignmentPageSchema(Schema):
    items = fields.List(fields.Nested(AssignmentViewSchema), required=True)
    next = fields.Str(allow_none=True)


class RejectSchema(Strict):
    reason = Text(free=True, required=True, validate=validate.Length(min=1, max=1000))


class OptionalReasonSchema(Strict):
    """The body of an action that may say why (cancel, approve, accept, decline): ``{"reason"?}``.

    The whole body is optional; ``reason`` may be left out or null.
    """

    reason = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=1000))


class CompleteSchema(Strict):
    """The visit record: ``{"done", "hours"?, "km"?, "note"?, "reason"?}`` (reason required when not done)."""

    done = fields.Bool(required=True, truthy={True}, falsy={False})
    hours = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(min=0, max=24))
    km = JsonNumber(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1000))
    note = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=1000))
    reason = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=1000))


class ReassignSchema(Strict):
    volunteer_id = Text(required=True, validate=validate.Length(min=1, max=36))


class BulkApproveSchema(Strict):
    ids = fields.List(Text(validate=validate.Length(min=1, max=36)), required=True,
                      validate=validate.Length(min=1, max=200))


class BulkResultSchema(Schema):
    id = fields.Str()
    status = fields.Int()
    message = fields.Str()


class BulkResultsSchema(Schema):
    results = fields.List(fields.Nested(BulkResultSchema))


class PolicySchema(Strict):
    categories = fields.List(Text(validate=validate.OneOf(CATEGORIES)), required=True,
                             validate=validate.Length(max=len(CATEGORIES)))


class AuditQuerySchema(Strict):
    subject_id = Text(load_default=None, validate=validate.Length(min=1, max=36))
    limit = fields.Int(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditEntrySchema(Schema):
    at = fields.AwareDateTime()
    role = fields.Str()
    token_id = fields.Str(allow_none=True)  # None when a person acted (user_id)
    token_label = fields.Str(allow_none=True)
    action = fields.Str()
    subject_kind = fields.Str()
    subject_id = fields.Str()
    user_id = fields.Str(allow_none=True)  # the person signed in to the pages
    user_name = fields.Str(allow_none=True)


class AuditPageSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)


class ApiErrorSchema(Schema):
    code = fields.Str(required=True)
    message = fields.Str(required=True)
    errors = fields.Dict(keys=fields.Str(), values=fields.List(fields.Str()))

