"""notify's tables for messages that fall due later (migration 0007_schedule): the
schedule, each kamer's times, and the kamer's digest of proposals ready for review.
No personal data: ids, codes and times; contacts are read at the moment of sending."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from mienskip_shared.db import UtcDateTime

from .tables import metadata

# pending: waits for due_at; planned: claimed and its messages planned (due_at is then
# when to look again should the process stop before recording the outcome, or the next
# try after a failed send); done: sent (or nothing left to send); cancelled: the task
# was cancelled, declined or the person erased before it was due; failed: given up.
SCHEDULE_STATUSES = ("pending", "planned", "done", "cancelled", "failed")

schedule = Table(
    "notify_schedule",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # reminder, how_did_it_go, follow_up, review_digest
    Column("subject_id", String(100), nullable=False),  # the assignment; a review digest's own id
    Column("kamer_id", String(100), nullable=False),
    Column("request_id", String(100), nullable=True),
    Column("assignment_id", String(100), nullable=True),
    Column("volunteer_id", String(100), nullable=True),
    Column("category", String(30), nullable=True),
    Column("window_start", UtcDateTime, nullable=True),
    Column("window_end", UtcDateTime, nullable=True),
    Column("correlation_id", String(100), nullable=True),
    Column("due_at", UtcDateTime, nullable=False),
    Column("status", String(10), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    UniqueConstraint("kind", "subject_id", name="uq_notify_schedule_kind_subject"),
    CheckConstraint("status IN ('pending', 'planned', 'done', 'cancelled', 'failed')",
                    name="ck_notify_schedule_status"),
    Index("ix_notify_schedule_due", "status", "due_at"),
    Index("ix_notify_schedule_request_id", "request_id"),
    Index("ix_notify_schedule_volunteer_id", "volunteer_id"),
)

# From kamer.registered: when reminders go, how many days after a task the follow-up.
kamer_times = Table(
    "notify_kamer_times",
    metadata,
    Column("kamer_id", String(100), primary_key=True),
    Column("reminder_time", String(5), nullable=False),  # "HH:MM", Europe/Amsterdam
    Column("follow_up_days", Integer, nullable=False),
    Column("as_of", UtcDateTime, nullable=False),
)

# Per kamer: when its last "ready for review" mail (or digest) went, and its open digest.
review_digests = Table(
    "notify_review_digests",
    metadata,
    Column("kamer_id", String(100), primary_key=True),
    Column("last_mail_at", UtcDateTime, nullable=True),
    Column("open_digest_id", String(36), nullable=True),
)

# A proposal whose mail was held for a digest: which digest, and what it lists.
digest_reviews = Table(
    "notify_digest_reviews",
    metadata,
    Column("event_id", String(36), primary_key=True),  # the assignment.review_requested
    Column("kamer_id", String(100), nullable=False),
    Column("digest_id", String(36), nullable=False),
    Column("request_id", String(100), nullable=False),
    Column("assignment_id", String(100), nullable=True),
    Column("proposed_at", UtcDateTime, nullable=False),
    Index("ix_notify_digest_reviews_digest_id", "digest_id"),
)
