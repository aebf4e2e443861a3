"""notify: messages due later. The schedule (reminders the day before, "how did it
go?", follow-up questions, the kamer's review digest), each kamer's reminder time and
follow-up days, and the kamer's digest of proposals ready for review.

Kamers registered before this revision get the defaults (18:00, 3 days) until their
next kamer.registered. Tasks accepted before it schedule nothing.

Revision ID: 0007_schedule
Revises: 0006_providers
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_schedule"
down_revision = "0006_providers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_schedule",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(100), nullable=False),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=True),
        sa.Column("assignment_id", sa.String(100), nullable=True),
        sa.Column("volunteer_id", sa.String(100), nullable=True),
        sa.Column("category", sa.String(30), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("correlation_id", sa.String(100), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("kind", "subject_id", name="uq_notify_schedule_kind_subject"),
        sa.CheckConstraint("status IN ('pending', 'planned', 'done', 'cancelled', 'failed')",
                           name="ck_notify_schedule_status"),
    )
    op.create_index("ix_notify_schedule_due", "notify_schedule", ["status", "due_at"])
    op.create_index("ix_notify_schedule_request_id", "notify_schedule", ["request_id"])
    op.create_index("ix_notify_schedule_volunteer_id", "notify_schedule", ["volunteer_id"])
    op.create_table(
        "notify_kamer_times",
        sa.Column("kamer_id", sa.String(100), primary_key=True),
        sa.Column("reminder_time", sa.String(5), nullable=False),
        sa.Column("follow_up_days", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notify_review_digests",
        sa.Column("kamer_id", sa.String(100), primary_key=True),
        sa.Column("last_mail_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("open_digest_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "notify_digest_reviews",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("digest_id", sa.String(36), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("assignment_id", sa.String(100), nullable=True),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_notify_digest_reviews_digest_id", "notify_digest_reviews", ["digest_id"])


def downgrade() -> None:
    op.drop_table("notify_digest_reviews")
    op.drop_table("notify_review_digests")
    op.drop_table("notify_kamer_times")
    op.drop_table("notify_schedule")
