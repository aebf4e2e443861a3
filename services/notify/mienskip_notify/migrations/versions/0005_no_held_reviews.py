"""notify: no more held review messages. Intake says when a proposal needs a person's
review (assignment.review_requested), so notify no longer holds "ready for review" to
see whether an auto-approval follows.

A review still held when the previous notify stopped (at most its hold, 10 s, or a
failing one's retries) is not sent: it is logged here by kamer and assignment (ids
only), and the proposal is on the kamer's review page as every proposal is. The
downgrade brings back an empty table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import structlog
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = structlog.get_logger(__name__)


def upgrade() -> None:
    unsent = op.get_bind().execute(sa.text(
        "SELECT kamer_id, assignment_id FROM notify_held_reviews WHERE status = 'held' ORDER BY kamer_id, due_at"
    )).all()
    for kamer_id in sorted({row.kamer_id for row in unsent}):
        log.warning("migration.held_review_not_sent", kamer_id=kamer_id,
                    assignment_ids=[row.assignment_id for row in unsent if row.kamer_id == kamer_id],
                    hint="these proposals are on the kamer's review page; no 'ready for review' message went out")
    op.drop_table("notify_held_reviews")  # its indexes go with it


def downgrade() -> None:
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
