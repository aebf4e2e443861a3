"""Versioned event contracts: the only thing services share about each other.

Importing this package registers every payload schema.
"""

from . import intake, matching, notify, referrals, visits  # noqa: F401  (registers payload schemas)
from .envelope import (
    Envelope,
    InvalidMessage,
    distinct,
    known_event_types,
    latest_version,
    new_event,
    parse,
)

__all__ = [
    "Envelope",
    "InvalidMessage",
    "distinct",
    "known_event_types",
    "latest_version",
    "new_event",
    "parse",
]
