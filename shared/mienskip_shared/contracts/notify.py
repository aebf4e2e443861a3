"""Events published by notify: delivery outcomes flow back into the request's history."""

from marshmallow import fields, validate

from .common import Payload
from .envelope import register
from .vocabulary import CHANNELS, RECIPIENT_KINDS


class _Delivery(Payload):
    notification_id = fields.Str(required=True)
    source_event_id = fields.Str(required=True)
    source_event_type = fields.Str(required=True)
    request_id = fields.Str(load_default=None, allow_none=True)
    recipient_kind = fields.Str(required=True, validate=validate.OneOf(RECIPIENT_KINDS))
    channel = fields.Str(required=True, validate=validate.OneOf(CHANNELS))
    template = fields.Str(required=True)
    language = fields.Str(required=True)


@register("notification.sent")
class NotificationSent(_Delivery):
    pass


@register("notification.failed")
class NotificationFailed(_Delivery):
    error = fields.Str(required=True)
    attempts = fields.Int(required=True)
