"""numbered matching decisions

Revision ID: f28fa7ff4aea
Revises: c02c5878c386
Create Date: 2026-11-25 22:39:04.327981
"""
import sqlalchemy as sa
from alembic import op

revision = 'f28fa7ff4aea'
down_revision = 'c02c5878c386'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_decision', sa.Integer(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('last_decision')

