"""workflow: urgent requests and auto-approve policies

Revision ID: 41c94b51145c
Revises: a8991f48c2b4
Create Date: 2026-11-25 22:10:41.152254
"""
import sqlalchemy as sa
from alembic import op

revision = '41c94b51145c'
down_revision = 'a8991f48c2b4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('intake_auto_approve',
    sa.Column('kamer_id', sa.String(length=36), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('set_by', sa.String(length=36), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id'], ),
    sa.PrimaryKeyConstraint('kamer_id', 'category')
    )
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('urgent')

    op.drop_table('intake_auto_approve')
