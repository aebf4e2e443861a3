"""Index the request each request follows: matching asks, per batch, which weekly series
have no follow-up yet (their next occurrence is held for their volunteer).

Revision ID: matching_0007_series
Revises: matching_0006
Create Date: 2026-12-05
"""

from alembic import op

revision = "matching_0007_series"
down_revision = "matching_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_matching_requests_follows", "matching_requests", ["follows"])


def downgrade() -> None:
    op.drop_index("ix_matching_requests_follows", table_name="matching_requests")
