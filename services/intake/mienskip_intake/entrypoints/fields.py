"""How the API reads one value: text without control characters, numbers that are JSON
numbers, moments that can be written in UTC, and schemas that refuse unknown fields.
The bodies built from these are in :mod:`.schemas`."""

import re
from datetime import UTC

from marshmallow import RAISE, Schema, ValidationError, fields, validate

# Friesland and the rest of the Netherlands, with a margin: a point outside is a typo.
LAT_RANGE = validate.Range(min=50.5, max=54.0)
LON_RANGE = validate.Range(min=3.0, max=7.5)
TIME_OF_DAY = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be HH:MM")
PHONE = validate.Regexp(r"^\+?[0-9 ()-]{6,20}$", error="must be a phone number, e.g. +31612345678")


# C0 and C1 control characters (DEL too) and lone surrogates: nothing a person types,
# refused by PostgreSQL (NUL) or by UTF-8 itself (surrogates). Free text keeps its tabs
# and line breaks (CR LF, as a browser's textarea sends them).
_NOT_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_NOT_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def is_plain_text(value: str, *, free: bool = False) -> bool:
    """No control characters (but tab and line breaks in ``free`` text) and no lone surrogates."""
    return (_NOT_FREE_TEXT if free else _NOT_TEXT).search(value) is None


class PlainText(validate.Validator):
    """The one check every string field of a body or query runs first (see :class:`Text`)."""

    def __init__(self, *, free: bool = False):
        self.free = free

    def __call__(self, value: str) -> str:
        if not is_plain_text(value, free=self.free):
            raise ValidationError("must not contain control characters or lone surrogates"
                                  + ("" if self.free else " (nor line breaks)"))
        return value


class Text(fields.String):
    """A string a client sends: plain text (:class:`PlainText`) before any other check,
    so a regex's ``$`` never lets a trailing line break through. ``free=True``: free
    text (notes, reasons), which may hold tabs and line breaks."""

    def __init__(self, *, free: bool = False, validate=None, **kwargs):
        others = [] if validate is None else list(validate) if isinstance(validate, (list, tuple)) else [validate]
        super().__init__(validate=[PlainText(free=free), *others], **kwargs)

    def _validate(self, value):
        for validator in self.validators:  # PlainText first, and the first problem is the one told
            validator(value)


class EmailText(fields.Email):
    """An e-mail address, plain text first (as :class:`Text`)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators.insert(0, PlainText())

    def _validate(self, value):
        for validator in self.validators:
            validator(value)


class JsonNumber(fields.Float):
    """A number in a JSON body: a JSON number, never a string or a boolean (one rule for
    floats and integers: ``"53.2"`` is refused as ``2`` would be), and never NaN or infinite."""

    def __init__(self, **kwargs):
        super().__init__(allow_nan=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonInteger(fields.Integer):
    """A whole number in a JSON body; a string or a boolean is refused as :class:`JsonNumber` does."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        if isinstance(value, float):
            raise ValidationError("must be a whole number")
        return super()._deserialize(value, attr, data, **kwargs)


class Instant(fields.AwareDateTime):
    """A moment with an offset that can be written in UTC: ``0001-01-01T00:00:00+14:00``
    cannot (it lies before year 1 in UTC), so it is refused here, not by the database."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment.astimezone(UTC)
        except OverflowError as exc:
            raise ValidationError("is out of range") from exc
        return moment


class Strict(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


class WebhookUrl(validate.Validator):
    """A webhook address: https, or http only to this machine (a test or a local relay)."""

    LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

    def __call__(self, value: str) -> str:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError as exc:
            raise ValidationError("must be an https:// address") from exc
        if not host or parts.scheme not in ("http", "https"):
            raise ValidationError("must be an https:// address")
        if parts.scheme == "http" and host not in self.LOCAL_HOSTS:
            raise ValidationError("must be https:// (http only to localhost)")
        return value
