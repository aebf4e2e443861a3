"""notify's tables (prefix ``notify_``); migrations/versions/ creates the same shape."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mienskip_shared.db import UtcDateTime
from mienskip_shared.messaging import inbox_table, outbox_table

# pending: owed, maybe tried already (attempts, last_error); sent: delivered and announced;
# failed: given up for good and announced (notification.failed); a redelivery sends neither again.
STATUSES = ("pending", "sent", "failed")

metadata = MetaData()

# A kamer's contact points, copied from intake's kamer.registered events.
kamers = Table(
    "notify_kamers",
    metadata,
    Column("kamer_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("webhook_url", String(2000), nullable=True),
    Column("language", String(10), nullable=False),
    # occurred_at of the event that wrote the row: an older event never overwrites a newer one
    Column("as_of", UtcDateTime, nullable=False),
    Column("phone", String(50), nullable=True),  # whom a volunteer or provider calls with a question
)

# One row per message we owe someone. No bodies: they are rendered again from the event.
notifications = Table(
    "notify_notifications",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False),
    Column("source_event_id", String(36), nullable=False),
    Column("source_event_type", String(100), nullable=False),
    Column("request_id", String(100), nullable=True),
    Column("kamer_id", String(100), nullable=False),
    Column("recipient_kind", String(20), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("template", String(100), nullable=False),
    Column("language", String(10), nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    # the month ("2026-12") whose SMS budget this notification used; set once, so retries don't count again
    Column("sms_month", String(7), nullable=True),
    # the person it is for or about ("volunteer"/volunteer id, "resident"/request id): erasure
    # blanks their addresses here, a cancellation finds the volunteers who were told
    Column("subject_kind", String(20), nullable=True),
    Column("subject_id", String(100), nullable=True),
    UniqueConstraint("key", name="uq_notify_notifications_key"),
    CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_notify_notifications_status"),
    Index("ix_notify_notifications_source_event_id", "source_event_id"),
    Index("ix_notify_notifications_request_id", "request_id"),
    Index("ix_notify_notifications_subject", "subject_kind", "subject_id"),
)

# Contact data from contact.volunteer / contact.resident: the only personal data notify
# keeps, until personal_data.erased. Never logged. ``as_of`` as for kamers.
volunteers = Table(
    "notify_volunteers",
    metadata,
    Column("volunteer_id", String(100), primary_key=True),
    Column("kamer_id", String(100), nullable=False),
    Column("first_name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("language", String(10), nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

residents = Table(
    "notify_residents",
    metadata,
    Column("request_id", String(100), primary_key=True),  # a resident is known by their request
    Column("kamer_id", String(100), nullable=False),
    Column("first_name", String(200), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("language", String(10), nullable=False),
    Column("address", String(500), nullable=True),
    Column("neighbourhood", String(200), nullable=True),
    Column("as_of", UtcDateTime, nullable=False),
)

# A request's category and time, from the workflow events that carry them: what a
# cancellation (which carries neither) tells the volunteer. And when it was cancelled,
# from request.cancelled: an offer or confirmation arriving after it (another queue) is
# not sent to the volunteer or resident. No personal data.
tasks = Table(
    "notify_tasks",
    metadata,
    Column("request_id", String(100), primary_key=True),
    Column("category", String(30), nullable=True),
    Column("window_start", UtcDateTime, nullable=True),
    Column("window_end", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),  # the earliest request.cancelled's occurred_at
)

# SMS per kamer per month, counted when a notification takes its place in the budget.
sms_usage = Table(
    "notify_sms_usage",
    metadata,
    Column("kamer_id", String(100), nullable=False),
    Column("month", String(7), nullable=False),
    Column("used", Integer, nullable=False),
    PrimaryKeyConstraint("kamer_id", "month", name="pk_notify_sms_usage"),
)

# Care providers' contact points, from provider.registered|updated (organisations, not
# personal data). The highest ``revision`` wins, whichever event arrives first; ``as_of``
# breaks a tie. An inactive provider is sent no new referral.
providers = Table(
    "notify_providers",
    metadata,
    Column("provider_id", String(100), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("webhook_url", String(2000), nullable=True),
    Column("language", String(10), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

outbox = outbox_table(metadata, "notify")
inbox = inbox_table(metadata, "notify")
