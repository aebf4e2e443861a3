"""Events published by intake about care providers and the referrals sent to them.

A provider is an organisation (the social neighbourhood team, home care, a debt
counsellor): its name and contact points are not personal data, like a kamer's. A
referral carries ids, the category and the window; the resident's name, the note and
the address stay in intake and reach the provider only through its signed link (the
address only after it accepts), as for a volunteer.
"""

from marshmallow import fields, validate

from .common import Payload, Window, language_field
from .envelope import register
from .vocabulary import CATEGORIES, HELPERS, PROVIDER_KINDS, URGENCIES


@register("provider.registered")
class ProviderRegistered(Payload):
    """Everything notify needs to reach a provider; ``provider.updated`` carries the same,
    whole, after every change, with a higher ``revision``."""

    provider_id = fields.Str(required=True)
    name = fields.Str(required=True)
    kind = fields.Str(required=True, validate=validate.OneOf(PROVIDER_KINDS))
    region = fields.Str(required=True)
    categories = fields.List(fields.Str(validate=validate.OneOf(CATEGORIES)), required=True)
    kamer_ids = fields.List(fields.Str(), load_default=list)  # empty: every kamer of the region
    email = fields.Str(load_default=None, allow_none=True)
    phone = fields.Str(load_default=None, allow_none=True)
    webhook_url = fields.Str(load_default=None, allow_none=True)
    language = language_field(load_default="nl")
    active = fields.Bool(load_default=True)
    revision = fields.Int(load_default=0, validate=validate.Range(min=0))


@register("provider.updated")
class ProviderUpdated(ProviderRegistered):
    pass


class _ReferralRef(Payload):
    referral_id = fields.Str(required=True)
    request_id = fields.Str(required=True)
    provider_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    actor = fields.Str(required=True)  # "kamer", "coordinator", "provider", "policy": a role, never a name
    category = fields.Str(load_default=None, allow_none=True, validate=validate.OneOf(CATEGORIES))
    helper = fields.Str(load_default="professional", validate=validate.OneOf(HELPERS))


@register("referral.sent")
class ReferralSent(_ReferralRef):
    """The provider is asked; notify sends it its signed link (e-mail, webhook)."""

    window = fields.Nested(Window, load_default=None, allow_none=True)
    urgency = fields.Str(load_default="normal", validate=validate.OneOf(URGENCIES))
    due_at = fields.AwareDateTime(required=True)  # overdue after this, unanswered


@register("referral.accepted")
class ReferralAccepted(_ReferralRef):
    who = fields.Str(load_default=None, allow_none=True)  # who of the provider will come (a professional, not a resident)
    when = fields.AwareDateTime(load_default=None, allow_none=True)


@register("referral.declined")
class ReferralDeclined(_ReferralRef):
    reason = fields.Str(required=True)  # the provider's words, for the kamer


@register("referral.overdue")
class ReferralOverdue(_ReferralRef):
    sent_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)
