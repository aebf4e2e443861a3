"""The JSON envelope every event travels in, and the registry of payload schemas.

An envelope is ``{event_id, event_type, schema_version, occurred_at, correlation_id,
kamer_id, data}``. Both ends validate it with the same marshmallow schemas: the
producer before the event enters its outbox, the consumer before it acts. Anything
that does not validate is an :class:`InvalidMessage` and goes to the dead-letter queue.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate


class InvalidMessage(Exception):
    """A message that no retry can fix: bad JSON, unknown type or version, bad field."""


@dataclass(frozen=True)
class Envelope:
    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    correlation_id: str
    kamer_id: str | None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The wire form; ``data`` is dumped through its payload schema (dates to ISO)."""
        schema = _PAYLOADS.get((self.event_type, self.schema_version))
        wire = _ENVELOPE.dump(self)
        if schema is not None:
            wire["data"] = schema.dump(self.data)
        return json.dumps(wire, ensure_ascii=False, separators=(",", ":"))


class _EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    schema_version = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    correlation_id = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    kamer_id = fields.Str(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


_ENVELOPE = _EnvelopeSchema()

# (event_type, schema_version) -> payload schema; filled by the per-producer modules.
_PAYLOADS: dict[tuple[str, int], Schema] = {}


def register(event_type: str, version: int = 1):
    """Class decorator: ``schema`` is the payload of ``event_type`` at ``version``."""

    def decorate(schema_cls: type[Schema]) -> type[Schema]:
        key = (event_type, version)
        if key in _PAYLOADS:
            raise RuntimeError(f"payload schema {key} registered twice")
        _PAYLOADS[key] = schema_cls()
        return schema_cls

    return decorate


def known_event_types() -> list[str]:
    return sorted({event_type for event_type, _ in _PAYLOADS})


def latest_version(event_type: str) -> int:
    versions = [v for (t, v) in _PAYLOADS if t == event_type]
    if not versions:
        raise KeyError(f"no payload schema for {event_type!r}")
    return max(versions)


def new_event(
    event_type: str,
    data: dict[str, Any],
    *,
    correlation_id: str,
    kamer_id: str | None = None,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """Build an envelope at the latest schema version, validating the payload now.

    Producers call this before writing the outbox row, so a bad event fails the
    business transaction instead of poisoning a queue later. ``data`` uses the
    schemas' Python names and types (``datetime``, ``date``; a weekly slot's
    ``start``/``end``, which travel as ``from``/``to``), as ``parse`` returns them.
    """
    version = latest_version(event_type)
    schema = _PAYLOADS[(event_type, version)]
    try:  # one dump and one load: the wire form, checked and read back as a consumer reads it
        checked = schema.load(schema.dump(data))
    except ValidationError as exc:
        raise ValueError(f"invalid {event_type} payload: {exc.messages}") from None
    return Envelope(
        event_id=event_id or str(uuid.uuid4()),
        event_type=event_type,
        schema_version=version,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id,
        kamer_id=kamer_id,
        data=checked,
    )


def distinct(envelopes: Iterable[Envelope]) -> list[Envelope]:
    """Each event once, in the order it first came: a batch of deliveries can hold the same
    event twice (a redelivery overtaking its ack), and an inbox claims a batch of distinct ones."""
    return list({envelope.event_id: envelope for envelope in envelopes}.values())


def parse(body: bytes | str | dict) -> Envelope:
    """Decode and validate one message body; raise :class:`InvalidMessage` if it is poison."""
    if isinstance(body, (bytes, bytearray)):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMessage(f"body is not UTF-8: {exc}") from exc
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError as exc:
            raise InvalidMessage(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidMessage("envelope must be a JSON object")
    try:
        raw = _ENVELOPE.load(body)
    except ValidationError as exc:
        raise InvalidMessage(f"invalid envelope: {exc.messages}") from exc
    key = (raw["event_type"], raw["schema_version"])
    schema = _PAYLOADS.get(key)
    if schema is None:
        raise InvalidMessage(f"unknown event type or schema version: {key}")
    try:
        data = schema.load(raw["data"])
    except ValidationError as exc:
        raise InvalidMessage(f"invalid {key[0]} payload: {exc.messages}") from exc
    return Envelope(
        event_id=str(raw["event_id"]),
        event_type=raw["event_type"],
        schema_version=raw["schema_version"],
        occurred_at=raw["occurred_at"],
        correlation_id=raw["correlation_id"],
        kamer_id=raw["kamer_id"],
        data=data,
    )
