"""spreadsheet imports: an uploaded sheet between its preview and its import

A kamer's volunteer list waits here while the person who uploaded it checks the
preview: an hour at most, and after the import only the counts stay.

Revision ID: e3a9c4d1b7f0
Revises: 7a3e5b9c1d20
Create Date: 2026-12-05 02:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'e3a9c4d1b7f0'
down_revision = '7a3e5b9c1d20'  # main's head when this branch last merged it; the lead re-chains heads when merging
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'intake_imports',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('kamer_id', sa.String(length=36), nullable=False),
        sa.Column('uploaded_by', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=True),
        sa.Column('rows', sa.JSON(), nullable=True),
        sa.Column('mapping', sa.JSON(), nullable=True),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['kamer_id'], ['intake_kamers.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_intake_imports_created', 'intake_imports', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_intake_imports_created', table_name='intake_imports')
    op.drop_table('intake_imports')
