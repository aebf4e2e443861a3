"""Events published by intake after the match: the visit record, the request's end, and
the weekly "waiting too long" digest for coordinators."""

from marshmallow import fields, validate

from .common import Payload, language_field
from .envelope import register
from .intake import _AssignmentRef


@register("assignment.completed")
class AssignmentCompleted(_AssignmentRef):
    """The visit was recorded (by the volunteer, or by the kamer for them). Hours and km
    travel as numbers; the volunteer's note for the kamer stays in intake."""

    done = fields.Bool(required=True)
    hours = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=24))
    km = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=0, max=1000))
    reason = fields.Str(load_default=None, allow_none=True)  # not done: why, in the volunteer's words


@register("request.completed")
class RequestCompleted(Payload):
    """Every part of the request is done: the volunteer's visit and, for "both", the referral."""

    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)


class WaitingCounts(Payload):
    """How many things wait, and the oldest's age in hours: counts only, no person."""

    proposals_unreviewed = fields.Int(required=True)
    offers_unanswered = fields.Int(required=True)
    referrals_unanswered = fields.Int(required=True)
    visits_unrecorded = fields.Int(required=True)
    follow_ups_open = fields.Int(load_default=0)
    oldest_hours = fields.Float(load_default=None, allow_none=True)


@register("attention.digest")
class AttentionDigest(Payload):
    """Once a week, for one coordinator: what waits too long in their region. The address
    travels only to notify (as for an invitation), which sends it and keeps nothing."""

    region = fields.Str(required=True)
    email = fields.Email(required=True)
    language = language_field(required=True)
    week = fields.Date(required=True)  # the Monday of the week it covers
    counts = fields.Nested(WaitingCounts, required=True)
    link = fields.Url(required=True, require_tld=False)  # the attention page
