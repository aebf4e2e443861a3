"""notify: contacts of volunteers and residents, tasks, held review messages, subjects.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notify_notifications") as batch:
        batch.add_column(sa.Column("subject_kind", sa.String(20), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.String(100), nullable=True))
    op.create_index("ix_notify_notifications_subject", "notify_notifications", ["subject_kind", "subject_id"])
    op.create_table(
        "notify_volunteers",
        sa.Column("volunteer_id", sa.String(100), primary_key=True),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notify_residents",
        sa.Column("request_id", sa.String(100), primary_key=True),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("first_name", sa.String(200), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("language", sa.String(10), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("neighbourhood", sa.String(200), nullable=True),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "notify_tasks",
        sa.Column("request_id", sa.String(100), primary_key=True),
        sa.Column("category", sa.String(30), nullable=True),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "notify_held_reviews",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("assignment_id", sa.String(100), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("kamer_id", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('held', 'released', 'withdrawn')", name="ck_notify_held_reviews_status"),
    )
    op.create_index("ix_notify_held_reviews_due", "notify_held_reviews", ["status", "due_at"])
    op.create_index("ix_notify_held_reviews_assignment_id", "notify_held_reviews", ["assignment_id"])
    op.create_index("ix_notify_held_reviews_request_id", "notify_held_reviews", ["request_id"])


def downgrade() -> None:
    op.drop_table("notify_held_reviews")
    op.drop_table("notify_tasks")
    op.drop_table("notify_residents")
    op.drop_table("notify_volunteers")
    op.drop_index("ix_notify_notifications_subject", table_name="notify_notifications")
    with op.batch_alter_table("notify_notifications") as batch:
        batch.drop_column("subject_id")
        batch.drop_column("subject_kind")
