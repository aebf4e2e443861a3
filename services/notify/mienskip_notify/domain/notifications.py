"""A notification: one message owed to one recipient over one channel, and its identity.

A notification's key is derived from the event it answers, its recipient and its
channel, never drawn at random: a redelivered event yields the same key, so the
UNIQUE key in the database (and the e-mail's Message-ID) turns "at least once" into
"once" for everything but a crash between sending and recording (see the service layer).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# The events that cause messages. Templates: templates/<name>.<lang>.{txt,html,sms}.j2
MESSAGE_EVENTS = (
    "assignment.review_requested", "assignment.approved", "assignment.accepted", "assignment.declined",
    "request.cancelled", "request.escalated", "request.unmatched",
)
# A request referred to a care provider (issue 13): the provider, the kamer and the resident hear.
REFERRAL_EVENTS = ("referral.sent", "referral.accepted", "referral.declined", "referral.overdue")
MESSAGE_EVENTS += REFERRAL_EVENTS
# Person messages that a cancellation must follow (the volunteer was told of the task).
TOLD_OF_TASK = ("assignment.approved", "assignment.accepted")
PLEASE_CALL = "please_call"


@dataclass(frozen=True)
class Notification:
    key: str
    source_event_id: str
    source_event_type: str
    request_id: str | None
    kamer_id: str
    recipient_kind: str
    recipient: str  # an address for "email", a phone number for "sms"; "<channel>:<kamer_id>" otherwise
    channel: str
    template: str
    language: str
    context: Mapping[str, Any] = field(default_factory=dict, compare=False)
    # Where the channel delivers when that is not ``recipient`` (a webhook's URL): not part
    # of the identity, so a kamer that changes its URL still gets each event once.
    address: str | None = field(default=None, compare=False)
    # What a webhook carries besides the rendered text: the event itself.
    payload: Mapping[str, Any] | None = field(default=None, compare=False)
    # The person the message is for or about ("volunteer", volunteer id / "resident",
    # request id): what erasure and a later cancellation look for.
    subject_kind: str | None = None
    subject_id: str | None = None
    # Whose webhook secret signs it, when not the kamer's: a provider's (``provider:<id>``).
    signer: str | None = field(default=None, compare=False)

    @property
    def destination(self) -> str:
        return self.address or self.recipient


def notification_key(source_event_id: str, recipient: str, channel: str) -> str:
    """sha256 of the three parts, joined by a newline so ``("ab", "c")`` != ``("a", "bc")``."""
    raw = f"{source_event_id}\n{recipient}\n{channel}".encode()
    return hashlib.sha256(raw).hexdigest()


class SendFailed(Exception):
    """A message could not be delivered now; ``str(exc)`` holds no personal data."""
