"""Past proposals and exclusions: re-matching after a rejection or decline.

Revision ID: matching_0002
Revises: matching_0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0002"
down_revision = "matching_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matching_past_proposals",
        sa.Column("assignment_id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("volunteer_id", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_matching_past_proposals_request_id", "matching_past_proposals", ["request_id"])
    op.create_table(
        "matching_exclusions",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("volunteer_id", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("matching_exclusions")
    op.drop_index("ix_matching_past_proposals_request_id", "matching_past_proposals")
    op.drop_table("matching_past_proposals")
