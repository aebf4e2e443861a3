"""The HTTP bodies of issue 13's endpoints (API.md "Additions": providers, refer, a
provider's answer), beside :mod:`.schemas`, which holds the rest of the contract."""

from marshmallow import Schema, fields, validate

from mienskip_shared.contracts.vocabulary import CATEGORIES, LANGUAGES, PROVIDER_KINDS

from .fields import PHONE, EmailText, Instant, JsonInteger, Strict, Text, WebhookUrl
from .schemas import WindowViewSchema


class ProviderSchema(Strict):
    id = fields.Str(dump_only=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    kind = Text(required=True, validate=validate.OneOf(PROVIDER_KINDS))
    categories = fields.List(Text(validate=validate.OneOf(CATEGORIES)), required=True,
                             validate=validate.Length(min=1, max=len(CATEGORIES)))
    region = Text(load_default=None, validate=validate.Length(min=1, max=100), metadata={
        "description": "The region it serves; the coordinator's own by default (another is refused)."})
    kamer_ids = fields.List(Text(validate=validate.Length(min=1, max=36)), load_default=list,
                            validate=validate.Length(max=100), metadata={
                                "description": "Only these kamers of the region; empty: all of them."})
    email = EmailText(required=True, allow_none=True, validate=validate.Length(max=320))
    phone = Text(load_default=None, allow_none=True, validate=PHONE)
    webhook_url = Text(load_default=None, allow_none=True, validate=[validate.Length(max=2000), WebhookUrl()],
                       metadata={"description": "Signed webhook: https (http only to localhost)."})
    language = Text(load_default="nl", validate=validate.OneOf(LANGUAGES))
    answer_within_days = JsonInteger(load_default=2, validate=validate.Range(min=1, max=30), metadata={
        "description": "Working days (Monday to Friday; public holidays are not counted) to answer a referral "
                       "before it goes overdue."})
    active = fields.Bool(load_default=True)
    revision = fields.Int(dump_only=True)
    created_at = fields.AwareDateTime(dump_only=True)
    updated_at = fields.AwareDateTime(dump_only=True)


class ProviderPatchSchema(ProviderSchema):
    """``PATCH /v1/providers/{id}``: any field; what is left out stays (the region never changes)."""

    class Meta:
        exclude = ("region",)


def provider_patch_schema() -> ProviderPatchSchema:
    return ProviderPatchSchema(partial=True)


class ProviderQuerySchema(Strict):
    category = Text(load_default=None, validate=validate.OneOf(CATEGORIES),
                    metadata={"description": "Only providers that take this category."})
    active = fields.Bool(load_default=None, allow_none=True, metadata={"description": "true: only active ones."})


class ProviderListSchema(Schema):
    items = fields.List(fields.Nested(ProviderSchema), required=True)


class ReferSchema(Strict):
    provider_id = Text(required=True, validate=validate.Length(min=1, max=36))
    note = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "The kamer's words for the provider (shown on its page)."})


class ReferralAcceptSchema(Strict):
    who = Text(load_default=None, allow_none=True, validate=validate.Length(max=200),
               metadata={"description": "Who of the provider will come."})
    when = Instant(load_default=None, allow_none=True, metadata={"description": "When (ISO 8601 with offset)."})
    note = Text(free=True, load_default=None, allow_none=True, validate=validate.Length(max=2000))


class ReferralDeclineSchema(Strict):
    reason = Text(free=True, required=True, validate=validate.Length(min=1, max=1000))


class ReferralRequestSchema(Schema):
    status = fields.Str()
    category = fields.Str()
    urgency = fields.Str()
    window = fields.Nested(WindowViewSchema)
    first_name = fields.Str()
    place = fields.Str(allow_none=True)
    address = fields.Str(allow_none=True, metadata={"description": "Only once accepted (for the provider)."})
    phone = fields.Str(allow_none=True, metadata={"description": "Only once accepted (for the provider)."})


class ReferralKamerSchema(Schema):
    name = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)


class ReferralViewSchema(Schema):
    id = fields.Str()
    request_id = fields.Str()
    provider_id = fields.Str()
    provider_name = fields.Str(allow_none=True)
    status = fields.Str(metadata={"enum": ["sent", "accepted", "declined", "overdue", "closed"]})
    helper = fields.Str()
    sent_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    note = fields.Str(allow_none=True)
    who = fields.Str(allow_none=True)
    when = fields.AwareDateTime(allow_none=True)
    answer_note = fields.Str(allow_none=True)
    reason = fields.Str(allow_none=True)
    answered_at = fields.AwareDateTime(allow_none=True)
    request = fields.Nested(ReferralRequestSchema)
    kamer = fields.Nested(ReferralKamerSchema)
