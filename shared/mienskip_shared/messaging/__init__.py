"""Messaging plumbing: topology, confirmed publishing, outbox relay, consumer loop."""

from .consumer import EventConsumer, MissingHandler, dispatch_by_type
from .outbox import (
    OutboxRelay,
    add_all_to_outbox,
    add_to_outbox,
    claim_inbox,
    claim_inbox_all,
    inbox_table,
    outbox_table,
)
from .publisher import ConfirmedPublisher, OutgoingMessage, PublishFailed, is_in_process
from .topology import Subscription, declare

__all__ = [
    "ConfirmedPublisher",
    "EventConsumer",
    "MissingHandler",
    "OutboxRelay",
    "OutgoingMessage",
    "PublishFailed",
    "Subscription",
    "add_all_to_outbox",
    "add_to_outbox",
    "claim_inbox",
    "claim_inbox_all",
    "declare",
    "dispatch_by_type",
    "inbox_table",
    "is_in_process",
    "outbox_table",
]
