"""Events published by matching."""

from marshmallow import fields

from .common import Payload
from .envelope import register


@register("assignment.proposed")
class AssignmentProposed(Payload):
    assignment_id = fields.Str(required=True)
    request_id = fields.Str(required=True)
    volunteer_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    distance_km = fields.Float(required=True)
    # Human-readable why: skills matched, availability overlap, load, runner-up.
    explanation = fields.Dict(required=True)
    # The how-manieth decision about this request (1, 2, ...): events travel on separate
    # queues, so consumers use it to ignore a decision that arrives after a newer one.
    decision = fields.Int(load_default=0)


@register("request.unmatched")
class RequestUnmatched(Payload):
    request_id = fields.Str(required=True)
    kamer_id = fields.Str(required=True)
    region = fields.Str(required=True)
    # rule name -> number of volunteers that rule excluded
    reasons = fields.Dict(keys=fields.Str(), values=fields.Int(), required=True)
    summary = fields.Str(required=True)
    decision = fields.Int(load_default=0)
