"""a volunteer's home still to look up exactly; volunteers' names as a duplicate key

A volunteer whose home was placed on its postcode area's centre while the outside
geocoder was away keeps the address to look up again (``home_exact_lookup``), as a
request does (``exact_lookup``). ``name_key`` is the name with its spaces collapsed and
its case folded (``domain.volunteers.name_key``): the likely-duplicate check finds
"Anna  de Vries" for "anna de vries"; existing rows get theirs here.

Revision ID: c7f3a9e21d64
Revises: a7c3e91f5d28
Create Date: 2026-12-05 05:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c7f3a9e21d64'
down_revision = 'a7c3e91f5d28'
branch_labels = None
depends_on = None

BATCH = 1000


def _name_key(name):
    # The rule of domain.volunteers.name_key, as it is today (a migration never changes with the code).
    return " ".join((name or "").split()).casefold()


def upgrade() -> None:
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('home_exact_lookup', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.Text(), nullable=True))
        batch_op.create_index('ix_intake_volunteers_kamer_name_key', ['kamer_id', 'name_key'], unique=False)
    volunteers = sa.table('intake_volunteers', sa.column('id', sa.String), sa.column('name', sa.Text),
                          sa.column('name_key', sa.Text))
    conn = op.get_bind()
    while True:
        rows = conn.execute(sa.select(volunteers.c.id, volunteers.c.name).where(volunteers.c.name_key.is_(None))
                            .order_by(volunteers.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            conn.execute(sa.update(volunteers).where(volunteers.c.id == row.id).values(name_key=_name_key(row.name)))


def downgrade() -> None:
    with op.batch_alter_table('intake_volunteers', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_volunteers_kamer_name_key')
        batch_op.drop_column('name_key')
        batch_op.drop_column('home_exact_lookup')
