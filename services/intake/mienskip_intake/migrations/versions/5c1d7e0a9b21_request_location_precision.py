"""request location precision, the exact lookup still due, the resident's e-mail

A request placed by its Dutch address keeps how exact its location is (``exact``,
``postcode4``, or ``given`` for a typed latitude/longitude: every request before this),
and, while the outside geocoder was away, the address to look up again. The desk asks
for the resident's e-mail (optional); it is erased with the rest.

Revision ID: 5c1d7e0a9b21
Revises: 96d053d633ba
Create Date: 2026-12-05 02:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5c1d7e0a9b21'
down_revision = '96d053d633ba'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resident_email', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('location_precision', sa.String(length=10), nullable=False,
                                      server_default='given'))
        batch_op.add_column(sa.Column('exact_lookup', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('intake_requests', schema=None) as batch_op:
        batch_op.drop_column('exact_lookup')
        batch_op.drop_column('location_precision')
        batch_op.drop_column('resident_email')
