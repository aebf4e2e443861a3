"""Tombstones of erased volunteers: a late volunteer event must not bring them back.

Revision ID: matching_0005
Revises: matching_0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0005"
down_revision = "matching_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "matching_erased_volunteers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("matching_erased_volunteers")
