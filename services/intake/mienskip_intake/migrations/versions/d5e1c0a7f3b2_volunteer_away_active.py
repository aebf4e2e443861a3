"""volunteers: away periods, paused or stopped, and a revision per change

A volunteer's record can change now (PATCH /v1/volunteers/{id}, the desk, their own
link page). ``revision`` counts the changes, so matching keeps only the newest of the
``volunteer.*`` events; ``stopped_at`` marks someone who stopped volunteering, erased
after the retention period. ``home_precision``: a home given by its Dutch address is
placed by the geocoder, as a request's location is. A kamer's ``phone``: a volunteer's own
page shows whom to call.

Revision ID: d5e1c0a7f3b2
Revises: 5e1c0a7d2b91
Create Date: 2026-12-05 02:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'd5e1c0a7f3b2'
down_revision = '5e1c0a7d2b91'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_kamers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('away', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('home_precision', sa.String(length=16), nullable=False,
                                      server_default='given'))


def downgrade() -> None:
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.drop_column('home_precision')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('revision')
        batch_op.drop_column('stopped_at')
        batch_op.drop_column('active')
        batch_op.drop_column('away')
    with op.batch_alter_table('intake_kamers', schema=None) as batch_op:
        batch_op.drop_column('phone')
