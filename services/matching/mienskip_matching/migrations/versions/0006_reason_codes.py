"""Unmatched reasons as codes: the volunteers considered replace the stored sentence.

Revision ID: matching_0006
Revises: matching_0005
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "matching_0006"
down_revision = "matching_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("matching_unmatched") as batch:
        batch.add_column(sa.Column("considered", sa.Integer, nullable=True))
        batch.drop_column("summary")


def downgrade() -> None:
    with op.batch_alter_table("matching_unmatched") as batch:
        batch.add_column(sa.Column("summary", sa.Text, nullable=False, server_default=""))
        batch.drop_column("considered")
