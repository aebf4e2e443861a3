from alembic import context

from mienskip_shared.db import run_migrations_online

run_migrations_online(context)
