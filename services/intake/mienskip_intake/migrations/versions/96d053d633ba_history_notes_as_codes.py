"""history notes as codes

What intake says in a request's history ("approved by policy", "within 48 hours: urgent",
a delivery report) is stored as a code with parameters and worded where it is read, in
the reader's language; ``note`` keeps free text people typed. Rows from before keep
their sentence in ``note`` and are shown as they are.

Revision ID: 96d053d633ba
Revises: 928d26af700e
Create Date: 2026-12-05 00:45:00
"""
import sqlalchemy as sa
from alembic import op

revision = '96d053d633ba'
down_revision = '928d26af700e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_request_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note_code', sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column('note_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intake_request_history', schema=None) as batch_op:
        batch_op.drop_column('note_params')
        batch_op.drop_column('note_code')
