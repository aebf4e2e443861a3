"""A recurring request may follow an earlier one of its series (continuity).

Revision ID: matching_0004
Revises: matching_0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0004"
down_revision = "matching_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matching_requests") as batch:
        batch.add_column(sa.Column("follows", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("matching_requests") as batch:
        batch.drop_column("follows")
