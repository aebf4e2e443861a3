"""Field groups that several events carry."""

from marshmallow import EXCLUDE, Schema, fields, validate

from .vocabulary import CATEGORIES, DAYS, LANGUAGES


class Payload(Schema):
    """Base of every payload: consumers ignore fields added by a newer producer."""

    class Meta:
        unknown = EXCLUDE


class Point(Payload):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class Window(Payload):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class WeeklySlot(Payload):
    day = fields.Str(required=True, validate=validate.OneOf(DAYS))
    start = fields.Str(required=True, data_key="from", validate=validate.Regexp(r"^\d\d:\d\d$"))
    end = fields.Str(required=True, data_key="to", validate=validate.Regexp(r"^\d\d:\d\d$"))


def skills_field(**kwargs) -> fields.List:
    return fields.List(fields.Str(validate=validate.OneOf(CATEGORIES)), **kwargs)


def language_field(**kwargs) -> fields.Str:
    return fields.Str(validate=validate.OneOf(LANGUAGES), **kwargs)
