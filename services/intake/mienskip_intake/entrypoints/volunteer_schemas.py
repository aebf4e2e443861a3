"""The HTTP bodies of API.md for volunteers: register, change (``PATCH``), list, and the
409 of a second registration of the same person; beside :mod:`.schemas`, whose points and
Dutch addresses they share."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from mienskip_shared.contracts.vocabulary import CATEGORIES, DAYS, LANGUAGES

from ..domain.addresses import Precision
from ..domain.volunteers import volunteer_status
from .fields import PHONE, TIME_OF_DAY, EmailText, JsonInteger, JsonNumber, Strict, Text
from .schemas import AddressSchema, PointSchema, exactly_one_of


class SlotSchema(Strict):
    day = Text(required=True, validate=validate.OneOf(DAYS))
    start = Text(required=True, data_key="from", validate=TIME_OF_DAY)
    end = Text(required=True, data_key="to", validate=TIME_OF_DAY)

    @validates_schema
    def _end_after_start(self, data, **_):
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            raise ValidationError("must be after 'from'", "to")


class AwayPeriodSchema(Strict):
    start = fields.Date(required=True, data_key="from", metadata={"description": "First day away (inclusive)."})
    end = fields.Date(required=True, data_key="to", metadata={"description": "Last day away (inclusive)."})

    @validates_schema
    def _end_not_before_start(self, data, **_):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("must not be before 'from'", "to")


class HomeField(fields.Nested):
    """A volunteer's home: loaded as ``{lat, lon}``; shown with how exact it is."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        shown = super()._serialize(nested_obj, attr, obj, **kwargs)
        if shown is not None and not isinstance(obj, dict):
            shown["precision"] = getattr(obj, "home_precision", None) or Precision.GIVEN.value
        return shown


class AwayField(fields.List):
    """Away periods: loaded as ``{start, end}`` dates, stored and shown as ``{"from", "to"}``."""

    def _serialize(self, value, attr, obj, **kwargs):
        return [{"from": p["from"], "to": p["to"]} for p in value or []]


class VolunteerSchema(Strict):
    id = fields.Str(dump_only=True)
    kamer_id = fields.Str(dump_only=True)
    region = fields.Str(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    email = EmailText(load_default=None, allow_none=True)
    phone = Text(load_default=None, allow_none=True, validate=PHONE)
    language = Text(load_default="nl", validate=validate.OneOf(LANGUAGES))
    languages = fields.List(Text(validate=validate.OneOf(LANGUAGES)), load_default=list,
                            validate=validate.Length(max=len(LANGUAGES)))
    home = HomeField(PointSchema, load_default=None, metadata={
        "description": "Where they live: {lat, lon}, or give home_address instead. Returned with its precision."})
    home_address = fields.Nested(AddressSchema, load_default=None, load_only=True, metadata={
        "description": "Instead of home: the Dutch address ({postcode, house_number, addition?}), placed by the "
                       "geocoder."})
    skills = fields.List(Text(validate=validate.OneOf(CATEGORIES)), required=True,
                         validate=validate.Length(min=1, max=len(CATEGORIES)))
    has_car = fields.Bool(load_default=False)
    vog_checked_on = fields.Date(load_default=None, allow_none=True)
    availability = fields.List(fields.Nested(SlotSchema), required=True, validate=validate.Length(max=50))
    max_tasks_per_week = JsonInteger(load_default=2, validate=validate.Range(min=0, max=50))
    max_distance_km = JsonNumber(load_default=10.0, validate=validate.Range(min=0, max=200))
    away = AwayField(fields.Nested(AwayPeriodSchema), load_default=list, validate=validate.Length(max=20), metadata={
        "description": "Days away (holidays, illness), inclusive: never proposed then. Periods already over are "
                       "dropped; one period is at most 366 days and starts within two years."})
    active = fields.Bool(load_default=True, metadata={
        "description": "False: paused (or stopped), never proposed; their offers not yet accepted end as a decline "
                       "would. True resumes."})
    allow_duplicate = fields.Bool(load_default=False, load_only=True, metadata={
        "description": "Register even if the kamer has a volunteer with the same name and the same phone or e-mail "
                       "(without it: 409, code duplicate, with existing_id)."})
    status = fields.Method("_status", dump_only=True, metadata={
        "type": "string", "enum": ["active", "paused", "stopped"]})
    revision = fields.Int(dump_only=True, metadata={"description": "One more on every change."})
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True, allow_none=True)

    def _status(self, volunteer):
        return volunteer_status(volunteer)

    @validates_schema
    def _one_home(self, data, partial=None, **_):
        if partial and data.get("home") is None and data.get("home_address") is None:
            if "home" in data:
                raise ValidationError("give home ({lat, lon}) or home_address, not null", "home")
            return  # a change that leaves the home as it is
        exactly_one_of(data, "home", "home_address")


class VolunteerPatchSchema(VolunteerSchema):
    """``PATCH /v1/volunteers/{id}``: any field of the volunteer body; what is left out stays."""

    class Meta:
        unknown = RAISE
        ordered = True
        exclude = ("allow_duplicate",)


def volunteer_patch_schema() -> VolunteerPatchSchema:
    """Every top-level field optional; a nested one (``home``, an away period) stays whole."""
    return VolunteerPatchSchema(partial=tuple(name for name, f in VolunteerPatchSchema._declared_fields.items()
                                              if not f.dump_only))


class VolunteerQuerySchema(Strict):
    q = Text(load_default=None, validate=validate.Length(min=1, max=200),
             metadata={"description": "Part of the name, any case."})
    status = Text(load_default=None, validate=validate.OneOf(["active", "paused", "stopped"]))
    limit = fields.Int(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = Text(load_default=None, validate=validate.Length(max=500))


class VolunteerPageSchema(Schema):
    items = fields.List(fields.Nested(VolunteerSchema), required=True)
    next = fields.Str(allow_none=True)


class DuplicateSchema(Schema):
    """409 ``duplicate``: the kamer already has this volunteer."""

    code = fields.Str(required=True, metadata={"enum": ["duplicate"]})
    message = fields.Str(required=True)
    existing_id = fields.Str(required=True, metadata={"description": "The volunteer the kamer already has."})
