"""Events published by notify: delivery outcomes flow back into the request's history.

``notification.sent`` version 2 carries the notifications one of notify's batches sent to
one kamer's people (``deliveries``, in the order sent), where version 1 carried one: an
e-mail then costs its own outbox row, relay publish and broker message no more. Intake
still reads version 1, which an older notify or a replayed dead letter may bring.
"""

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


class SentDelivery(_Delivery):
    correlation_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))  # its cause's


MAX_DELIVERIES = 500  # more than a batch holds (MIENSKIP_BATCH_MAX_SIZE); notify splits beyond it


@register("notification.sent", 2)
class NotificationsSent(Payload):
    deliveries = fields.List(fields.Nested(SentDelivery), required=True,
                             validate=validate.Length(min=1, max=MAX_DELIVERIES))


@register("notification.failed")
class NotificationFailed(_Delivery):
    error = fields.Str(required=True)
    attempts = fields.Int(required=True)
