"""erasure of residents

Revision ID: c02c5878c386
Revises: 41c94b51145c
Create Date: 2026-11-25 22:17:40.738343
"""
import sqlalchemy as sa
from alembic import op

revision = 'c02c5878c386'
down_revision = '41c94b51145c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('erased_at')

