"""A recurring request may follow an earlier one of its series (continuity).

Revision ID: b698b8bafa7a
Revises: f28fa7ff4aea
Create Date: 2026-11-26 00:32:18.265988
"""
import sqlalchemy as sa
from alembic import op

revision = 'b698b8bafa7a'
down_revision = 'f28fa7ff4aea'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('follows', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('follows')
